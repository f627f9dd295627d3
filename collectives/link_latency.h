// Measures the latency of each level of the fabric (within a host, between hosts) on the
// links the communicator connected, for --algo auto's cost model: what a step costs on
// this run's transports and this machine's cores, instead of a figure measured elsewhere.
#pragma once

#include <chrono>
#include <functional>

#include "collectives/topology.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/transport.h"

namespace sxcoll {

// One-way latency in microseconds (half a round trip of a zero-byte notify); negative
// where the world has no pair of that level.
struct LevelLatency {
  double intra_us = -1;
  double inter_us = -1;
};

// Collective. Ranks k and k+1 of the flat ring are paired in two rounds (even k, then odd
// k), so every pair is connected (ring neighbours) and both levels show where the world has
// them; each pair ping-pongs `round_trips` notifies, the lower rank timing each round trip
// (half the median is the pair's latency). The result is the median over the pairs of each
// level, the same on every rank. Every wait has `timeout`; a peer
// that does not answer is a RunError naming it. Completions that are not the
// measurement's (credits of an earlier collective still arriving) go to `others`.
using CompletionSink = std::function<void(const transport::Completion&)>;
LevelLatency measure_level_latency(transport::Context& context, bootstrap::Bootstrap& bootstrap,
                                   const Topology& topology, std::chrono::milliseconds timeout,
                                   const CompletionSink& others, int round_trips = 32);

}  // namespace sxcoll
