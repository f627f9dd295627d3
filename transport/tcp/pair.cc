#include "transport/tcp/pair.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/tcp/context.h"

namespace sxcoll::transport::tcp {

namespace {

// Writes up to this size are sent by the caller's thread when their stream is idle.
constexpr size_t kInlineBytes = 64 << 10;

// Sends all of iov (blocking); false with errno on failure.
bool send_all(int fd, iovec* iov, int n) {
  while (n > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    ssize_t rc = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<size_t>(rc);
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

// Receives exactly `len` bytes (blocking). 0 when the peer closed first, -1 with errno on
// failure, 1 when done.
int recv_all(int fd, char* p, size_t len) {
  while (len > 0) {
    ssize_t rc = ::recv(fd, p, len, 0);
    if (rc == 0) return 0;
    if (rc < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += rc;
    len -= static_cast<size_t>(rc);
  }
  return 1;
}

// The cause of a recv_all() that did not finish.
std::string receive_failure(int rc) {
  return rc == 0 ? std::string("closed by the peer (its process exited or crashed)")
                 : fmt::format("receive failed: {}", errno_text(errno));
}

}  // namespace

Pair::Pair(Context& context, int peer, std::vector<net::Fd> fds) : context_(context), peer_(peer) {
  for (auto& fd : fds) {
    net::set_blocking(fd.get());
    auto stream = std::make_unique<Stream>();
    stream->fd = std::move(fd);
    streams_.push_back(std::move(stream));
  }
  for (size_t s = 0; s < streams_.size(); ++s) {
    streams_[s]->sender = std::thread([this, s] { send_loop(s); });
    streams_[s]->receiver = std::thread([this, s] { receive_loop(s); });
  }
}

Pair::~Pair() {
  shutting_down_ = true;
  for (auto& st : streams_) {
    {
      std::lock_guard lock(st->mutex);
      st->closing = true;
    }
    st->wake.notify_one();
    // Wakes a thread blocked in send() or recv() on it.
    ::shutdown(st->fd.get(), SHUT_RDWR);
  }
  for (auto& st : streams_) {
    st->sender.join();
    st->receiver.join();
  }
}

std::string Pair::failure(size_t s, const std::string& cause) const {
  return fmt::format("rank {}: tcp: connection with rank {} (socket {} of {}): {}", context_.rank(), peer_, s,
                     streams_.size(), cause);
}

void Pair::report_failure(size_t s, const std::string& cause) {
  if (shutting_down_) return;
  context_.post_event(Context::Event{Context::Event::Kind::Failed, this, {}, failure(s, cause)});
}

void Pair::write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
                 uint32_t imm, uint64_t cookie) {
  check_write_bounds("tcp", context_.rank(), peer_, src, src_offset, len, dst, dst_offset);
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
    Stream& st = *streams_[s];
    const char* bytes = payload ? payload + begin : nullptr;
    {
      std::lock_guard lock(st.mutex);
      // A small write on an idle stream goes out at once from this thread: a hand-over
      // to the sender thread would cost a wake-up, the larger part of a small message's
      // latency. Stripes of a large write never do: they are what the threads are for.
      // The lock keeps the stream's order (the sender waits on it).
      if (st.sendq.empty() && len <= kInlineBytes) {
        iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(bytes), h.length}};
        if (!send_all(st.fd.get(), iov, h.length > 0 ? 2 : 1))
          throw PeerError(peer_, failure(s, fmt::format("send failed: {}", errno_text(errno))));
        context_.count_sent(sizeof h + h.length);
        stripe_sent(h);
        continue;
      }
      st.sendq.emplace_back(h, bytes);
    }
    st.wake.notify_one();
  }
}

void Pair::send_loop(size_t s) {
  Stream& st = *streams_[s];
  for (;;) {
    std::pair<StripeHeader, const char*> op;
    {
      std::unique_lock lock(st.mutex);
      st.wake.wait(lock, [&] { return st.closing || !st.sendq.empty(); });
      if (st.closing) return;
      op = st.sendq.front();
    }
    iovec iov[2] = {{&op.first, sizeof(StripeHeader)}, {const_cast<char*>(op.second), op.first.length}};
    if (!send_all(st.fd.get(), iov, op.first.length > 0 ? 2 : 1)) {
      report_failure(s, fmt::format("send failed: {}", errno_text(errno)));
      return;
    }
    context_.count_sent(sizeof(StripeHeader) + op.first.length);
    {
      std::lock_guard lock(st.mutex);
      st.sendq.pop_front();
    }
    context_.post_event(Context::Event{Context::Event::Kind::Sent, this, op.first, {}});
  }
}

void Pair::receive_loop(size_t s) {
  Stream& st = *streams_[s];
  for (;;) {
    StripeHeader h{};
    int rc = recv_all(st.fd.get(), reinterpret_cast<char*>(&h), sizeof h);
    if (rc <= 0) {
      report_failure(s, receive_failure(rc));
      return;
    }
    if (h.magic != kStripeMagic) {
      report_failure(s, "stream out of sync (bad stripe header)");
      return;
    }
    if (h.length > 0) {
      char* dest = context_.destination(h.region_id, h.offset, h.length);
      if (dest == nullptr) {
        report_failure(s, fmt::format("peer wrote {} bytes at offset {} of region {}, outside any registered region",
                                      h.length, h.offset, h.region_id));
        return;
      }
      rc = recv_all(st.fd.get(), dest, h.length);
      if (rc <= 0) {
        report_failure(s, receive_failure(rc));
        return;
      }
    }
    context_.count_received(sizeof(StripeHeader) + h.length);
    context_.post_event(Context::Event{Context::Event::Kind::Arrived, this, h, {}});
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

}  // namespace sxcoll::transport::tcp
