#include "bench/validate_analysis.h"

#include <cmath>
#include <set>

#include <gtest/gtest.h>

namespace sxcoll::bench {
namespace {

TEST(RoundRobin, EveryPairOnceAndNobodyTwiceInARound) {
  for (int n = 2; n <= 17; ++n) {
    auto rounds = round_robin_rounds(n);
    EXPECT_EQ(static_cast<int>(rounds.size()), n % 2 == 0 ? n - 1 : n) << n;
    std::set<std::pair<int, int>> seen;
    for (const auto& round : rounds) {
      std::set<int> busy;
      for (auto [a, b] : round) {
        EXPECT_LT(a, b);
        EXPECT_TRUE(busy.insert(a).second) << n;
        EXPECT_TRUE(busy.insert(b).second) << n;
        EXPECT_TRUE(seen.insert({a, b}).second) << n;
      }
      EXPECT_EQ(round.size(), static_cast<size_t>(n / 2));
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(n * (n - 1) / 2));
  }
  EXPECT_TRUE(round_robin_rounds(1).empty());
}

TEST(RobustBaseline, OutliersLeftOutUntilStable) {
  auto b = robust_baseline({100, 101, 99, 50, 100, 102, 98, 20}, 0.1);
  EXPECT_DOUBLE_EQ(b.value, 100);
  EXPECT_EQ(b.outliers, (std::vector<size_t>{3, 7}));
  // The plain median of a set with many slow values is low; the loop climbs back.
  auto c = robust_baseline({100, 100, 100, 100, 60, 55, 50}, 0.1);
  EXPECT_DOUBLE_EQ(c.value, 100);
  EXPECT_GE(c.iterations, 2);
  auto nan = robust_baseline({NAN, 10, 10}, 0.1);
  EXPECT_DOUBLE_EQ(nan.value, 10);
  EXPECT_EQ(nan.outliers, (std::vector<size_t>{0}));
}

ValidationData cluster(int n) {
  ValidationData d;
  for (int i = 0; i < n; ++i) d.nodes.push_back("fukushimadc-02-hgx-000" + std::to_string(i + 1));
  d.throttle.resize(static_cast<size_t>(n));
  d.lost.resize(static_cast<size_t>(n));
  return d;
}

void all_pairs(ValidationData& d, const std::string& rail, auto gbps) {
  const int n = static_cast<int>(d.nodes.size());
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b) d.links.push_back({rail, a, b, gbps(a, b)});
}

TEST(Analyse, HalfSpeedNodeNamedAloneWithItsLinks) {
  auto d = cluster(8);
  all_pairs(d, "tcp", [](int a, int b) { return (a == 6 || b == 6) ? 200.0 : 395.0 + a - b; });
  auto v = analyse(d, 0.1);
  EXPECT_TRUE(v.any_fail);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(v.nodes[i].fail, i == 6) << i;
  ASSERT_FALSE(v.nodes[6].causes.empty());
  EXPECT_NE(v.nodes[6].causes[0].find("slow on every link"), std::string::npos) << v.nodes[6].causes[0];
  EXPECT_NEAR(v.nodes[6].worst_deviation_pct, -50, 2);
  for (const auto& l : v.links) {
    EXPECT_EQ(l.slow, l.sample.a == 6 || l.sample.b == 6);
    if (l.slow) {
      EXPECT_NE(l.cause.find("fukushimadc-02-hgx-0007 is slow"), std::string::npos) << l.cause;
    }
  }
}

TEST(Analyse, FourNodesOneSlowAndANoisyLink) {
  // As measured on 4 namespace hosts: a third of each healthy node's links reach the slow one.
  auto d = cluster(4);
  d.links = {{"tcp", 0, 3, 0.383}, {"tcp", 1, 2, 0.187}, {"tcp", 0, 2, 0.166},
             {"tcp", 1, 3, 0.330}, {"tcp", 0, 1, 0.374}, {"tcp", 2, 3, 0.168}};
  auto v = analyse(d, 0.1);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(v.nodes[i].fail, i == 2) << i;
  EXPECT_NEAR(v.nodes[2].rails[0].deviation_pct, -50, 5);
}

TEST(Analyse, NothingFailsOnAnEvenCluster) {
  auto d = cluster(4);
  all_pairs(d, "tcp", [](int a, int b) { return 100.0 + a * 2 - b; });
  d.metrics.push_back({"cpu_mem_bw", "GB/s", {10.0, 9.5, 10.2, std::nullopt}});
  auto v = analyse(d, 0.1);
  EXPECT_FALSE(v.any_fail);
  for (const auto& n : v.nodes) EXPECT_TRUE(n.causes.empty()) << n.name;
}

TEST(Analyse, OneRailSlowOnOneNode) {
  auto d = cluster(4);
  all_pairs(d, "mlx5_0", [](int, int) { return 390.0; });
  all_pairs(d, "mlx5_1", [](int a, int b) { return (a == 2 || b == 2) ? 190.0 : 390.0; });
  auto v = analyse(d, 0.1);
  EXPECT_TRUE(v.nodes[2].fail);
  EXPECT_FALSE(v.nodes[0].fail);
  ASSERT_EQ(v.nodes[2].causes.size(), 1u);
  EXPECT_NE(v.nodes[2].causes[0].find("rail mlx5_1 slow"), std::string::npos) << v.nodes[2].causes[0];
}

TEST(Analyse, ALinkAloneAndAThrottledGpu) {
  auto d = cluster(4);
  all_pairs(d, "tcp", [](int a, int b) { return (a == 0 && b == 1) ? 50.0 : 100.0; });
  d.metrics.push_back({"gpu_tflops", "TFLOP/s", {700.0, 705.0, 350.0, 702.0}});
  d.throttle[2] = {"HW slowdown"};
  auto v = analyse(d, 0.1);
  EXPECT_FALSE(v.nodes[0].fail);
  EXPECT_FALSE(v.nodes[1].fail);
  EXPECT_TRUE(v.nodes[2].fail);
  EXPECT_NE(v.nodes[2].causes.back().find("throttled: HW slowdown"), std::string::npos);
  EXPECT_TRUE(v.links[0].slow);
  EXPECT_NE(v.links[0].cause.find("this link alone"), std::string::npos);
}

TEST(Analyse, LostNodeFailsWithItsCause) {
  auto d = cluster(4);
  d.links.push_back({"tcp", 0, 1, 100});
  d.links.push_back({"tcp", 2, 3, 100});
  d.lost[3] = "rank 3 lost";
  auto v = analyse(d, 0.1);
  EXPECT_TRUE(v.nodes[3].fail);
  EXPECT_EQ(v.nodes[3].causes.front(), "lost during validation: rank 3 lost");
  EXPECT_FALSE(v.nodes[0].fail);
  // Stopped after one round: a slow-looking link blames nobody.
  d.links[0].gbps = 50;
  d.links_complete = false;
  auto w = analyse(d, 0.1);
  EXPECT_FALSE(w.nodes[0].fail);
  EXPECT_FALSE(w.nodes[1].fail);
  EXPECT_TRUE(w.nodes[3].fail);
}

}  // namespace
}  // namespace sxcoll::bench
