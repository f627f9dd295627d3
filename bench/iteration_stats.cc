#include "bench/iteration_stats.h"

#include <algorithm>
#include <cmath>

namespace sxcoll::bench {

size_t percentile_index(size_t n, int percent) {
  const size_t rank = (n * static_cast<size_t>(percent) + 99) / 100;  // ceil(n * p / 100)
  return std::min(n - 1, rank > 0 ? rank - 1 : 0);
}

IterationStats iteration_stats(std::vector<double> times_us) {
  IterationStats s;
  if (times_us.empty()) return s;
  std::sort(times_us.begin(), times_us.end());
  const size_t n = times_us.size();
  s.min_us = times_us.front();
  s.max_us = times_us.back();
  s.p50_us = times_us[percentile_index(n, 50)];
  s.p90_us = times_us[percentile_index(n, 90)];
  s.p95_us = times_us[percentile_index(n, 95)];
  s.p99_us = times_us[percentile_index(n, 99)];
  double sum = 0;
  for (double t : times_us) sum += t;
  s.avg_us = sum / static_cast<double>(n);
  double var = 0;
  for (double t : times_us) var += (t - s.avg_us) * (t - s.avg_us);
  s.stdev_us = std::sqrt(var / static_cast<double>(n));
  return s;
}

}  // namespace sxcoll::bench
