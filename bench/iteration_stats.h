// Per-iteration timings of one size and placement (-I 1): where the average of the table
// hides a slow iteration, the percentiles and the maximum show it.
#pragma once

#include <cstddef>
#include <vector>

namespace sxcoll::bench {

struct IterationStats {
  double min_us = 0, max_us = 0, avg_us = 0, stdev_us = 0;
  double p50_us = 0, p90_us = 0, p95_us = 0, p99_us = 0;
};

// Nearest rank, as nccl-tests computes its i_p99: the smallest time that at least
// `percent` % of the iterations do not exceed.
size_t percentile_index(size_t n, int percent);

// `times_us` not empty.
IterationStats iteration_stats(std::vector<double> times_us);

}  // namespace sxcoll::bench
