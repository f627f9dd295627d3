#include "transport/tcp/pair.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/tcp/context.h"

namespace sxcoll::transport::tcp {

Pair::Pair(Context& context, int peer, std::vector<net::Fd> fds) : context_(context), peer_(peer) {
  streams_.resize(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    net::set_nonblocking(fds[i].get());
    streams_[i].fd = std::move(fds[i]);
  }
}

void Pair::fail(size_t stream, const std::string& cause) {
  throw PeerError(peer_, fmt::format("rank {}: tcp: connection with rank {} (socket {} of {}): {}", context_.rank(),
                                     peer_, stream, streams_.size(), cause));
}

void Pair::write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
                 uint32_t imm, uint64_t cookie) {
  if (!src.contains(static_cast<char*>(src.base) + src_offset, len))
    throw RunError(fmt::format("rank {}: tcp: write of {} bytes at offset {} runs past its {}-byte source region",
                               context_.rank(), len, src_offset, src.bytes));
  if (dst_offset > dst.bytes || len > dst.bytes - dst_offset)
    throw RunError(fmt::format("rank {}: tcp: write of {} bytes at offset {} runs past rank {}'s {}-byte region",
                               context_.rank(), len, dst_offset, peer_, dst.bytes));
  post(static_cast<const char*>(src.base) + src_offset, len, dst, dst_offset, imm, cookie);
}

void Pair::notify(uint32_t imm, uint64_t cookie) { post(nullptr, 0, RemoteRegion{}, 0, imm, cookie); }

void Pair::post(const char* payload, size_t len, const RemoteRegion& dst, size_t dst_offset, uint32_t imm,
                uint64_t cookie) {
  const size_t nstreams = streams_.size();
  const bool stripe = nstreams > 1 && len >= context_.options().min_stripe_bytes;
  const uint32_t nstripes = stripe ? static_cast<uint32_t>(nstreams) : 1;
  const uint64_t id = next_write_id_++;
  pending_writes_[id] = PendingWrite{nstripes, cookie};
  for (uint32_t i = 0; i < nstripes; ++i) {
    // Stripes split on 4 KiB boundaries so that each lands on whole pages.
    size_t begin = stripe ? (len * i / nstripes) & ~size_t{4095} : 0;
    size_t end = stripe ? (i + 1 == nstripes ? len : (len * (i + 1) / nstripes) & ~size_t{4095}) : len;
    size_t s = stripe ? i : (next_stream_++ % nstreams);
    StripeHeader h{kStripeMagic, imm, dst.id, nstripes, id, dst_offset + begin, end - begin};
    Stream& st = streams_[s];
    st.sendq.push_back(SendStripe{h, payload ? payload + begin : nullptr});
    if (st.sendq.size() == 1) flush(s);
  }
}

void Pair::flush(size_t s) {
  Stream& st = streams_[s];
  while (!st.sendq.empty()) {
    SendStripe& op = st.sendq.front();
    const size_t total = sizeof(StripeHeader) + op.header.length;
    iovec iov[2];
    int n = 0;
    if (op.sent < sizeof(StripeHeader)) {
      iov[n++] = {reinterpret_cast<char*>(&op.header) + op.sent, sizeof(StripeHeader) - op.sent};
      if (op.header.length > 0) iov[n++] = {const_cast<char*>(op.payload), op.header.length};
    } else {
      size_t done = op.sent - sizeof(StripeHeader);
      iov[n++] = {const_cast<char*>(op.payload) + done, op.header.length - done};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    ssize_t rc = ::sendmsg(st.fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (rc < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      fail(s, fmt::format("send failed: {}", errno_text(errno)));
    }
    op.sent += static_cast<size_t>(rc);
    context_.rail().bytes_sent += static_cast<uint64_t>(rc);
    if (op.sent < total) break;  // the socket is full; epoll tells us when to go on
    StripeHeader done = op.header;
    st.sendq.pop_front();
    stripe_sent(done);
  }
  bool want = !st.sendq.empty();
  if (want != st.waiting_for_out) {
    st.waiting_for_out = want;
    context_.want_writable(st.fd.get(), st.epoll_tag, want);
  }
}

void Pair::stripe_sent(const StripeHeader& h) {
  auto it = pending_writes_.find(h.write_id);
  if (--it->second.stripes_left > 0) return;
  context_.complete(Completion{Completion::Type::Sent, peer_, h.imm, 0, it->second.cookie});
  pending_writes_.erase(it);
}

void Pair::stripe_arrived(const StripeHeader& h) {
  uint64_t bytes = h.length;
  if (h.nstripes > 1) {
    auto [it, fresh] = partial_arrivals_.try_emplace(h.write_id, PartialArrival{h.nstripes, 0});
    it->second.bytes += h.length;
    if (--it->second.stripes_left > 0) return;
    bytes = it->second.bytes;
    partial_arrivals_.erase(it);
  }
  context_.complete(Completion{Completion::Type::Arrived, peer_, h.imm, static_cast<size_t>(bytes), 0});
}

void Pair::on_writable(size_t s) { flush(s); }

void Pair::on_readable(size_t s) {
  Stream& st = streams_[s];
  for (;;) {
    ssize_t rc;
    if (st.rheader_got < sizeof(StripeHeader)) {
      rc = ::recv(st.fd.get(), reinterpret_cast<char*>(&st.rheader) + st.rheader_got,
                  sizeof(StripeHeader) - st.rheader_got, MSG_DONTWAIT);
    } else {
      rc = ::recv(st.fd.get(), st.rdest + st.rgot, st.rheader.length - st.rgot, MSG_DONTWAIT);
    }
    if (rc == 0) fail(s, "closed by the peer (its process exited or crashed)");
    if (rc < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail(s, fmt::format("receive failed: {}", errno_text(errno)));
    }
    context_.rail().bytes_received += static_cast<uint64_t>(rc);
    if (st.rheader_got < sizeof(StripeHeader)) {
      st.rheader_got += static_cast<size_t>(rc);
      if (st.rheader_got < sizeof(StripeHeader)) continue;
      const StripeHeader& h = st.rheader;
      if (h.magic != kStripeMagic) fail(s, "stream out of sync (bad stripe header)");
      st.rgot = 0;
      if (h.length > 0) {
        const MemoryRegion* region = context_.region(h.region_id);
        if (region == nullptr || h.offset > region->bytes || h.length > region->bytes - h.offset)
          fail(s, fmt::format("peer wrote {} bytes at offset {} of region {}, outside any registered region",
                              h.length, h.offset, h.region_id));
        st.rdest = static_cast<char*>(region->base) + h.offset;
      }
    } else {
      st.rgot += static_cast<size_t>(rc);
    }
    if (st.rgot == st.rheader.length) {
      stripe_arrived(st.rheader);
      st.rheader_got = 0;
      st.rgot = 0;
    }
  }
}

}  // namespace sxcoll::transport::tcp
