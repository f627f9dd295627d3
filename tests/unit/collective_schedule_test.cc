// The schedules of the collectives besides allreduce, as plain data: the ring's two
// phases alone, alltoall's rounds (every pair meets once, both directions in the same
// round), the chain's links, and the check values' offsets that the bench's
// reduce-scatter, alltoall and allgather checks rely on.
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "bench/check_values.h"
#include "collectives/chain.h"
#include "collectives/collective.h"
#include "collectives/collective_layout.h"
#include "collectives/exchange.h"
#include "collectives/ring_schedule.h"

namespace sxcoll {
namespace {

TEST(RingPhases, AreTheAllreducesTwoHalves) {
  for (int n = 2; n <= 9; ++n)
    for (int r = 0; r < n; ++r) {
      const auto all = ring_allreduce_steps(n, r);
      const auto rs = ring_reduce_scatter_steps(n, r);
      const auto ag = ring_allgather_steps(n, r);
      ASSERT_EQ(rs.size(), static_cast<size_t>(n));
      ASSERT_EQ(ag.size(), static_cast<size_t>(n));
      // Reduce-scatter: the allreduce's first n steps, ending on this rank's block, kept.
      for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(rs[i].block, all[i].block);
      EXPECT_EQ(rs.back().block, r);
      EXPECT_TRUE(rs.back().finalize);
      EXPECT_FALSE(rs.back().send);
      // All-gather: this rank's input first, then every other block received once.
      EXPECT_EQ(ag.front().block, r);
      EXPECT_TRUE(ag.front().send_input);
      EXPECT_FALSE(ag.front().recv);
      std::set<int> received;
      for (size_t i = 1; i < ag.size(); ++i) {
        EXPECT_TRUE(ag[i].recv);
        EXPECT_FALSE(ag[i].reduce);
        received.insert(ag[i].block);
      }
      EXPECT_EQ(received.size(), static_cast<size_t>(n - 1));
      EXPECT_EQ(received.count(r), 0u);
    }
}

TEST(AlltoallRounds, EveryPairMeetsOnceInTheSameRoundBothWays) {
  for (int n = 2; n <= 17; ++n) {
    std::vector<std::vector<ExchangeRound>> rounds;
    for (int r = 0; r < n; ++r) rounds.push_back(alltoall_rounds(n, r));
    for (int r = 0; r < n; ++r) {
      ASSERT_EQ(rounds[static_cast<size_t>(r)].size(), static_cast<size_t>(n));
      std::set<size_t> blocks;
      for (int s = 0; s < n; ++s) {
        const ExchangeRound& mine = rounds[static_cast<size_t>(r)][static_cast<size_t>(s)];
        blocks.insert(mine.block);
        const int peer = static_cast<int>(mine.block);
        if (peer == r) {
          EXPECT_EQ(mine.send_link, -1);
          continue;
        }
        EXPECT_EQ(mine.send_link, alltoall_link(r, peer));
        // The peer exchanges with this rank in the same round.
        EXPECT_EQ(rounds[static_cast<size_t>(peer)][static_cast<size_t>(s)].block, static_cast<size_t>(r));
      }
      EXPECT_EQ(blocks.size(), static_cast<size_t>(n)) << "every block, own included, once";
    }
  }
}

TEST(ChainLayout, BroadcastFlowsFromTheRootAndReduceTowardIt) {
  for (int n = 2; n <= 6; ++n)
    for (int root = 0; root < n; ++root)
      for (int r = 0; r < n; ++r) {
        const CollectiveLayout bcast(Collective::Broadcast, n, r, 1, root);
        const CollectiveLayout reduce(Collective::Reduce, n, r, 1, root);
        const int p = chain_position(n, r, root);
        EXPECT_EQ(bcast.links(0).in_peers.size(), p == 0 ? 0u : 1u);
        EXPECT_EQ(bcast.links(0).out_peers.size(), p == n - 1 ? 0u : 1u);
        // The reverse of the broadcast's links.
        EXPECT_EQ(reduce.links(0).in_peers, bcast.links(0).out_peers);
        EXPECT_EQ(reduce.links(0).out_peers, bcast.links(0).in_peers);
        if (p > 0) {
          EXPECT_EQ(bcast.links(0).in_peers[0], chain_rank(n, p - 1, root));
        }
      }
}

TEST(CheckValuesOffset, APartOfTheInputIsThatPartOfTheWholeInput) {
  for (DataType type : kAllDataTypes) {
    const size_t esize = dtype_size(type);
    std::vector<char> whole(3000 * esize), part(1000 * esize);
    bench::fill_allreduce_input(whole.data(), 3000, type, RedOp::Sum, 1, 3);
    bench::fill_allreduce_input(part.data(), 1000, type, RedOp::Sum, 1, 3, 1001);
    EXPECT_EQ(std::vector<char>(whole.begin() + 1001 * static_cast<long>(esize),
                                whole.begin() + 2001 * static_cast<long>(esize)),
              part);
    bench::fill_rank_data(part.data(), 1000, type, 2, 3, 77);
    EXPECT_EQ(bench::count_rank_data_errors(part.data(), 1000, type, 2, 3, 77), 0u);
    // Another rank's data, or the right data one element off, is wrong almost everywhere.
    EXPECT_GT(bench::count_rank_data_errors(part.data(), 1000, type, 1, 3, 77), 900u);
    EXPECT_GT(bench::count_rank_data_errors(part.data(), 1000, type, 2, 3, 78), 900u);
  }
}

}  // namespace
}  // namespace sxcoll
