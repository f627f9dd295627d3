#include "collectives/algorithm.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "collectives/algorithm_layout.h"
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

namespace {

// The single-level formulas (NCCL's): `alpha` per step, `beta` per link.
double one_level_us(Algorithm algo, double n, double s, double alpha, double beta) {
  if (algo == Algorithm::RecursiveDoubling) {
    // log2(n) exchanges, each of the whole buffer.
    const double levels = std::ceil(std::log2(n));
    return levels * (alpha + s / beta);
  }
  if (algo == Algorithm::Tree) {
    // Up and down a tree of depth log2(n); across both trees each rank moves about 2S.
    const double depth = std::ceil(std::log2(n));
    return 2 * depth * alpha + 2 * s / beta;
  }
  // 2(n-1) steps, each moving S/n.
  return 2 * (n - 1) * alpha + 2 * (n - 1) / n * s / beta;
}

// The most ring links that leave any one host: 1 for a ring that goes host by host, up to
// the local size where the launcher interleaved the ranks.
int most_crossings(const Topology& topology, const std::vector<int>& order) {
  std::vector<int> leaving(static_cast<size_t>(topology.hosts()), 0);
  for (size_t i = 0; i < order.size(); ++i) {
    const int from = topology.host_of(order[i]);
    if (from != topology.host_of(order[(i + 1) % order.size()])) ++leaving[static_cast<size_t>(from)];
  }
  return *std::max_element(leaving.begin(), leaving.end());
}

}  // namespace

// Across hosts:
// - ring, ring_topo: every step lasts as long as its slowest link, and with H > 1 some
//   link crosses hosts in every step: 2(n-1) steps of the inter-node latency, each moving
//   S/n per link; a host whose ring links leave it m times splits its inter-node bandwidth
//   m ways (m = 1 for ring_topo and for a ring the launcher placed host by host).
// - tree, rd: their levels cross hosts too; charged as the single-level formulas with the
//   slower level's alpha and beta, as though one link per host crossed (optimistic where
//   ranks interleave).
// - hier: 2(L-1) intra-node steps and 2(H-1) inter-node steps of latency; pipelined, so
//   the bandwidth term is the slower phase: the host's ring moves 2(L-1)/L S per link, and
//   each host sends 2(H-1)/H S to the others over its L inter links together.
double predicted_us(Algorithm algo, const Topology& topology, size_t bytes, const CostModel& model) {
  if (algo == Algorithm::Auto || !algorithm_applies(algo, topology)) return HUGE_VAL;
  const double n = topology.size();
  const double s = static_cast<double>(bytes);
  const int hosts = topology.hosts();
  if (hosts == 1)
    return one_level_us(algo == Algorithm::TopoRing || algo == Algorithm::Hierarchical ? Algorithm::Ring : algo, n,
                        s, model.alpha_us, model.beta_bytes_per_us);
  const double alpha = std::max(model.alpha_us, model.inter_alpha_us);
  switch (algo) {
    case Algorithm::Tree:
      return one_level_us(algo, n, s, alpha, std::min(model.beta_bytes_per_us, model.inter_beta_bytes_per_us));
    case Algorithm::RecursiveDoubling: {
      // Level d pairs r with r ^ d. A level whose pairs all stay within hosts pays the intra
      // level; one that crosses pays the inter level, the whole buffer of every rank of a
      // host that crosses at once sharing the host's budget.
      double us = 0;
      for (int d = 1; d < topology.size(); d <<= 1) {
        std::vector<int> crossing(static_cast<size_t>(hosts), 0);
        for (int r = 0; r < topology.size(); ++r)
          if (topology.host_of(r) != topology.host_of(r ^ d)) ++crossing[static_cast<size_t>(topology.host_of(r))];
        const int most = *std::max_element(crossing.begin(), crossing.end());
        us += most == 0 ? model.alpha_us + s / model.beta_bytes_per_us
                        : model.inter_alpha_us + most * s / model.inter_beta_bytes_per_us;
      }
      return us;
    }
    case Algorithm::Ring:
    case Algorithm::TopoRing: {
      std::vector<int> order;
      if (algo == Algorithm::TopoRing) {
        order = topo_ring_order(topology, 0, 1);
      } else {
        for (int r = 0; r < topology.size(); ++r) order.push_back(r);
      }
      const double m = most_crossings(topology, order);
      const double per_step = std::max(s / n / model.beta_bytes_per_us, m * s / n / model.inter_beta_bytes_per_us);
      return 2 * (n - 1) * (alpha + per_step);
    }
    case Algorithm::Hierarchical: {
      const double l = topology.local_size(0);
      const double h = hosts;
      const double intra = 2 * (l - 1) / l * s / model.beta_bytes_per_us;
      const double inter = 2 * (h - 1) / h * s / model.inter_beta_bytes_per_us;
      return 2 * (l - 1) * model.alpha_us + 2 * (h - 1) * model.inter_alpha_us + std::max(intra, inter);
    }
    case Algorithm::Auto:
      break;
  }
  return HUGE_VAL;
}

Algorithm choose_algorithm(const Topology& topology, size_t bytes, const CostModel& model) {
  Algorithm best = Algorithm::Ring;
  double best_us = predicted_us(Algorithm::Ring, topology, bytes, model);
  const int n = topology.size();
  std::vector<Algorithm> others;
  if (n > 2) others.push_back(Algorithm::Tree);
  if (recursive_doubling_applies(n)) others.push_back(Algorithm::RecursiveDoubling);
  if (topology.hosts() > 1) {
    others.push_back(Algorithm::TopoRing);
    if (topology.uniform() && topology.local_size(0) > 1) others.push_back(Algorithm::Hierarchical);
  }
  for (Algorithm a : others) {
    const double us = predicted_us(a, topology, bytes, model);
    if (us < best_us) {
      best = a;
      best_us = us;
    }
  }
  return best;
}

double predicted_us(Algorithm algo, int nranks, size_t bytes, const CostModel& model) {
  return predicted_us(algo, Topology::single_host(nranks), bytes, model);
}

Algorithm choose_algorithm(int nranks, size_t bytes, const CostModel& model) {
  return choose_algorithm(Topology::single_host(nranks), bytes, model);
}

}  // namespace sxcoll
