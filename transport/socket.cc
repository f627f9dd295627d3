#include "transport/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll {

std::string errno_text(int err) { return std::strerror(err); }

void print_error(const std::string& message) {
  const std::string line = "sxcoll: " + message + "\n";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace sxcoll

namespace sxcoll::net {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string HostPort::str() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

HostPort parse_host_port(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("{}='{}' is not host:port ({})", what, text, why));
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw bad("expected [address]:port");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) throw bad("no ':port'");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) throw bad("empty host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
    throw bad("port is not a number");
  unsigned long value = std::stoul(std::string(port));
  if (value == 0 || value > 65535) throw bad("port out of range 1-65535");
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

AddrInfoPtr resolve(const std::string& host, uint16_t port, bool passive, std::string_view what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* result = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &result);
  if (rc != 0) throw UsageError(fmt::format("{}: cannot resolve '{}': {}", what, host, gai_strerror(rc)));
  return AddrInfoPtr(result);
}

HostPort address_of(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    return HostPort{buf, ntohs(sin->sin_port)};
  }
  auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
  return HostPort{buf, ntohs(sin6->sin6_port)};
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_fd(int fd, short events, const Deadline& deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, deadline.poll_timeout_ms(1000));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
    if (deadline.expired()) return false;
  }
}

}  // namespace

Fd listen_tcp(const std::string& host, uint16_t port) {
  auto ai = resolve(host, port, true, "listen");
  Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
  if (!fd.valid()) throw RunError(fmt::format("socket(): {}", errno_text(errno)));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0)
    throw RunError(fmt::format("bind({}:{}): {}", host, port, errno_text(errno)));
  if (::listen(fd.get(), SOMAXCONN) != 0) throw RunError(fmt::format("listen(): {}", errno_text(errno)));
  return fd;
}

HostPort local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return address_of(ss);
}

HostPort peer_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return address_of(ss);
}

Fd connect_tcp(const HostPort& where, const Deadline& deadline, std::string_view what) {
  auto ai = resolve(where.host, where.port, false, what);
  std::string last_error = "timed out";
  for (;;) {
    for (addrinfo* a = ai.get(); a != nullptr; a = a->ai_next) {
      Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
      if (!fd.valid()) continue;
      if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) {
        set_nodelay(fd.get());
        return fd;
      }
      last_error = errno_text(errno);
    }
    if (deadline.expired()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw RunError(fmt::format("{}: cannot connect to {}: {}", what, where.str(), last_error));
}

Fd accept_tcp(int listen_fd, const Deadline& deadline, std::string_view what) {
  if (!wait_fd(listen_fd, POLLIN, deadline))
    throw RunError(fmt::format("{}: no connection arrived in time", what));
  Fd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) throw RunError(fmt::format("{}: accept(): {}", what, errno_text(errno)));
  set_nodelay(fd.get());
  return fd;
}

void send_all(int fd, const void* data, size_t len, const Deadline& deadline, std::string_view what) {
  auto* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_fd(fd, POLLOUT, deadline)) throw RunError(fmt::format("{}: send timed out", what));
      continue;
    }
    throw RunError(fmt::format("{}: send failed: {}", what, errno_text(errno)));
  }
}

void recv_all(int fd, void* data, size_t len, const Deadline& deadline, std::string_view what) {
  auto* p = static_cast<char*>(data);
  while (len > 0) {
    ssize_t n = ::recv(fd, p, len, MSG_DONTWAIT);
    if (n > 0) {
      p += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) throw RunError(fmt::format("{}: connection closed by the other side", what));
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_fd(fd, POLLIN, deadline)) throw RunError(fmt::format("{}: receive timed out", what));
      continue;
    }
    throw RunError(fmt::format("{}: receive failed: {}", what, errno_text(errno)));
  }
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void set_blocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace sxcoll::net
