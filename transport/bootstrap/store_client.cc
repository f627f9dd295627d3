#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/core.h>

#include "transport/bootstrap/store.h"
#include "transport/bootstrap/wire.h"
#include "transport/error.h"

namespace sxcoll::bootstrap {

namespace {

std::string read_frame(int fd, const Deadline& deadline, std::string_view what) {
  uint32_t len = 0;
  net::recv_all(fd, &len, 4, deadline, what);
  if (len > wire::kMaxFrame) throw RunError(fmt::format("{}: oversized store message ({} bytes)", what, len));
  std::string body(len, '\0');
  net::recv_all(fd, body.data(), len, deadline, what);
  return body;
}

net::Fd open_session(const net::HostPort& master, const std::string& token, int rank, wire::Role role,
                     const Deadline& deadline) {
  auto what = fmt::format("bootstrap: store at {}", master.str());
  net::Fd fd = net::connect_tcp(master, deadline, what);
  auto hello = wire::Writer().op(wire::Op::Hello).str(token).u32(static_cast<uint32_t>(rank)).u8(static_cast<uint8_t>(role)).frame();
  net::send_all(fd.get(), hello.data(), hello.size(), deadline, what);
  auto body = read_frame(fd.get(), deadline, what);
  wire::Reader r(body);
  if (r.op() != wire::Op::Ok) throw UsageError(fmt::format("{} refused rank {}: {}", what, rank, r.str()));
  return fd;
}

}  // namespace

StoreClient::StoreClient(const net::HostPort& master, const std::string& token, int rank, const Deadline& deadline)
    : master_(master),
      token_(token),
      rank_(rank),
      data_(open_session(master, token, rank, wire::Role::Data, deadline)),
      liveness_(open_session(master, token, rank, wire::Role::Liveness, deadline)) {}

std::string StoreClient::request(const std::string& frame, const Deadline& deadline) {
  auto what = fmt::format("bootstrap: store at {}", master_.str());
  net::send_all(data_.get(), frame.data(), frame.size(), deadline, what);
  return read_frame(data_.get(), deadline, what);
}

void StoreClient::set(const std::string& key, const std::string& value) {
  request(wire::Writer().op(wire::Op::Set).str(key).str(value).frame(), Deadline(std::chrono::seconds(60)));
}

std::optional<std::vector<std::string>> StoreClient::get(const std::vector<std::string>& keys, const Deadline& deadline) {
  wire::Writer w;
  w.op(wire::Op::Get).u32(static_cast<uint32_t>(keys.size()));
  for (const auto& k : keys) w.str(k);
  auto frame = w.frame();
  auto what = fmt::format("bootstrap: store at {}", master_.str());
  net::send_all(data_.get(), frame.data(), frame.size(), deadline, what);
  // Wait in slices so that an abort from the store (a rank died) ends the wait early.
  for (;;) {
    pollfd p[2] = {{data_.get(), POLLIN, 0}, {liveness_.get(), POLLIN, 0}};
    int rc = ::poll(p, 2, deadline.poll_timeout_ms(200));
    if (rc > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) break;
    if (rc > 0 && p[1].revents) {
      if (auto reason = poll_abort()) throw RunError(*reason);
    }
    if (deadline.expired()) {
      // The reply may still come; this connection's framing is lost, so drop it.
      data_.reset();
      return std::nullopt;
    }
  }
  auto body = read_frame(data_.get(), deadline, what);
  wire::Reader r(body);
  if (r.op() != wire::Op::Values) throw RunError(what + ": unexpected reply");
  std::vector<std::string> values(r.u32());
  for (auto& v : values) v = r.str();
  return values;
}

std::vector<int> StoreClient::joined() {
  if (!data_.valid()) data_ = open_session(master_, token_, rank_, wire::Role::Data, Deadline(std::chrono::seconds(5)));
  auto body = request(wire::Writer().op(wire::Op::Joined).frame(), Deadline(std::chrono::seconds(10)));
  wire::Reader r(body);
  r.op();
  std::vector<int> ranks(r.u32());
  for (auto& rank : ranks) rank = std::stoi(r.str());
  return ranks;
}

std::optional<std::string> StoreClient::poll_abort() {
  if (abort_reason_) return abort_reason_;
  if (!liveness_.valid()) return std::nullopt;
  pollfd p{liveness_.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return std::nullopt;
  char peek;
  ssize_t n = ::recv(liveness_.get(), &peek, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) {
    abort_reason_ = fmt::format("rank 0 lost: the bootstrap store it served at {} closed", master_.str());
    return abort_reason_;
  }
  try {
    auto body = read_frame(liveness_.get(), Deadline(std::chrono::seconds(5)), "bootstrap: liveness");
    wire::Reader r(body);
    if (r.op() == wire::Op::Abort) abort_reason_ = r.str();
  } catch (const std::exception&) {
    abort_reason_ = fmt::format("rank 0 lost: the bootstrap store it served at {} closed", master_.str());
  }
  return abort_reason_;
}

void StoreClient::abort(const std::string& reason) {
  if (said_goodbye_ || !liveness_.valid()) return;
  said_goodbye_ = true;
  auto frame = wire::Writer().op(wire::Op::Abort).str(reason).frame();
  try {
    net::send_all(liveness_.get(), frame.data(), frame.size(), Deadline(std::chrono::seconds(2)), "bootstrap: abort");
  } catch (const std::exception&) {
  }
}

void StoreClient::goodbye() {
  if (said_goodbye_ || !liveness_.valid()) return;
  said_goodbye_ = true;
  auto frame = wire::Writer().op(wire::Op::Bye).frame();
  try {
    net::send_all(liveness_.get(), frame.data(), frame.size(), Deadline(std::chrono::seconds(2)), "bootstrap: goodbye");
  } catch (const std::exception&) {
  }
}

std::string StoreClient::local_host() const { return net::local_address(liveness_.get()).host; }

}  // namespace sxcoll::bootstrap
