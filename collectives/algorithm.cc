#include "collectives/algorithm.h"

#include <cmath>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "collectives/allreduce_recursive_doubling.h"
#include "transport/error.h"

namespace sxcoll {

std::string_view algorithm_name(Algorithm algo) {
  switch (algo) {
    case Algorithm::Ring:
      return "ring";
    case Algorithm::Tree:
      return "tree";
    case Algorithm::RecursiveDoubling:
      return "rd";
    case Algorithm::TopoRing:
      return "ring_topo";
    case Algorithm::Hierarchical:
      return "hier";
    case Algorithm::Auto:
      return "auto";
  }
  return "?";
}

std::optional<Algorithm> parse_algorithm(std::string_view text) {
  for (Algorithm a : {Algorithm::Ring, Algorithm::Tree, Algorithm::RecursiveDoubling, Algorithm::TopoRing,
                      Algorithm::Hierarchical, Algorithm::Auto})
    if (text == algorithm_name(a)) return a;
  return std::nullopt;
}

void check_algorithm(Algorithm algo, int nranks) {
  if (algo == Algorithm::RecursiveDoubling && !recursive_doubling_applies(nranks))
    throw UsageError(fmt::format("--algo rd needs a power-of-two number of ranks, not {}", nranks));
}

void check_algorithm(Algorithm algo, const Topology& topology) {
  check_algorithm(algo, topology.size());
  if (algo == Algorithm::Hierarchical && !topology.uniform()) {
    std::string sizes;
    for (int h = 0; h < topology.hosts(); ++h)
      sizes += fmt::format("{}{} on {}", h == 0 ? "" : ", ", topology.local_size(h), topology.host_name(h));
    throw UsageError(fmt::format("--algo hier needs the same number of ranks on every host, not {}", sizes));
  }
}

bool algorithm_applies(Algorithm algo, const Topology& topology) {
  switch (algo) {
    case Algorithm::RecursiveDoubling:
      return recursive_doubling_applies(topology.size());
    case Algorithm::Hierarchical:
      return topology.uniform();
    case Algorithm::Auto:
      return false;
    default:
      return true;
  }
}

double predicted_us(Algorithm algo, int nranks, size_t bytes, const CostModel& model) {
  const double n = nranks;
  const double s = static_cast<double>(bytes);
  if (algo == Algorithm::RecursiveDoubling) {
    // log2(n) exchanges, each of the whole buffer.
    const double levels = std::ceil(std::log2(n));
    return levels * (model.alpha_us + s / model.beta_bytes_per_us);
  }
  if (algo == Algorithm::Tree) {
    // Up and down a tree of depth log2(n); across both trees each rank moves about 2S.
    const double depth = std::ceil(std::log2(n));
    return 2 * depth * model.alpha_us + 2 * s / model.beta_bytes_per_us;
  }
  // 2(n-1) steps, each moving S/n.
  return 2 * (n - 1) * model.alpha_us + 2 * (n - 1) / n * s / model.beta_bytes_per_us;
}

Algorithm choose_algorithm(int nranks, size_t bytes, const CostModel& model) {
  Algorithm best = Algorithm::Ring;
  double best_us = predicted_us(Algorithm::Ring, nranks, bytes, model);
  std::vector<Algorithm> others;
  if (nranks > 2) others.push_back(Algorithm::Tree);
  if (recursive_doubling_applies(nranks)) others.push_back(Algorithm::RecursiveDoubling);
  for (Algorithm a : others) {
    double us = predicted_us(a, nranks, bytes, model);
    if (us < best_us) {
      best = a;
      best_us = us;
    }
  }
  return best;
}

Algorithm choose_algorithm(const Topology& topology, size_t bytes, const CostModel& model) {
  return choose_algorithm(topology.size(), bytes, model);
}

}  // namespace sxcoll
