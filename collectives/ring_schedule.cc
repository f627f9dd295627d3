#include "collectives/ring_schedule.h"

namespace sxcoll {

std::vector<RingStep> ring_allreduce_steps(int n, int rank) {
  auto block = [n](int b) { return ((b % n) + n) % n; };
  std::vector<RingStep> steps;
  steps.reserve(static_cast<size_t>(2 * n - 1));
  // Reduce-scatter: the partial sum of block r-1-j travels one hop per step ...
  steps.push_back({block(rank - 1), false, false, true, false, true});
  for (int j = 2; j < n; ++j) steps.push_back({block(rank - j), true, true, true, false, false});
  // ... and block r is complete here after n-1 hops.
  steps.push_back({rank, true, true, true, true, false});
  // All-gather: final blocks travel the ring once more.
  for (int j = 1; j < n - 1; ++j) steps.push_back({block(rank - j), true, false, true, false, false});
  steps.push_back({block(rank + 1), true, false, false, false, false});
  return steps;
}

std::vector<RingStep> ring_reduce_scatter_steps(int n, int rank) {
  std::vector<RingStep> steps = ring_allreduce_steps(n, rank);
  steps.resize(static_cast<size_t>(n));
  steps.back().send = false;  // the complete block stays here
  return steps;
}

std::vector<RingStep> ring_allgather_steps(int n, int rank) {
  std::vector<RingStep> all = ring_allreduce_steps(n, rank);
  std::vector<RingStep> steps(all.begin() + (n - 1), all.end());
  // This rank's block is its input, not a reduction's result.
  steps.front() = RingStep{rank, false, false, true, false, true};
  return steps;
}

}  // namespace sxcoll
