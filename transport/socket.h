// Blocking-with-deadline socket helpers shared by the bootstrap store and the TCP backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "transport/deadline.h"

namespace sxcoll::net {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string str() const;
};

// "host:port" or "[v6addr]:port". Throws UsageError naming `what` (e.g. "SXCOLL_MASTER").
HostPort parse_host_port(std::string_view text, std::string_view what);

// Listens on host:port (port 0: any free port) with a deep backlog, so that peers
// connecting before we accept are queued by the kernel rather than refused.
Fd listen_tcp(const std::string& host, uint16_t port);
HostPort local_address(int fd);
HostPort peer_address(int fd);

// Connects, retrying refused/unreachable attempts until the deadline (the peer may not
// listen yet). An unresolvable host is a UsageError at once; the deadline a RunError.
Fd connect_tcp(const HostPort& where, const Deadline& deadline, std::string_view what);
Fd accept_tcp(int listen_fd, const Deadline& deadline, std::string_view what);

// Blocking transfer of exactly len bytes, within the deadline. Throws RunError naming
// `what` on EOF, error or timeout.
void send_all(int fd, const void* data, size_t len, const Deadline& deadline, std::string_view what);
void recv_all(int fd, void* data, size_t len, const Deadline& deadline, std::string_view what);

void set_nonblocking(int fd);
void set_blocking(int fd);
void set_nodelay(int fd);

}  // namespace sxcoll::net
