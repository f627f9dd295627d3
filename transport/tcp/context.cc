#include "transport/tcp/context.h"

#include <sys/epoll.h>

#include <algorithm>
#include <functional>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::tcp {

namespace {

uint64_t token_hash(const bootstrap::Bootstrap& b) { return std::hash<std::string>{}(b.launch().token); }

}  // namespace

Context::Context(bootstrap::Bootstrap& bootstrap, const Options& options)
    : bootstrap_(bootstrap), options_(options) {
  listener_ = net::listen_tcp(bootstrap_.reachable_host(), 0);
  if (!options_.io_threads) {
    epoll_ = net::Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid()) throw RunError(fmt::format("rank {}: tcp: epoll_create: {}", rank(), errno_text(errno)));
  }
}

// The pairs' threads post events and look regions up here: they go first.
Context::~Context() { pairs_.clear(); }

std::string Context::describe() const {
  return fmt::format("tcp, {} socket{} per peer, {}", options_.sockets_per_peer, options_.sockets_per_peer > 1 ? "s" : "",
                     options_.io_threads ? "a sender and a receiver thread per socket" : "I/O on the caller's thread");
}

void Context::connect(const std::vector<int>& peers) {
  // Everyone publishes its listening address; each pair is then opened by the higher rank,
  // so that nobody waits on a peer that is itself waiting.
  auto here = net::local_address(listener_.get());
  auto addresses = bootstrap_.allgather(here.str());
  Deadline deadline(bootstrap_.timeout());
  const int nsocks = options_.sockets_per_peer;
  const uint64_t token = token_hash(bootstrap_);

  std::map<int, std::vector<net::Fd>> fresh;
  int expected_accepts = 0;
  for (int peer : peers) {
    if (peer == rank() || pairs_.count(peer) || fresh.count(peer)) continue;
    if (peer < 0 || peer >= size()) throw RunError(fmt::format("rank {}: tcp: no rank {} to connect to", rank(), peer));
    auto& fds = fresh[peer];
    fds.resize(static_cast<size_t>(nsocks));
    if (peer > rank()) {
      expected_accepts += nsocks;
      continue;
    }
    auto where = net::parse_host_port(addresses[static_cast<size_t>(peer)], "peer address");
    for (int s = 0; s < nsocks; ++s) {
      auto what = fmt::format("rank {}: tcp: connect to rank {} at {}", rank(), peer, where.str());
      fds[static_cast<size_t>(s)] = net::connect_tcp(where, deadline, what);
      StreamHello hello{token, static_cast<uint32_t>(rank()), static_cast<uint32_t>(s)};
      net::send_all(fds[static_cast<size_t>(s)].get(), &hello, sizeof hello, deadline, what);
    }
  }
  for (int i = 0; i < expected_accepts; ++i) {
    auto what = fmt::format("rank {}: tcp: waiting for {} more connection(s) from higher ranks", rank(),
                            expected_accepts - i);
    net::Fd fd = net::accept_tcp(listener_.get(), deadline, what);
    StreamHello hello{};
    net::recv_all(fd.get(), &hello, sizeof hello, deadline, what);
    int peer = static_cast<int>(hello.rank);
    if (hello.token_hash != token || !fresh.count(peer) || hello.stream >= static_cast<uint32_t>(nsocks) ||
        fresh[peer][hello.stream].valid()) {
      --i;  // a stray process or a stale connection: refuse it and keep waiting
      continue;
    }
    fresh[peer][hello.stream] = std::move(fd);
  }
  for (auto& [peer, fds] : fresh) {
    auto pair = std::make_unique<Pair>(*this, peer, std::move(fds));
    if (!options_.io_threads) {
      first_tag_[pair.get()] = tags_.size();
      for (size_t s = 0; s < pair->stream_count(); ++s) {
        tags_.push_back(std::make_unique<StreamTag>(StreamTag{pair.get(), s}));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = tags_.back().get();
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pair->stream_fd(s), &ev) != 0)
          throw RunError(fmt::format("rank {}: tcp: epoll_ctl: {}", rank(), errno_text(errno)));
      }
    }
    pairs_[peer] = std::move(pair);
  }
}

void Context::want_writable(Pair& pair, size_t s, bool on) {
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = tags_[first_tag_.at(&pair) + s].get();
  // Unseen, a failure here would leave a send queue that never drains until the deadline.
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, pair.stream_fd(s), &ev) != 0)
    throw RunError(fmt::format("rank {}: tcp: epoll_ctl for rank {}: {}", rank(), pair.peer(), errno_text(errno)));
}

transport::Pair& Context::pair(int peer) {
  auto it = pairs_.find(peer);
  if (it == pairs_.end()) throw RunError(fmt::format("rank {}: tcp: not connected to rank {}", rank(), peer));
  return *it->second;
}

std::shared_ptr<MemoryRegion> Context::register_memory(void* base, size_t bytes, MemoryKind kind) {
  if (kind != MemoryKind::Host)
    throw UsageError("tcp: device memory must be staged through host buffers by the caller");
  auto key = std::make_pair(reinterpret_cast<uintptr_t>(base), bytes);
  std::lock_guard lock(regions_mutex_);
  if (auto it = region_cache_.find(key); it != region_cache_.end()) return it->second;
  auto region = make_region(base, bytes, kind);
  region->remote.tcp_id = static_cast<uint32_t>(regions_.size() + 1);
  regions_.push_back(region);
  region_cache_[key] = region;
  return region;
}

char* Context::destination(uint32_t id, uint64_t offset, uint64_t length) const {
  std::lock_guard lock(regions_mutex_);
  if (id == 0 || id > regions_.size()) return nullptr;
  const MemoryRegion& region = *regions_[id - 1];
  if (offset > region.bytes || length > region.bytes - offset) return nullptr;
  return static_cast<char*>(region.base) + offset;
}

std::vector<RailCounters> Context::counters() const {
  return {RailCounters{"tcp", bytes_sent_.load(std::memory_order_relaxed), bytes_received_.load(std::memory_order_relaxed)}};
}

void Context::post_event(Event event) {
  {
    std::lock_guard lock(events_mutex_);
    events_.push_back(std::move(event));
    event_count_.store(events_.size(), std::memory_order_release);
  }
  events_ready_.notify_one();
}

void Context::progress(std::vector<Completion>& out, int timeout_ms) {
  if (!completed_.empty() || timeout_ms < 0) timeout_ms = 0;
  if (options_.io_threads)
    progress_threaded(timeout_ms);
  else
    progress_inline(timeout_ms);
  out.insert(out.end(), completed_.begin(), completed_.end());
  completed_.clear();
}

void Context::progress_threaded(int timeout_ms) {
  batch_.clear();
  if (event_count_.load(std::memory_order_acquire) > 0 || timeout_ms > 0) {
    std::unique_lock lock(events_mutex_);
    if (events_.empty() && timeout_ms > 0)
      events_ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !events_.empty(); });
    batch_.swap(events_);
    event_count_.store(0, std::memory_order_release);
  }
  // A failure ends the batch: the run is over for this rank, what follows it no longer counts.
  for (const Event& e : batch_) {
    switch (e.kind) {
      case Event::Kind::Sent: e.pair->stripe_sent(e.header); break;
      case Event::Kind::Arrived: e.pair->stripe_arrived(e.header); break;
      case Event::Kind::Failed: throw PeerError(e.pair->peer(), e.cause);
    }
  }
}

void Context::progress_inline(int timeout_ms) {
  epoll_event events[64];
  const int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
  if (n < 0 && errno != EINTR) throw RunError(fmt::format("rank {}: tcp: epoll_wait: {}", rank(), errno_text(errno)));
  for (int i = 0; i < n; ++i) {
    const auto* tag = static_cast<StreamTag*>(events[i].data.ptr);
    if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) tag->pair->on_readable(tag->stream);
    if (events[i].events & EPOLLOUT) tag->pair->on_writable(tag->stream);
  }
}

}  // namespace sxcoll::transport::tcp
