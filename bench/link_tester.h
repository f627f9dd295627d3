// The measuring side of a link check: one context, a source and a destination buffer
// registered with it, and RDMA writes kept in flight the way perftest's ib_write_bw does.
// `sxcoll bench --p2p` measures one pair at a time with it; `--validate` measures the
// pairs of a round at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "bench/options.h"
#include "bench/p2p.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/deadline.h"
#include "transport/error.h"
#include "transport/memory.h"
#include "transport/transport.h"

namespace sxcoll::bench {

// Bytes that tell who wrote them and at which size: stale or misplaced data shows.
inline uint8_t pattern(size_t k, size_t size, int sender) {
  return static_cast<uint8_t>((k * 7 + size * 3 + static_cast<size_t>(sender) * 17) % 251);
}

struct Point {
  size_t bytes = 0;
  double uni_ab = 0, uni_ba = 0, bidi = 0;  // Gb/s
  double lat_us = -1;                       // one way: half the round trip; -1: not measured
  uint64_t wrong = 0;
};

constexpr auto kAbortPoll = std::chrono::milliseconds(100);
// Latency is a small-message figure (ib_write_lat's); above this the ping-pong only
// repeats the bandwidth test, slowly.
constexpr size_t kLatencyMaxBytes = size_t{64} << 10;

// Drives one context for the measurements of one rail. Every method is collective: all
// ranks call it, the two ranks of the link act, the others wait at the bootstrap.
class LinkTester {
 public:
  LinkTester(const BenchOptions& o, const P2pOptions& p, bootstrap::Bootstrap& boot, transport::Context& ctx)
      : o_(o), p_(p), boot_(boot), ctx_(ctx), src_(transport::allocate_pages(o.max_bytes)), dst_(ctx.allocate_host(o.max_bytes)) {
    const size_t bytes = std::max<size_t>(o.max_bytes, 1);
    src_region_ = ctx_.register_memory(src_.get(), bytes, transport::MemoryKind::Host);
    dst_region_ = ctx_.register_memory(dst_.get(), bytes, transport::MemoryKind::Host);
    for (const auto& word : boot_.allgather(dst_region_->remote.encode()))
      remote_.push_back(transport::RemoteRegion::decode(word));
  }

  Point measure(int a, int b, size_t size) {
    Point pt;
    pt.bytes = size;
    const int me = boot_.rank();
    if (me == a || me == b)
      for (size_t k = 0; k < size; ++k) src_.get()[k] = static_cast<char>(pattern(k, size, me));
    uint64_t wrong = 0;
    pt.uni_ab = one_way(a, b, size, wrong);
    pt.uni_ba = one_way(b, a, size, wrong);
    pt.bidi = both_ways(a, b, size, wrong);
    if (size <= kLatencyMaxBytes) pt.lat_us = latency(a, b, size);
    uint64_t total = 0;
    for (const auto& w : boot_.allgather(std::to_string(wrong))) total += std::stoull(w);
    pt.wrong = total;
    return pt;
  }

  // Collective: every rank with a partner (partner[rank] >= 0; partners are mutual)
  // measures it at the same time, the lower rank of each pair writing first, then the
  // higher. The receiver times the arrivals after the warm-up, so that bytes still queued
  // in a socket do not count. Returns, by rank, the Gb/s at which its partner's writes
  // arrived (0 for a rank without a partner).
  std::vector<double> rounds_one_way(const std::vector<int>& partner, size_t size, uint64_t& wrong) {
    const int me = boot_.rank();
    const int peer = partner[static_cast<size_t>(me)];
    if (peer >= 0)
      for (size_t k = 0; k < size; ++k) src_.get()[k] = static_cast<char>(pattern(k, size, me));
    double received = 0;
    for (bool lower_writes : {true, false}) {
      const auto [rank, warmup, iters] = begin_round();
      if (peer < 0) continue;
      const uint64_t first = std::max<uint64_t>(warmup, 1);
      if ((me < peer) == lower_writes) {
        stream(peer, size, first + iters, 0);
      } else {
        receive(peer, first);
        auto t0 = Clock::now();
        receive(peer, first + iters);
        received = gbps(size, std::chrono::duration<double>(Clock::now() - t0).count(), 1);
        wrong += verify(peer, size);
      }
    }
    std::vector<double> out;
    for (const auto& v : boot_.allgather(fmt::format("{}", received))) out.push_back(std::stod(v));
    return out;
  }

 private:
  uint64_t verify(int sender, size_t size) const {
    if (!o_.check) return 0;
    uint64_t wrong = 0;
    for (size_t k = 0; k < size; ++k)
      if (static_cast<uint8_t>(dst_.get()[k]) != pattern(k, size, sender)) ++wrong;
    return wrong;
  }

  // Progress once; counts our completions. Fails on a peer that stays silent past the
  // timeout or on an abort from another rank.
  void pump(int peer, bool block, const char* what) {
    comps_.clear();
    ctx_.progress(comps_, block ? 50 : 0);
    for (const auto& c : comps_) {
      if (c.type == transport::Completion::Type::Sent) {
        ++sent_;
      } else {
        if (c.peer != peer)
          throw RunError(fmt::format("rank {}: p2p: data from rank {} while measuring with rank {}", boot_.rank(),
                                     c.peer, peer));
        ++arrived_;
      }
    }
    const auto now = Clock::now();
    if (!comps_.empty()) {
      last_progress_ = now;
      return;
    }
    if (now - last_abort_poll_ > kAbortPoll) {
      last_abort_poll_ = now;
      if (auto reason = boot_.poll_abort())
        throw RunError(fmt::format("rank {}: p2p aborted: {}", boot_.rank(), *reason));
    }
    if (now - last_progress_ > o_.comm.timeout)
      throw RunError(fmt::format("rank {}: p2p: no progress for {} ms {} rank {} ({} writes posted, {} done, {} "
                                 "arrived)",
                                 boot_.rank(), o_.comm.timeout.count(), what, peer, posted_, sent_, arrived_));
  }

  void reset() {
    sent_ = arrived_ = posted_ = 0;
    last_progress_ = last_abort_poll_ = Clock::now();
  }

  void post(int peer, size_t size) {
    ctx_.pair(peer).write(*src_region_, 0, size, remote_[static_cast<size_t>(peer)], 0,
                          static_cast<uint32_t>(posted_ & 0xffffff), posted_ + 1);
    ++posted_;
  }

  // Keeps `window` writes in flight until `writes` of them (counted from reset()) have
  // completed and `arrivals` writes of the peer have landed.
  void stream(int peer, size_t size, uint64_t writes, uint64_t arrivals) {
    while (sent_ < writes || arrived_ < arrivals) {
      while (posted_ < writes && posted_ - sent_ < p_.window) post(peer, size);
      pump(peer, false, "writing to");
    }
  }

  void receive(int peer, uint64_t arrivals) {
    while (arrived_ < arrivals) pump(peer, true, "waiting for writes from");
  }

  double gbps(size_t size, double seconds, uint64_t ways) const {
    return seconds > 0 ? static_cast<double>(size) * 8.0 * static_cast<double>(o_.iters * ways) / seconds / 1e9 : 0;
  }

  // Seconds a given rank measured, through the bootstrap.
  double time_of(double mine, int rank) {
    auto all = boot_.allgather(fmt::format("{}", mine));
    return std::stod(all[static_cast<size_t>(rank)]);
  }

  struct Round {
    int me;
    uint64_t warmup, iters;
  };
  // Every measurement starts with all ranks in step and the counters at zero.
  Round begin_round() {
    boot_.barrier();
    reset();
    return {boot_.rank(), static_cast<uint64_t>(o_.warmup_iters), static_cast<uint64_t>(o_.iters)};
  }

  double one_way(int from, int to, size_t size, uint64_t& wrong) {
    const auto [me, warmup, iters] = begin_round();
    double seconds = 0;
    if (me == from) {
      stream(to, size, warmup, 0);
      auto t0 = Clock::now();
      stream(to, size, warmup + iters, 0);
      seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    } else if (me == to) {
      receive(from, warmup + iters);
      wrong += verify(from, size);
    }
    return gbps(size, time_of(seconds, from), 1);
  }

  double both_ways(int a, int b, size_t size, uint64_t& wrong) {
    const auto [me, warmup, iters] = begin_round();
    double seconds = 0;
    if (me == a || me == b) {
      const int peer = me == a ? b : a;
      stream(peer, size, warmup, warmup);
      auto t0 = Clock::now();
      stream(peer, size, warmup + iters, warmup + iters);
      seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      wrong += verify(peer, size);
    }
    auto all = boot_.allgather(fmt::format("{}", seconds));
    double slowest = std::max(std::stod(all[static_cast<size_t>(a)]), std::stod(all[static_cast<size_t>(b)]));
    return gbps(size, slowest, 2);
  }

  double latency(int a, int b, size_t size) {
    const auto [me, warmup, iters] = begin_round();
    double seconds = 0;
    if (me == a || me == b) {
      const int peer = me == a ? b : a;
      Clock::time_point t0 = Clock::now();
      for (uint64_t k = 0; k < warmup + iters; ++k) {
        if (k == warmup) t0 = Clock::now();
        if (me == a) post(peer, size);
        while (arrived_ < k + 1) pump(peer, false, "waiting for the pong of");
        if (me == b) post(peer, size);
      }
      seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      while (sent_ < posted_) pump(peer, false, "finishing writes to");
    }
    return time_of(seconds, a) / static_cast<double>(iters) / 2 * 1e6;
  }

  const BenchOptions& o_;
  const P2pOptions& p_;
  bootstrap::Bootstrap& boot_;
  transport::Context& ctx_;
  transport::Allocation src_, dst_;
  std::shared_ptr<transport::MemoryRegion> src_region_, dst_region_;
  std::vector<transport::RemoteRegion> remote_;
  std::vector<transport::Completion> comps_;
  uint64_t sent_ = 0, arrived_ = 0, posted_ = 0;
  Clock::time_point last_progress_, last_abort_poll_;
};

}  // namespace sxcoll::bench
