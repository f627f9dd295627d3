#include "transport/shm/context.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>
#include <functional>
#include <sstream>

#include <fmt/core.h>

#include "transport/deadline.h"
#include "transport/error.h"

namespace sxcoll::transport::shm {

namespace {

// How long an idle progress() polls with sched_yield() before it sleeps on its doorbell.
constexpr std::chrono::microseconds kYieldBudget{1000};

}  // namespace

void SegmentTable::add(std::unique_ptr<Segment> segment, uint64_t serial) {
  std::lock_guard lock(mutex_);
  const auto base = reinterpret_cast<uintptr_t>(segment->data());
  by_base_[base] = Entry{std::move(segment), serial};
}

void SegmentTable::remove(const char* base) {
  std::unique_ptr<Segment> gone;  // unmapped outside the lock
  std::lock_guard lock(mutex_);
  auto it = by_base_.find(reinterpret_cast<uintptr_t>(base));
  if (it == by_base_.end()) return;
  gone = std::move(it->second.segment);
  by_base_.erase(it);
}

std::optional<SegmentTable::Found> SegmentTable::find(const void* p, size_t bytes) const {
  const auto q = reinterpret_cast<uintptr_t>(p);
  std::lock_guard lock(mutex_);
  auto it = by_base_.upper_bound(q);
  if (it == by_base_.begin()) return std::nullopt;
  --it;
  const Segment& s = *it->second.segment;
  const size_t offset = q - it->first;
  if (offset > s.bytes() || bytes > s.bytes() - offset) return std::nullopt;
  return Found{s.fd(), it->second.serial, offset};
}

namespace {

// A write over shm is one memcpy on the writer's core, from this host's copy rate, measured
// here (best of three copies of 8 MiB, a few milliseconds). A step of the collectives moves
// about 5 bytes of memory per byte sent (the copy reads and writes it, the receiver's
// reduction reads two operands and writes one) where a memcpy moves 2: a step's rate is
// 0.4 of the copy's, shared where ranks outnumber cores. The latency is the engine's round
// through the rings: about 3 us where each rank has a core (2 ranks on the 2-vCPU VM: 8 B
// in 4.5 us), about 10 us where ranks take turns on the cores (4 ranks there: 18 us for
// the two steps of recursive doubling). With these, 4 ranks on the VM switch from
// recursive doubling to the ring at about 160 KiB, where the two measured equal at 128 KiB.
LinkCost measure_link_cost(const bootstrap::Bootstrap& bootstrap) {
  constexpr size_t kBytes = size_t{8} << 20;
  std::vector<char> from(kBytes, 1), to(kBytes, 0);
  double best_us = HUGE_VAL;
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    std::memcpy(to.data(), from.data(), kBytes);
    asm volatile("" : : "r"(to.data()) : "memory");  // the copy is what is measured: keep it
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    best_us = std::min(best_us, took.count());
  }
  const double share = std::min(1.0, bootstrap.cores_per_local_rank());
  const double copy_bytes_per_us = static_cast<double>(kBytes) / std::max(best_us, 1.0);
  return LinkCost{share >= 1 ? 3.0 : 10.0, 0.4 * share * copy_bytes_per_us};
}

}  // namespace

Context::Context(bootstrap::Bootstrap& bootstrap)
    : bootstrap_(bootstrap),
      run_id_(std::hash<std::string>{}(bootstrap.launch().token)),
      segments_(std::make_shared<SegmentTable>()) {
  const auto nrings = static_cast<uint32_t>(size());
  cost_ = measure_link_cost(bootstrap_);
  mailbox_segment_ = std::make_unique<Segment>(Mailbox::bytes_for(nrings), segment_name(run_id_, rank(), 0),
                                               fmt::format("rank {}: shm: mailbox", rank()));
  mailbox_ = Mailbox::create(mailbox_segment_->data(), nrings);
  doorbell_ = DoorbellWaiter(&mailbox_.doorbell());
  // Collective: where every rank's mailbox is. Hostnames come with the bootstrap.
  const auto words = bootstrap_.allgather(fmt::format("{} {}", ::getpid(), mailbox_segment_->fd()));
  peers_info_.resize(words.size());
  for (size_t r = 0; r < words.size(); ++r) {
    std::istringstream in(words[r]);
    PeerInfo& p = peers_info_[r];
    if (!(in >> p.pid >> p.mailbox_fd))
      throw RunError(fmt::format("rank {}: shm: rank {} published '{}' for its mailbox", rank(), r, words[r]));
    p.host = bootstrap_.hostnames()[r];
  }
}

Context::~Context() {
  pair_list_.clear();
  pairs_.clear();
}

void Context::connect(const std::vector<int>& peers) {
  const std::string& here = peers_info_[static_cast<size_t>(rank())].host;
  for (int peer : peers) {
    if (peer == rank() || pairs_.count(peer)) continue;
    if (peer < 0 || peer >= size()) throw RunError(fmt::format("rank {}: shm: no rank {} to connect to", rank(), peer));
    const PeerInfo& info = peers_info_[static_cast<size_t>(peer)];
    if (info.host != here)
      throw RunError(fmt::format("rank {}: shm: rank {} runs on host {}, not on this host ({}): shared memory "
                                 "connects the ranks of one host only",
                                 rank(), peer, info.host, here));
    const std::string what = fmt::format("rank {}: shm: connect to rank {} (pid {})", rank(), peer, info.pid);
    PeerMapping mapping(info.pid, info.mailbox_fd, segment_name(run_id_, peer, 0), what);
    Mailbox mailbox = Mailbox::attach(mapping.data(), mapping.bytes(), static_cast<uint32_t>(size()));
    if (!mailbox.valid())
      throw RunError(fmt::format("{}: its segment does not hold a mailbox for {} ranks", what, size()));
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, info.pid, 0));
    if (pidfd < 0) {
      if (errno == ESRCH) throw PeerError(peer, fmt::format("{}: the process has exited", what));
      throw RunError(fmt::format("{}: pidfd_open: {}", what, errno_text(errno)));
    }
    auto pair = std::make_unique<Pair>(*this, peer, info.pid, std::move(mapping), mailbox, mailbox_.ring(peer), pidfd);
    pair_list_.push_back(pair.get());
    pidfds_.push_back(pollfd{pidfd, POLLIN, 0});
    pairs_[peer] = std::move(pair);
  }
}

transport::Pair& Context::pair(int peer) {
  auto it = pairs_.find(peer);
  if (it == pairs_.end()) throw RunError(fmt::format("rank {}: shm: not connected to rank {}", rank(), peer));
  return *it->second;
}

Allocation Context::allocate_host(size_t bytes) {
  const uint64_t serial = next_serial_++;
  auto segment = std::make_unique<Segment>(bytes, segment_name(run_id_, rank(), serial),
                                           fmt::format("rank {}: shm: receive memory", rank()));
  char* base = segment->data();
  segments_->add(std::move(segment), serial);
  return Allocation(base, [table = segments_](char* p) { table->remove(p); });
}

std::shared_ptr<MemoryRegion> Context::register_memory(void* base, size_t bytes, MemoryKind kind) {
  if (kind != MemoryKind::Host)
    throw UsageError("shm: device memory cannot be registered: GPU buffers of one host go through cuda_ipc, or are "
                     "staged through host buffers by the caller");
  const auto found = segments_->find(base, bytes);
  // The serial is part of the key: a segment freed and another mapped at its address is a new region.
  const auto key = std::make_tuple(reinterpret_cast<uintptr_t>(base), bytes, found ? found->serial : 0);
  std::lock_guard lock(regions_mutex_);
  if (auto it = region_cache_.find(key); it != region_cache_.end()) return it->second;
  auto region = make_region(base, bytes, kind);
  // Memory outside our segments (a user's send buffer) is a source only: its ipc stays empty.
  if (found) region->remote.ipc = fmt::format("shm:{}:{}:{}:{}", ::getpid(), found->fd, found->serial, found->offset);
  region_cache_[key] = region;
  return region;
}

std::vector<RailCounters> Context::counters() const {
  return {RailCounters{"shm", bytes_sent_.load(std::memory_order_relaxed),
                       bytes_received_.load(std::memory_order_relaxed)}};
}

size_t Context::poll_once(std::vector<Completion>& out) {
  const size_t before = out.size();
  uint64_t bytes = 0;
  for (Pair* p : pair_list_) {
    if (p->has_backlog()) p->flush_backlog();
    p->drain(out, bytes);
  }
  if (bytes > 0) bytes_received_.fetch_add(bytes, std::memory_order_relaxed);
  out.insert(out.end(), completed_.begin(), completed_.end());
  completed_.clear();
  return out.size() - before;
}

void Context::check_peers_alive() {
  if (pidfds_.empty()) return;
  const int n = ::poll(pidfds_.data(), pidfds_.size(), 0);
  if (n < 0 && errno != EINTR) throw RunError(fmt::format("rank {}: shm: poll on the peers' pidfds: {}", rank(), errno_text(errno)));
  if (n <= 0) return;
  for (size_t i = 0; i < pidfds_.size(); ++i)
    if (pidfds_[i].revents != 0) {
      const Pair& p = *pair_list_[i];
      throw PeerError(p.peer(), fmt::format("rank {}: shm: rank {} (pid {}) on this host exited", rank(), p.peer(),
                                            p.pid()));
    }
}

void Context::progress(std::vector<Completion>& out, int timeout_ms) {
  if (poll_once(out) > 0 || timeout_ms <= 0) return;
  // Idle: the one place that pays for system calls. What a dead peer posted before it
  // died has been taken above; nothing more will come from it.
  check_peers_alive();
  // Records that did not fit: the peer wakes us once it has made room.
  for (Pair* p : pair_list_)
    if (p->has_backlog()) {
      p->want_room();
      p->flush_backlog();
    }
  // Poll, giving the core away between looks, before sleeping: where ranks outnumber cores
  // (the engine does not spin then) the peer we wait for is likely runnable on this very
  // core, and a yield hands it over at once where a futex sleep would cost two wake-ups per
  // message. MPI does the same when oversubscribed (mpi_yield_when_idle). Where the core has
  // no one else to run, this burns it for kYieldBudget out of every idle slice, then sleeps.
  const auto yield_until = Clock::now() + std::min<std::chrono::microseconds>(kYieldBudget, std::chrono::milliseconds(timeout_ms));
  while (Clock::now() < yield_until) {
    ::sched_yield();
    if (poll_once(out) > 0) return;
  }
  const uint32_t word = doorbell_.prepare();
  if (poll_once(out) > 0) {
    doorbell_.cancel();
    return;
  }
  doorbell_.sleep(word, timeout_ms);
  poll_once(out);
}

}  // namespace sxcoll::transport::shm
