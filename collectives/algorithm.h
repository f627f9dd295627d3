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

// Two levels: within a host, and between hosts. On one host only the first counts, and
// {alpha_us, beta_bytes_per_us} alone is the single-level model NCCL's tuner uses.
struct CostModel {
  double alpha_us = 20.0;             // within a host, per step: a message's latency through the transport
  double beta_bytes_per_us = 2000.0;  // within a host, per link: bytes per microsecond
  double inter_alpha_us = 20.0;       // between hosts, per step
  // Between hosts: what one host can send to the others, all its rails together, bytes per
  // microsecond; the host's links to other hosts share it.
  double inter_beta_bytes_per_us = 2000.0;
};

// Throws UsageError when `algo` cannot run on `nranks` ranks (rd needs a power of two).
// What needs to know the hosts (hier) is checked once they are known, by the overload below.
void check_algorithm(Algorithm algo, int nranks);
// Also: hier needs every host to have the same number of ranks.
void check_algorithm(Algorithm algo, const Topology& topology);
// Whether `algo` (not Auto) can run on this world.
bool algorithm_applies(Algorithm algo, const Topology& topology);

// Predicted time of an allreduce of `bytes`, in microseconds; infinite where `algo` does
// not apply to the world. On one host every algorithm pays the intra-node level. Across
// hosts (H > 1), how each is modelled is in algorithm.cc.
double predicted_us(Algorithm algo, const Topology& topology, size_t bytes, const CostModel& model);
// The algorithm the model predicts fastest among those that apply (Ring on ties, then in
// enum order): tree from 3 ranks, rd on powers of two, and across hosts ring_topo and hier
// (which on one host, or hier with one rank per host, are the ring itself).
Algorithm choose_algorithm(const Topology& topology, size_t bytes, const CostModel& model);

// The same for `nranks` ranks on one host.
double predicted_us(Algorithm algo, int nranks, size_t bytes, const CostModel& model);
Algorithm choose_algorithm(int nranks, size_t bytes, const CostModel& model);

}  // namespace sxcoll
