#include "collectives/algorithm.h"

#include <cmath>

namespace sxcoll {

std::string_view algorithm_name(Algorithm algo) {
  switch (algo) {
    case Algorithm::Ring:
      return "ring";
    case Algorithm::Tree:
      return "tree";
    case Algorithm::Auto:
      return "auto";
  }
  return "?";
}

std::optional<Algorithm> parse_algorithm(std::string_view text) {
  for (Algorithm a : {Algorithm::Ring, Algorithm::Tree, Algorithm::Auto})
    if (text == algorithm_name(a)) return a;
  return std::nullopt;
}

double predicted_us(Algorithm algo, int nranks, size_t bytes, const CostModel& model) {
  const double n = nranks;
  const double s = static_cast<double>(bytes);
  if (algo == Algorithm::Tree) {
    // Up and down a tree of depth log2(n); across both trees each rank moves about 2S.
    const double depth = std::ceil(std::log2(n));
    return 2 * depth * model.alpha_us + 2 * s / model.beta_bytes_per_us;
  }
  // 2(n-1) steps, each moving S/n.
  return 2 * (n - 1) * model.alpha_us + 2 * (n - 1) / n * s / model.beta_bytes_per_us;
}

Algorithm choose_algorithm(int nranks, size_t bytes, const CostModel& model) {
  if (nranks <= 2) return Algorithm::Ring;
  return predicted_us(Algorithm::Tree, nranks, bytes, model) < predicted_us(Algorithm::Ring, nranks, bytes, model)
             ? Algorithm::Tree
             : Algorithm::Ring;
}

}  // namespace sxcoll
