#include "transport/tcp/pair.h"

#include <sys/socket.h>

#include <system_error>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/tcp/context.h"

namespace sxcoll::transport::tcp {

namespace {

// Threaded: writes up to this size are sent by the caller's thread when their stream is
// idle; a hand-over to the sender thread would cost a wake-up, the larger part of a small
// message's latency.
constexpr size_t kInlineBytes = 64 << 10;

}  // namespace

Pair::Pair(Context& context, int peer, std::vector<net::Fd> fds) : context_(context), peer_(peer) {
  for (auto& fd : fds) streams_.push_back(std::make_unique<Stream>(std::move(fd)));
  if (!threaded()) return;
  try {
    for (size_t s = 0; s < streams_.size(); ++s) {
      streams_[s]->sender = std::thread([this, s] { send_loop(s); });
      streams_[s]->receiver = std::thread([this, s] { receive_loop(s); });
    }
  } catch (const std::system_error& e) {
    stop();  // the threads already started, before this object is abandoned
    throw RunError(fmt::format("rank {}: tcp: cannot start the I/O threads for rank {}: {}", context_.rank(), peer_,
                               e.what()));
  }
}

Pair::~Pair() { stop(); }

void Pair::stop() {
  shutting_down_ = true;
  for (auto& st : streams_) {
    {
      std::lock_guard lock(st->mutex);
      st->closing = true;
    }
    st->wake.notify_one();
    // Wakes a thread blocked in send() or recv() on it.
    ::shutdown(st->fd(), SHUT_RDWR);
  }
  for (auto& st : streams_) {
    if (st->sender.joinable()) st->sender.join();
    if (st->receiver.joinable()) st->receiver.join();
  }
}

bool Pair::threaded() const { return context_.options().io_threads; }

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
    OutStripe op{StripeHeader{kStripeMagic, imm, dst.tcp_id, nstripes, id, dst_offset + begin, end - begin},
                 payload ? payload + begin : nullptr};
    if (threaded()) {
      queue_threaded(s, op, len);
      continue;
    }
    Stream& st = *streams_[s];
    st.sendq.push_back(op);
    if (st.sendq.size() == 1) flush(s);
  }
}

void Pair::queue_threaded(size_t s, const OutStripe& op, size_t len) {
  Stream& st = *streams_[s];
  {
    std::lock_guard lock(st.mutex);
    // A small whole write on an idle stream goes out at once from this thread. Stripes of
    // a large write never do: they are what the threads are for. The lock keeps the
    // stream's order (the sender thread takes it before it looks at the queue). What the
    // socket does not take now is left to the sender thread: this thread never waits on a
    // peer that has stopped reading.
    if (st.sendq.empty() && len <= kInlineBytes) {
      OutStripe now = op;
      try {
        if (st.send(now, context_, Io::NoWait)) {
          stripe_sent(now.header);
          return;
        }
      } catch (const StreamFailure& e) {
        throw PeerError(peer_, failure(s, e.what()));
      }
      st.sendq.push_back(now);
    } else {
      st.sendq.push_back(op);
    }
  }
  st.wake.notify_one();
}

void Pair::flush(size_t s) {
  Stream& st = *streams_[s];
  try {
    while (!st.sendq.empty() && st.send(st.sendq.front(), context_, Io::NoWait)) {
      const StripeHeader done = st.sendq.front().header;
      st.sendq.pop_front();
      stripe_sent(done);
    }
  } catch (const StreamFailure& e) {
    throw PeerError(peer_, failure(s, e.what()));
  }
  const bool want = !st.sendq.empty();
  if (want != st.waiting_for_out) {
    st.waiting_for_out = want;
    context_.want_writable(*this, s, want);
  }
}

void Pair::on_writable(size_t s) { flush(s); }

void Pair::on_readable(size_t s) {
  try {
    while (auto h = streams_[s]->receive(context_, Io::NoWait)) stripe_arrived(*h);
  } catch (const StreamFailure& e) {
    throw PeerError(peer_, failure(s, e.what()));
  }
}

void Pair::send_loop(size_t s) {
  Stream& st = *streams_[s];
  try {
    for (;;) {
      OutStripe* op = nullptr;
      {
        std::unique_lock lock(st.mutex);
        st.wake.wait(lock, [&] { return st.closing || !st.sendq.empty(); });
        if (st.closing) return;
        op = &st.sendq.front();
      }
      if (!st.send(*op, context_, Io::Wait)) throw StreamFailure("send returned before the stripe was out");
      const StripeHeader done = op->header;
      {
        std::lock_guard lock(st.mutex);
        st.sendq.pop_front();
      }
      context_.post_event(Context::Event{Context::Event::Kind::Sent, this, done, {}});
    }
  } catch (const StreamFailure& e) {
    report_failure(s, e.what());
  }
}

void Pair::receive_loop(size_t s) {
  Stream& st = *streams_[s];
  try {
    for (;;) {
      if (const auto h = st.receive(context_, Io::Wait))
        context_.post_event(Context::Event{Context::Event::Kind::Arrived, this, *h, {}});
    }
  } catch (const StreamFailure& e) {
    report_failure(s, e.what());
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
