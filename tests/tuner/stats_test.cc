// The statistics that decide a knob: Student's t against table values, Welch's interval,
// and the rule that needs an interval above 0 and the minimum gain.
#include "tuner/stats.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace sxcoll::tune {
namespace {

TEST(Stats, SummaryIsMeanAndSampleVariance) {
  const std::vector<double> v{2, 4, 4, 4, 5, 5, 7, 9};
  Summary s = summarize(v);
  EXPECT_EQ(s.n, 8u);
  EXPECT_DOUBLE_EQ(s.mean, 5);
  EXPECT_NEAR(s.variance, 32.0 / 7, 1e-12);
  EXPECT_EQ(summarize(std::vector<double>{3}).variance, 0);
}

TEST(Stats, StudentTQuantilesMatchTheTables) {
  // Two-sided 95 %: the 0.975 quantile.
  const std::pair<double, double> table[] = {{1, 12.7062}, {2, 4.3027},  {3, 3.1824},  {4, 2.7764},
                                             {5, 2.5706},  {10, 2.2281}, {30, 2.0423}, {1e7, 1.9600}};
  for (auto [df, t] : table) EXPECT_NEAR(student_t_quantile(0.975, df), t, 1e-4) << "df " << df;
  EXPECT_NEAR(student_t_quantile(0.95, 10), 1.8125, 1e-4);
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.7764, 1e-4);
  EXPECT_NEAR(student_t_cdf(0, 3.7), 0.5, 1e-12);
  EXPECT_NEAR(student_t_cdf(2.7764, 4), 0.975, 1e-5);
  // Welch's degrees of freedom are not whole numbers: the quantile lies between its neighbours.
  const double t = student_t_quantile(0.975, 2.5);
  EXPECT_LT(t, 4.3027);
  EXPECT_GT(t, 3.1824);
}

TEST(Stats, WelchIntervalOfEqualSpreads) {
  // Equal n and variances: df = 2(n-1) = 4, se = sqrt(2/3).
  const std::vector<double> a{1, 2, 3}, b{3, 4, 5};
  Interval iv = welch_interval(summarize(a), summarize(b), 0.95);
  EXPECT_DOUBLE_EQ(iv.estimate, 2);
  EXPECT_NEAR(iv.low, 2 - 2.7764 * std::sqrt(2.0 / 3), 1e-3);
  EXPECT_NEAR(iv.high, 2 + 2.7764 * std::sqrt(2.0 / 3), 1e-3);
}

TEST(Stats, WelchIntervalWithoutSpreadIsThePoint) {
  const std::vector<double> a{1, 1}, b{3, 3};
  Interval iv = welch_interval(summarize(a), summarize(b), 0.95);
  EXPECT_EQ(iv.low, 2);
  EXPECT_EQ(iv.high, 2);
}

TEST(Stats, CompareWorksOnTheRatio) {
  const std::vector<double> base{10, 10.1, 9.9}, faster{12, 12.1, 11.9};
  Comparison c = compare(base, faster, 0.95, 0.02);
  EXPECT_TRUE(c.measurable);
  EXPECT_NEAR(c.gain, 0.2, 0.002);
  EXPECT_GT(c.gain_low, 0.15);
  EXPECT_LT(c.gain_high, 0.25);
  EXPECT_TRUE(c.significant);
  // The same ratio at another scale gives the same gain.
  const std::vector<double> base100{100, 101, 99}, faster100{120, 121, 119};
  EXPECT_NEAR(compare(base100, faster100, 0.95, 0.02).gain, c.gain, 1e-9);
}

TEST(Stats, NoiseIsNotAGain) {
  const std::vector<double> base{10, 11, 9}, other{10.5, 12, 9.5};
  Comparison c = compare(base, other, 0.95, 0.02);
  EXPECT_GT(c.gain, 0);
  EXPECT_LT(c.gain_low, 0);
  EXPECT_FALSE(c.significant);
}

TEST(Stats, AGainBelowTheMinimumIsNotTaken) {
  const std::vector<double> base{100, 100.01, 99.99}, other{101, 101.01, 100.99};
  Comparison c = compare(base, other, 0.95, 0.02);
  EXPECT_GT(c.gain_low, 0);  // real, but 1 % < 2 %
  EXPECT_FALSE(c.significant);
  EXPECT_TRUE(compare(base, other, 0.95, 0.005).significant);
}

TEST(Stats, OneMeasurementASideHasNoInterval) {
  const std::vector<double> base{10}, other{20, 21};
  Comparison c = compare(base, other, 0.95, 0.02);
  EXPECT_FALSE(c.measurable);
  EXPECT_FALSE(c.significant);
}

}  // namespace
}  // namespace sxcoll::tune
