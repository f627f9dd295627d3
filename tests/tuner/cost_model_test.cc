// The alpha-beta model: the fit recovers a known line, the algorithms' step counts turn it
// into alpha and beta, and the crossover and predicted busbw follow from them.
#include "tuner/cost_model.h"

#include <gtest/gtest.h>

namespace sxcoll::tune {
namespace {

std::vector<std::pair<double, double>> line(double a, double b) {
  std::vector<std::pair<double, double>> points;
  for (double s = 1 << 12; s <= (1 << 24); s *= 2) points.emplace_back(s, a + b * s);
  return points;
}

TEST(CostModel, FitRecoversALine) {
  LinearFit f = fit_linear(line(50, 0.001));
  ASSERT_TRUE(f.ok);
  EXPECT_NEAR(f.a_us, 50, 1e-6);
  EXPECT_NEAR(f.b_us_per_byte, 0.001, 1e-12);
  EXPECT_NEAR(f.r2, 1, 1e-9);
  EXPECT_EQ(f.points, 13u);
  EXPECT_FALSE(fit_linear({{1024, 10}}).ok);
  EXPECT_FALSE(fit_linear({{1024, 10}, {2048, 5}}).ok);  // slower for fewer bytes: no model
}

TEST(CostModel, StepCountsGiveAlphaAndBeta) {
  // Ring on 4 ranks: 6 steps of alpha, 2 x 3/4 of the bytes at beta.
  AlgorithmModel ring = ring_model(fit_linear(line(6 * 10, 1.5 * 0.0005)), 4);
  EXPECT_NEAR(ring.alpha_us, 10, 1e-9);
  EXPECT_NEAR(ring.beta_us_per_byte, 0.0005, 1e-12);
  // Tree on 4 ranks: 2 log2(4) = 4 latency terms, all the bytes.
  AlgorithmModel tree = tree_model(fit_linear(line(4 * 5, 0.002)), 4);
  EXPECT_NEAR(tree.alpha_us, 5, 1e-9);
  EXPECT_NEAR(tree.beta_us_per_byte, 0.002, 1e-12);
  EXPECT_NEAR(predicted_time_us(ring, 16, 1e6), 30 * 10 + 2.0 * 15 / 16 * 1e6 * 0.0005, 1e-6);
  EXPECT_NEAR(predicted_time_us(tree, 16, 1e6), 8 * 5 + 1e6 * 0.002, 1e-6);
  EXPECT_NEAR(predicted_time_us(tree, 16, 1e6, 0.5), 8 * 5 + 1e6 * 0.001, 1e-6);
}

TEST(CostModel, CrossoverWhereTheTimesMeet) {
  AlgorithmModel ring{"ring", 2, {}, 10, 0.001}, tree{"tree", 2, {}, 2, 0.004};
  // 16 ranks: ring 300 + 1.875e-3 S, tree 8 x 2 + 4e-3 S: equal at S = 284 / 2.125e-3.
  Crossover c = crossover(ring, tree, 16);
  ASSERT_TRUE(c.bytes);
  EXPECT_NEAR(*c.bytes, 284 / 2.125e-3, 1e-3);
  EXPECT_EQ(c.below, "tree");
  EXPECT_EQ(c.above, "ring");
  AlgorithmModel fast_tree{"tree", 2, {}, 1, 0.0001};
  Crossover always = crossover(ring, fast_tree, 16);
  EXPECT_FALSE(always.bytes);
  EXPECT_EQ(always.below, "tree");
  EXPECT_EQ(always.above, "tree");
}

TEST(CostModel, BusbwIsNcclTestsFormula) {
  EXPECT_NEAR(busbw_gbps(8, 1e9, 1e6), 1.0 * 2 * 7 / 8, 1e-12);  // 1 GB in 1 s: algbw 1 GB/s
  ClusterShape shape;
  EXPECT_DOUBLE_EQ(shape.beta_scale(), 0.5);  // two rails carry what one measured rail did
  AlgorithmModel ring{"ring", 2, {}, 0, 0.001}, tree{"tree", 2, {}, 0, 0.002};
  auto p = predict(ring, tree, shape, {16}, {1e9});
  ASSERT_EQ(p.size(), 1u);
  // No latency: ring busbw = 1 / (beta x scale) = 2 GB/s per rank pair of rails.
  EXPECT_NEAR(p[0].busbw[0].second.first, 2.0, 1e-9);
}

}  // namespace
}  // namespace sxcoll::tune
