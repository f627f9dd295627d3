#include "transport/tcp/stream.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/tcp/context.h"

namespace sxcoll::transport::tcp {

namespace {

int no_wait_flag(Io io) { return io == Io::NoWait ? MSG_DONTWAIT : 0; }

}  // namespace

Stream::Stream(net::Fd fd) : fd_(std::move(fd)) { net::set_blocking(fd_.get()); }

bool Stream::send(OutStripe& op, Context& context, Io io) {
  const size_t total = sizeof(StripeHeader) + op.header.length;
  while (op.sent < total) {
    iovec iov[2];
    int n = 0;
    if (op.sent < sizeof(StripeHeader)) {
      iov[n++] = {reinterpret_cast<char*>(&op.header) + op.sent, sizeof(StripeHeader) - op.sent};
      if (op.header.length > 0) iov[n++] = {const_cast<char*>(op.payload), op.header.length};
    } else {
      const size_t done = op.sent - sizeof(StripeHeader);
      iov[n++] = {const_cast<char*>(op.payload) + done, op.header.length - done};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    const ssize_t rc = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | no_wait_flag(io));
    if (rc < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      throw StreamFailure(fmt::format("send failed: {}", errno_text(errno)));
    }
    op.sent += static_cast<size_t>(rc);
    context.count_sent(static_cast<uint64_t>(rc));
  }
  return true;
}

std::optional<StripeHeader> Stream::receive(Context& context, Io io) {
  for (;;) {
    const bool in_header = in_header_got_ < sizeof(StripeHeader);
    if (!in_header && in_got_ == in_header_.length) {
      // A whole stripe (a notify has no payload): hand it over, start the next.
      in_header_got_ = 0;
      in_got_ = 0;
      return in_header_;
    }
    char* into = in_header ? reinterpret_cast<char*>(&in_header_) + in_header_got_ : in_dest_ + in_got_;
    const size_t want = in_header ? sizeof(StripeHeader) - in_header_got_ : in_header_.length - in_got_;
    const ssize_t rc = ::recv(fd_.get(), into, want, no_wait_flag(io));
    if (rc == 0) throw StreamFailure("closed by the peer (its process exited or crashed)");
    if (rc < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      throw StreamFailure(fmt::format("receive failed: {}", errno_text(errno)));
    }
    context.count_received(static_cast<uint64_t>(rc));
    if (!in_header) {
      in_got_ += static_cast<size_t>(rc);
      continue;
    }
    in_header_got_ += static_cast<size_t>(rc);
    if (in_header_got_ < sizeof(StripeHeader)) continue;
    const StripeHeader& h = in_header_;
    if (h.magic != kStripeMagic) throw StreamFailure("stream out of sync (bad stripe header)");
    if (h.nstripes < 1 || h.nstripes > kMaxStripes)
      throw StreamFailure(fmt::format("stream out of sync (a write in {} stripes)", h.nstripes));
    in_dest_ = nullptr;
    if (h.length > 0) {
      in_dest_ = context.destination(h.region_id, h.offset, h.length);
      if (in_dest_ == nullptr)
        throw StreamFailure(fmt::format("peer wrote {} bytes at offset {} of region {}, outside any registered region",
                                        h.length, h.offset, h.region_id));
    }
  }
}

}  // namespace sxcoll::transport::tcp
