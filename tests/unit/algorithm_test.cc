// How "auto" picks an allreduce algorithm (collectives/algorithm.h): names that parse
// back, and a latency/bandwidth model under which the tree wins small messages, the ring
// large ones, with one crossover.
#include "collectives/algorithm.h"

#include <gtest/gtest.h>

#include <algorithm>
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


// ---------------------------------------------------------------------------------------
// Two levels: within a host and between hosts (CostModel's inter_* fields).

TEST(AlgorithmName, TopologyAwareNames) {
  EXPECT_EQ(algorithm_name(Algorithm::TopoRing), "ring_topo");
  EXPECT_EQ(algorithm_name(Algorithm::Hierarchical), "hier");
  EXPECT_EQ(parse_algorithm("ring_topo"), Algorithm::TopoRing);
  EXPECT_EQ(parse_algorithm("hier"), Algorithm::Hierarchical);
  EXPECT_EQ(parse_algorithm("hierarchical"), std::nullopt);
}

TEST(TwoLevelModel, OneHostIsTheSingleLevelModel) {
  // The inter-node level must not matter on one host, whatever it says.
  CostModel model;
  model.inter_alpha_us = 1e6;
  model.inter_beta_bytes_per_us = 1.0;
  for (int n = 1; n <= 64; ++n) {
    const Topology t = Topology::single_host(n);
    for (int shift = 0; shift <= 36; shift += 3) {
      const size_t bytes = size_t{1} << shift;
      EXPECT_EQ(choose_algorithm(t, bytes, model), choose_algorithm(n, bytes, CostModel{})) << n << " " << bytes;
      for (Algorithm a : {Algorithm::Ring, Algorithm::Tree})
        EXPECT_DOUBLE_EQ(predicted_us(a, t, bytes, model), predicted_us(a, n, bytes, CostModel{}));
      // ring_topo and hier on one host are the ring.
      EXPECT_DOUBLE_EQ(predicted_us(Algorithm::TopoRing, t, bytes, model), predicted_us(Algorithm::Ring, t, bytes, model));
      EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Hierarchical, t, bytes, model),
                       predicted_us(Algorithm::Ring, t, bytes, model));
    }
  }
}

TEST(TwoLevelModel, HierFormula) {
  // 2 hosts x 4: 2(L-1) intra steps, 2(H-1) inter steps, the slower phase's bytes.
  const CostModel model{5.0, 1000.0, 30.0, 500.0};
  const Topology t = Topology::blocked(2, 4);
  const double s = 8000;
  const double intra = 2 * 3 / 4.0 * s / 1000.0;  // 12
  const double inter = 2 * 1 / 2.0 * s / 500.0;   // 16
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Hierarchical, t, 8000, model), 2 * 3 * 5.0 + 2 * 1 * 30.0 + std::max(intra, inter));
  // Ring across hosts: 2(n-1) steps at the slower latency, S/n per link and step, one crossing per host.
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Ring, t, 8000, model), 2 * 7 * (30.0 + 8000 / 8.0 / 500.0));
  // Tree: the single-level formula at the slower level.
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Tree, t, 8000, model), 2 * 3 * 30.0 + 2 * 8000 / 500.0);
  // rd: levels 1 and 2 stay within the hosts; level 4 crosses, all 4 ranks of a host at
  // once, their whole buffers sharing the host's budget.
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::RecursiveDoubling, t, 8000, model),
                   2 * (5.0 + 8000 / 1000.0) + (30.0 + 4 * 8000 / 500.0));
  // Ranks interleaved (a, b, a, b, ...): level 1 crosses, levels 2 and 4 stay within hosts.
  const Topology interleaved = Topology::from_hostnames({"a", "b", "a", "b", "a", "b", "a", "b"});
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::RecursiveDoubling, interleaved, 8000, model),
                   (30.0 + 4 * 8000 / 500.0) + 2 * (5.0 + 8000 / 1000.0));
}

TEST(TwoLevelModel, HierWinsLargeMessagesWhenHostsAreFarApart) {
  // Fast inside a host, slow between hosts: small messages take the fewest steps (rd),
  // large ones the algorithm that sends the least between hosts (hier).
  const CostModel model{2.0, 20000.0, 10.0, 2000.0};
  const Topology cluster = Topology::blocked(8, 8);
  EXPECT_EQ(choose_algorithm(cluster, 8, model), Algorithm::RecursiveDoubling);
  for (size_t bytes : {size_t{16} << 20, size_t{1} << 30, size_t{32} << 30})
    EXPECT_EQ(choose_algorithm(cluster, bytes, model), Algorithm::Hierarchical) << bytes;
  // One crossover from the latency algorithms to hier, and never back.
  bool hier_seen = false;
  for (int shift = 0; shift <= 36; ++shift) {
    const Algorithm a = choose_algorithm(cluster, size_t{1} << shift, model);
    if (hier_seen) {
      EXPECT_EQ(a, Algorithm::Hierarchical) << "2^" << shift;
    }
    hier_seen = hier_seen || a == Algorithm::Hierarchical;
  }
  EXPECT_TRUE(hier_seen);
  // The same 64 ranks on one host: the ring, as before.
  EXPECT_EQ(choose_algorithm(Topology::single_host(64), size_t{1} << 30, model), Algorithm::Ring);
  // One rank per host: hier would be the ring across hosts; the ring it is.
  EXPECT_EQ(choose_algorithm(Topology::blocked(8, 1), size_t{1} << 30, model), Algorithm::Ring);
}

TEST(TwoLevelModel, RingTopoWinsWhereTheLauncherInterleavedUnevenHosts) {
  // a b a b a: hier does not apply (3 and 2 ranks); the flat ring leaves each host twice
  // and so shares its inter-node bandwidth two ways, ring_topo leaves it once.
  const CostModel model{2.0, 20000.0, 10.0, 2000.0};
  const Topology interleaved = Topology::from_hostnames({"a", "b", "a", "b", "a"});
  const size_t big = size_t{1} << 30;
  EXPECT_EQ(predicted_us(Algorithm::Hierarchical, interleaved, big, model), HUGE_VAL);
  const double s = static_cast<double>(big);
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Ring, interleaved, big, model), 2 * 4 * (10.0 + 2 * s / 5 / 2000.0));
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::TopoRing, interleaved, big, model), 2 * 4 * (10.0 + s / 5 / 2000.0));
  EXPECT_EQ(choose_algorithm(interleaved, big, model), Algorithm::TopoRing);
  // Placed host by host the flat ring already crosses once: a tie, and ties go to the ring.
  const Topology blocked = Topology::from_hostnames({"a", "a", "a", "b", "b"});
  EXPECT_DOUBLE_EQ(predicted_us(Algorithm::Ring, blocked, big, model),
                   predicted_us(Algorithm::TopoRing, blocked, big, model));
  EXPECT_EQ(choose_algorithm(blocked, big, model), Algorithm::Ring);
}

TEST(TwoLevelModel, PicksOnlyWhatApplies) {
  const CostModel model{2.0, 20000.0, 10.0, 2000.0};
  const Topology uneven = Topology::from_hostnames({"a", "a", "b", "b", "b", "c"});
  for (int shift = 0; shift <= 36; ++shift) {
    const Algorithm a = choose_algorithm(uneven, size_t{1} << shift, model);
    EXPECT_NE(a, Algorithm::Hierarchical) << "2^" << shift;
    EXPECT_NE(a, Algorithm::RecursiveDoubling) << "2^" << shift;  // 6 ranks
    EXPECT_TRUE(algorithm_applies(a, uneven));
  }
}

}  // namespace
}  // namespace sxcoll
