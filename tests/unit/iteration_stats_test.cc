// Per-iteration statistics of -I 1 (bench/iteration_stats.h): nearest-rank percentiles,
// as nccl-tests computes its i_p99.
#include "bench/iteration_stats.h"

#include <gtest/gtest.h>

namespace sxcoll::bench {
namespace {

TEST(PercentileIndex, NearestRank) {
  EXPECT_EQ(percentile_index(1, 50), 0u);
  EXPECT_EQ(percentile_index(1, 99), 0u);
  EXPECT_EQ(percentile_index(20, 50), 9u);   // the 10th of 20
  EXPECT_EQ(percentile_index(20, 90), 17u);  // the 18th
  EXPECT_EQ(percentile_index(20, 99), 19u);  // the slowest
  EXPECT_EQ(percentile_index(100, 99), 98u);
  EXPECT_EQ(percentile_index(1000, 100), 999u);
}

TEST(IterationStats, OneSlowIterationShowsInTheTailNotTheMedian) {
  std::vector<double> t(20, 10.0);
  t[7] = 500.0;
  const IterationStats s = iteration_stats(t);
  EXPECT_DOUBLE_EQ(s.min_us, 10.0);
  EXPECT_DOUBLE_EQ(s.p50_us, 10.0);
  EXPECT_DOUBLE_EQ(s.p90_us, 10.0);
  EXPECT_DOUBLE_EQ(s.p99_us, 500.0);
  EXPECT_DOUBLE_EQ(s.max_us, 500.0);
  EXPECT_DOUBLE_EQ(s.avg_us, (19 * 10.0 + 500.0) / 20);
  EXPECT_GT(s.stdev_us, 100.0);
}

TEST(IterationStats, UnsortedInput) {
  const IterationStats s = iteration_stats({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(s.min_us, 1);
  EXPECT_DOUBLE_EQ(s.p50_us, 3);
  EXPECT_DOUBLE_EQ(s.max_us, 5);
  EXPECT_DOUBLE_EQ(s.avg_us, 3);
}

}  // namespace
}  // namespace sxcoll::bench
