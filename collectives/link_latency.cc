#include "collectives/link_latency.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include <fmt/core.h>

#include "transport/deadline.h"
#include "transport/error.h"

namespace sxcoll {

namespace {

// Cookies and immediates of the measurement: the engine never uses these (its cookies
// count up from 1, its immediates carry a channel below 128).
constexpr uint64_t kCookie = ~uint64_t{0};
constexpr uint32_t kImm = 0x7fff'fff0u;

// Ping-pongs with `peer`; the leader returns the one-way latency in microseconds (half the
// median round trip), the other end -1.
double ping_pong(transport::Context& context, int peer, bool leads, std::chrono::milliseconds timeout,
                 const CompletionSink& others, int round_trips) {
  transport::Pair& pair = context.pair(peer);
  std::vector<transport::Completion> done;
  int arrived = 0, sent = 0, posted = 0;
  auto wait_for_arrival = [&](int want) {
    Deadline deadline(timeout);
    while (arrived < want) {
      done.clear();
      // Waits up to 1 ms, returning at the first completion: a rank that spun here would
      // keep its peer off the core where ranks outnumber cores.
      context.progress(done, 1);
      for (const auto& c : done) {
        if (c.type == transport::Completion::Type::Arrived && c.peer == peer && c.imm == kImm)
          ++arrived;
        else if (c.type == transport::Completion::Type::Sent && c.cookie == kCookie)
          ++sent;
        else
          others(c);
      }
      if (arrived < want && deadline.expired())
        throw RunError(fmt::format("rank {}: measuring the latency to rank {}: no answer for {} ms", context.rank(),
                                   peer, timeout.count()));
    }
  };
  auto send = [&] {
    pair.notify(kImm, kCookie);
    ++posted;
  };
  // The leader times each round trip; their median stands for the link (a round trip
  // that met a preempted peer is an outlier, not the link's latency).
  constexpr int kWarmUp = 2;
  std::vector<double> round_trip_us;
  for (int i = 0; i < kWarmUp + round_trips; ++i) {
    const auto start = Clock::now();
    if (leads) {
      send();
      wait_for_arrival(i + 1);
    } else {
      wait_for_arrival(i + 1);
      send();
    }
    const std::chrono::duration<double, std::micro> took = Clock::now() - start;
    if (leads && i >= kWarmUp) round_trip_us.push_back(took.count());
  }
  // Our notifies' completions too: none may be left for the engine.
  Deadline deadline(timeout);
  while (sent < posted) {
    done.clear();
    context.progress(done, 1);
    for (const auto& c : done)
      if (c.type == transport::Completion::Type::Sent && c.cookie == kCookie)
        ++sent;
      else
        others(c);
    if (sent < posted && deadline.expired())
      throw RunError(fmt::format("rank {}: measuring the latency to rank {}: our notifies did not complete",
                                 context.rank(), peer));
  }
  if (!leads) return -1;
  std::sort(round_trip_us.begin(), round_trip_us.end());
  return round_trip_us[round_trip_us.size() / 2] / 2.0;
}

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

LevelLatency measure_level_latency(transport::Context& context, bootstrap::Bootstrap& bootstrap,
                                   const Topology& topology, std::chrono::milliseconds timeout,
                                   const CompletionSink& others, int round_trips) {
  const int n = topology.size();
  const int me = bootstrap.rank();
  double mine[2] = {-1, -1};  // intra, inter
  for (int parity : {0, 1}) {
    // Pairs (k, k+1) of the flat ring with k of this parity; with an odd world the last
    // rank of a round sits out (and the wrap-around pair is no pair of two distinct ranks).
    int partner = -1;
    if ((me % 2) == parity && me + 1 < n) partner = me + 1;
    if ((me % 2) != parity && me - 1 >= 0) partner = me - 1;
    if (parity == 1 && n % 2 == 0 && n > 2) {
      if (me == n - 1) partner = 0;
      if (me == 0) partner = n - 1;
    }
    bootstrap.barrier();  // every pair of the round starts together, as a collective's links do
    if (partner < 0 || partner == me) continue;
    const double us = ping_pong(context, partner, me < partner, timeout, others, round_trips);
    double& level = mine[topology.host_of(partner) == topology.host_of(me) ? 0 : 1];
    if (us >= 0) level = std::max(level, us);
  }
  std::vector<double> intra, inter;
  for (const auto& word : bootstrap.allgather(fmt::format("{} {}", mine[0], mine[1]))) {
    std::istringstream in(word);
    double a = -1, b = -1;
    in >> a >> b;
    if (a >= 0) intra.push_back(a);
    if (b >= 0) inter.push_back(b);
  }
  return LevelLatency{median(intra), median(inter)};
}

}  // namespace sxcoll
