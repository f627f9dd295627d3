// How "auto" picks an allreduce algorithm (collectives/algorithm.h): names that parse
// back, and a latency/bandwidth model under which the tree wins small messages, the ring
// large ones, with one crossover.
#include "collectives/algorithm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <ostream>

namespace sxcoll {

// Names in failure messages instead of bytes.
static void PrintTo(Algorithm a, std::ostream* os) { *os << algorithm_name(a); }

namespace {

TEST(AlgorithmName, RoundTrips) {
  for (Algorithm a : {Algorithm::Ring, Algorithm::Tree, Algorithm::RecursiveDoubling, Algorithm::Auto})
    EXPECT_EQ(parse_algorithm(algorithm_name(a)), a);
  EXPECT_EQ(algorithm_name(Algorithm::RecursiveDoubling), "rd");
  EXPECT_EQ(algorithm_name(Algorithm::Ring), "ring");
  EXPECT_EQ(algorithm_name(Algorithm::Tree), "tree");
  EXPECT_EQ(algorithm_name(Algorithm::Auto), "auto");
}

TEST(AlgorithmName, RejectsOtherSpellings) {
  for (const char* text : {"", "Ring", "TREE", "rings", " ring", "ring ", "nvls", "collnet", "?"})
    EXPECT_EQ(parse_algorithm(text), std::nullopt) << '"' << text << '"';
}

TEST(ChooseAlgorithm, OneRankRingTwoRanksExchange) {
  const CostModel model;
  for (size_t bytes : {size_t{0}, size_t{8}, size_t{1} << 20, size_t{32} << 30})
    EXPECT_EQ(choose_algorithm(1, bytes, model), Algorithm::Ring) << bytes << " bytes";
  // Two ranks: one exchange (recursive doubling) moves as many bytes per rank as the ring's
  // two hops, with half the latency.
  for (size_t bytes : {size_t{8}, size_t{1} << 20, size_t{32} << 30})
    EXPECT_EQ(choose_algorithm(2, bytes, model), Algorithm::RecursiveDoubling) << bytes;
}

TEST(ChooseAlgorithm, EightRanksDoublingThenTreeThenRing) {
  // alpha 20 us, beta 2000 B/us: rd 3(a + S/b) < tree 6a + 2S/b below S = 3ab = 120 KB;
  // tree < ring 14a + 1.75 S/b below S = 32ab = 1.28 MB.
  const CostModel model;
  for (size_t bytes : {size_t{8}, size_t{1} << 10, size_t{64} << 10})
    EXPECT_EQ(choose_algorithm(8, bytes, model), Algorithm::RecursiveDoubling) << bytes;
  for (size_t bytes : {size_t{256} << 10, size_t{1} << 20})
    EXPECT_EQ(choose_algorithm(8, bytes, model), Algorithm::Tree) << bytes;
  for (size_t bytes : {size_t{16} << 20, size_t{64} << 20, size_t{1} << 30, size_t{32} << 30})
    EXPECT_EQ(choose_algorithm(8, bytes, model), Algorithm::Ring) << bytes;
  // Six ranks: no recursive doubling.
  for (size_t bytes : {size_t{8}, size_t{64} << 10})
    EXPECT_EQ(choose_algorithm(6, bytes, model), Algorithm::Tree) << bytes;
}

TEST(ChooseAlgorithm, OneCrossoverFromTreeToRing) {
  const CostModel model;
  for (int n = 3; n <= 1024; n += (n < 64 ? 1 : 61)) {
    bool ring_seen = false;
    for (int shift = 0; shift <= 40; ++shift) {
      const size_t bytes = size_t{1} << shift;
      const Algorithm a = choose_algorithm(n, bytes, model);
      if (ring_seen) {
        EXPECT_EQ(a, Algorithm::Ring) << n << " ranks, " << bytes << " bytes: back from ring";
      }
      if (a == Algorithm::Ring) ring_seen = true;
    }
    // Up to this cluster's 64 ranks the largest message goes round the ring (far beyond,
    // the ring's 2(n-1) latency steps outweigh its bandwidth advantage even at 32 GiB).
    if (n <= 64) {
      EXPECT_EQ(choose_algorithm(n, size_t{32} << 30, model), Algorithm::Ring) << n << " ranks, 32 GiB";
    }
  }
}

TEST(ChooseAlgorithm, RingOnTies) {
  // Three ranks: both take 2 * 2 latency steps, so an empty message ties.
  const CostModel model;
  ASSERT_EQ(predicted_us(Algorithm::Tree, 3, 0, model), predicted_us(Algorithm::Ring, 3, 0, model));
  EXPECT_EQ(choose_algorithm(3, 0, model), Algorithm::Ring);
}

TEST(ChooseAlgorithm, FollowsTheModel) {
  // Free latency: bandwidth alone decides, and the ring moves less per rank.
  CostModel bandwidth_only{0.0, 1000.0};
  EXPECT_EQ(choose_algorithm(16, 8, bandwidth_only), Algorithm::Ring);
  // Very slow messages: latency decides, and the tree has fewer steps.
  CostModel latency_bound{1e6, 1000.0};
  EXPECT_EQ(choose_algorithm(16, size_t{1} << 30, latency_bound), Algorithm::RecursiveDoubling);
  EXPECT_EQ(choose_algorithm(12, size_t{1} << 30, latency_bound), Algorithm::Tree);
}

TEST(PredictedTime, GrowsWithBytesAndRanks) {
  const CostModel model;
  for (Algorithm a : {Algorithm::Ring, Algorithm::Tree}) {
    for (int n = 2; n <= 256; ++n) {
      double previous = -1;
      for (int shift = 0; shift <= 45; ++shift) {
        const double t = predicted_us(a, n, size_t{1} << shift, model);
        EXPECT_TRUE(std::isfinite(t));
        EXPECT_GT(t, previous) << algorithm_name(a) << " n " << n << " bytes 2^" << shift;
        previous = t;
      }
      EXPECT_GE(predicted_us(a, n + 1, size_t{1} << 20, model), predicted_us(a, n, size_t{1} << 20, model))
          << algorithm_name(a) << " n " << n;
    }
  }
}

TEST(PredictedTime, MatchesTheAlphaBetaFormulas) {
  const CostModel model{10.0, 100.0};
  // Ring: 2(n-1) steps, each moving S/n. Tree: up and down ceil(log2 n) levels, 2S per rank.
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Ring, 4, 4000, model), 2 * 3 * 10.0 + 2 * 3 / 4.0 * 4000 / 100.0);
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Tree, 5, 4000, model), 2 * 3 * 10.0 + 2 * 4000 / 100.0);
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Tree, 8, 0, model), 2 * 3 * 10.0);
}

}  // namespace
}  // namespace sxcoll
