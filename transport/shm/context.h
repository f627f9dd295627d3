// The shared-memory backend: ranks of one host write straight into each other's receive
// segments; arrivals are signalled through mailbox rings, sleepers woken through a futex.
//
// Setup is collective: every rank of the run builds its Context, which creates its mailbox
// and publishes (pid, mailbox descriptor) through the bootstrap. connect() then maps the
// mailboxes of the peers asked for, which must be on this host (the routing layer sends
// the others over the network), and opens a pidfd on each: a peer that exits or is killed
// is seen by poll() on those when this rank is about to sleep, at no cost per message.
#pragma once

#include <poll.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/shm/mailbox.h"
#include "transport/shm/pair.h"
#include "transport/shm/segment.h"
#include "transport/transport.h"

namespace sxcoll::transport::shm {

// The segments allocate_host() handed out, by address: what register_memory() describes to
// peers. Shared with the allocations' deleters, which may run after the context is gone.
class SegmentTable {
 public:
  struct Found {
    int fd;
    uint64_t serial;
    size_t offset;
  };
  void add(std::unique_ptr<Segment> segment, uint64_t serial);
  void remove(const char* base);
  // The segment holding [p, +bytes) whole, if any.
  std::optional<Found> find(const void* p, size_t bytes) const;

 private:
  struct Entry {
    std::unique_ptr<Segment> segment;
    uint64_t serial;
  };
  mutable std::mutex mutex_;
  std::map<uintptr_t, Entry> by_base_;
};

class Context final : public transport::Context {
 public:
  explicit Context(bootstrap::Bootstrap& bootstrap);
  ~Context() override;

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string describe() const override { return "shm"; }
  void connect(const std::vector<int>& peers) override;
  transport::Pair& pair(int peer) override;
  Pair& shm_pair(int peer) { return static_cast<Pair&>(pair(peer)); }
  std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind) override;
  Allocation allocate_host(size_t bytes) override;
  void progress(std::vector<Completion>& out, int timeout_ms) override;
  std::vector<RailCounters> counters() const override;

  // For the pairs.
  uint64_t run_id() const { return run_id_; }
  const LinkCost& link_cost() const { return cost_; }
  void complete(const Completion& c) { completed_.push_back(c); }
  void count_sent(uint64_t bytes) { bytes_sent_.fetch_add(bytes, std::memory_order_relaxed); }

 private:
  struct PeerInfo {
    pid_t pid = 0;
    int mailbox_fd = -1;
    std::string host;
  };
  // Moves whatever is ready into `out`; returns how many completions it added.
  size_t poll_once(std::vector<Completion>& out);
  // Throws PeerError for a peer whose process has ended.
  void check_peers_alive();

  bootstrap::Bootstrap& bootstrap_;
  uint64_t run_id_;
  LinkCost cost_;
  std::shared_ptr<SegmentTable> segments_;
  uint64_t next_serial_ = 1;
  std::unique_ptr<Segment> mailbox_segment_;
  Mailbox mailbox_;
  DoorbellWaiter doorbell_;
  std::vector<PeerInfo> peers_info_;  // by rank

  std::mutex regions_mutex_;
  // By base, size and segment serial (0: not in a segment).
  std::map<std::tuple<uintptr_t, size_t, uint64_t>, std::shared_ptr<MemoryRegion>> region_cache_;

  std::vector<Completion> completed_;
  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::map<int, std::unique_ptr<Pair>> pairs_;
  std::vector<Pair*> pair_list_;   // what progress() walks
  std::vector<pollfd> pidfds_;     // one per pair, in pair_list_'s order
};

}  // namespace sxcoll::transport::shm
