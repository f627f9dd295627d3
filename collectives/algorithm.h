// Which allreduce algorithm runs, and how "auto" picks one: NCCL's way, a latency (alpha)
// and bandwidth (beta) cost per algorithm, cheaper one wins.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "collectives/topology.h"

namespace sxcoll {

// CLI names: ring, tree, rd, ring_topo, hier, auto.
enum class Algorithm { Ring, Tree, RecursiveDoubling, TopoRing, Hierarchical, Auto };

std::string_view algorithm_name(Algorithm algo);
std::optional<Algorithm> parse_algorithm(std::string_view text);

struct CostModel {
  double alpha_us = 20.0;        // per step: a message's latency through the transport
  double beta_bytes_per_us = 2000.0;  // per link: bytes per microsecond
};

// Throws UsageError when `algo` cannot run on `nranks` ranks (rd needs a power of two).
// What needs to know the hosts (hier) is checked once they are known, by the overload below.
void check_algorithm(Algorithm algo, int nranks);
// Also: hier needs every host to have the same number of ranks.
void check_algorithm(Algorithm algo, const Topology& topology);
// Whether `algo` (not Auto) can run on this world.
bool algorithm_applies(Algorithm algo, const Topology& topology);

// Predicted time of an allreduce of `bytes` on `nranks` ranks, in microseconds.
double predicted_us(Algorithm algo, int nranks, size_t bytes, const CostModel& model);
// The algorithm the model predicts fastest (Ring on ties); recursive doubling only where
// it applies (power-of-two world sizes).
Algorithm choose_algorithm(int nranks, size_t bytes, const CostModel& model);
// The same on the topology's world (the model has one level: hosts do not count yet).
Algorithm choose_algorithm(const Topology& topology, size_t bytes, const CostModel& model);

}  // namespace sxcoll
