// The TCP backend: sockets between ranks, any Ethernet, and the test fabric on one host.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/tcp/pair.h"
#include "transport/transport.h"

namespace sxcoll::transport::tcp {

struct Options {
  int sockets_per_peer = 1;           // --nsocks: NCCL_NSOCKS_PERTHREAD's analogue
  size_t min_stripe_bytes = 256 << 10;  // smaller writes go whole on one socket
  // --tcp-io: a sender and a receiver thread per socket (true), or all I/O on the caller's
  // thread in progress() (false). See pair.h.
  bool io_threads = false;
};

class Context final : public transport::Context {
 public:
  Context(bootstrap::Bootstrap& bootstrap, const Options& options);
  ~Context() override;

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string describe() const override;
  void connect(const std::vector<int>& peers) override;
  transport::Pair& pair(int peer) override;
  std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind) override;
  void progress(std::vector<Completion>& out, int timeout_ms) override;
  std::vector<RailCounters> counters() const override;

  // What the pairs' I/O threads hand over: a stripe through, or a broken stream.
  struct Event {
    enum class Kind : uint8_t { Sent, Arrived, Failed };
    Kind kind;
    Pair* pair;
    StripeHeader header;
    std::string cause;  // Failed
  };
  // For the pairs. post_event, destination and the counters are safe from any thread.
  const Options& options() const { return options_; }
  void post_event(Event event);
  // Where `length` bytes at `offset` of our region `id` are; null when outside it.
  char* destination(uint32_t id, uint64_t offset, uint64_t length) const;
  void count_sent(uint64_t bytes) { bytes_sent_.fetch_add(bytes, std::memory_order_relaxed); }
  void count_received(uint64_t bytes) { bytes_received_.fetch_add(bytes, std::memory_order_relaxed); }
  void complete(const Completion& c) { completed_.push_back(c); }
  // Without threads: whether epoll should report stream `s` of `pair` writable.
  void want_writable(Pair& pair, size_t s, bool on);

 private:
  bootstrap::Bootstrap& bootstrap_;
  Options options_;
  net::Fd listener_;
  net::Fd epoll_;  // without threads: every stream of every pair
  // epoll hands back one of these per stream: which pair, which stream.
  struct StreamTag {
    Pair* pair;
    size_t stream;
  };
  std::vector<std::unique_ptr<StreamTag>> tags_;
  std::unordered_map<const Pair*, size_t> first_tag_;  // a pair's streams' tags follow each other

  mutable std::mutex regions_mutex_;  // the receivers look regions up
  std::vector<std::shared_ptr<MemoryRegion>> regions_;  // index = id - 1
  std::map<std::pair<uintptr_t, size_t>, std::shared_ptr<MemoryRegion>> region_cache_;

  std::mutex events_mutex_;
  std::condition_variable events_ready_;
  std::vector<Event> events_;
  std::atomic<size_t> event_count_{0};  // lets an idle poll skip the lock
  std::vector<Event> batch_;
  void progress_threaded(int timeout_ms);
  void progress_inline(int timeout_ms);

  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::vector<Completion> completed_;
  // Last: the pairs' threads use everything above until the pairs are gone.
  std::map<int, std::unique_ptr<Pair>> pairs_;
};

}  // namespace sxcoll::transport::tcp
