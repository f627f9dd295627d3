// Where ranks are (collectives/topology.h): hosts in order of first appearance, local ranks
// in rank order whatever the launcher's placement, and the rail each local rank drives.
#include "collectives/topology.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace sxcoll {
namespace {

TEST(Topology, BlockedPlacement) {
  const Topology t = Topology::from_hostnames({"a", "a", "a", "b", "b", "b"});
  ASSERT_EQ(t.size(), 6);
  ASSERT_EQ(t.hosts(), 2);
  EXPECT_EQ(t.host_name(0), "a");
  EXPECT_EQ(t.host_name(1), "b");
  EXPECT_EQ(t.ranks_on(0), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(t.ranks_on(1), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(t.host_of(4), 1);
  EXPECT_EQ(t.local_rank(4), 1);
  EXPECT_EQ(t.local_size(0), 3);
  EXPECT_EQ(t.local_size_of(5), 3);
  EXPECT_EQ(t.rank_at(1, 2), 5);
  EXPECT_TRUE(t.uniform());
}

TEST(Topology, InterleavedRanksGroupByHostInRankOrder) {
  // Round-robin placement: rank 0 on A, 1 on B, 2 on A, ...
  const Topology t = Topology::from_hostnames({"nodeA", "nodeB", "nodeA", "nodeB", "nodeA", "nodeB"});
  ASSERT_EQ(t.hosts(), 2);
  EXPECT_EQ(t.host_name(0), "nodeA");
  EXPECT_EQ(t.ranks_on(0), (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(t.ranks_on(1), (std::vector<int>{1, 3, 5}));
  for (int r = 0; r < 6; ++r) {
    EXPECT_EQ(t.host_of(r), r % 2) << r;
    EXPECT_EQ(t.local_rank(r), r / 2) << r;
    EXPECT_EQ(t.rank_at(t.host_of(r), t.local_rank(r)), r) << r;
  }
  EXPECT_TRUE(t.uniform());
}

TEST(Topology, HostsNumberedByFirstAppearanceNotByName) {
  const Topology t = Topology::from_hostnames({"zeta", "alpha", "zeta", "mid"});
  ASSERT_EQ(t.hosts(), 3);
  EXPECT_EQ(t.host_name(0), "zeta");
  EXPECT_EQ(t.host_name(1), "alpha");
  EXPECT_EQ(t.host_name(2), "mid");
  EXPECT_EQ(t.ranks_on(0), (std::vector<int>{0, 2}));
}

TEST(Topology, UnevenHosts) {
  const Topology t = Topology::from_hostnames({"a", "b", "a", "a", "c", "b"});
  ASSERT_EQ(t.hosts(), 3);
  EXPECT_EQ(t.local_size(0), 3);
  EXPECT_EQ(t.local_size(1), 2);
  EXPECT_EQ(t.local_size(2), 1);
  EXPECT_EQ(t.local_rank(3), 2);
  EXPECT_EQ(t.local_rank(5), 1);
  EXPECT_FALSE(t.uniform());
}

TEST(Topology, SingleHostAndBlockedShapes) {
  const Topology one = Topology::single_host(5);
  EXPECT_EQ(one.hosts(), 1);
  EXPECT_EQ(one.local_size(0), 5);
  EXPECT_EQ(one.local_rank(3), 3);
  const Topology grid = Topology::blocked(3, 4);
  EXPECT_EQ(grid.size(), 12);
  EXPECT_EQ(grid.hosts(), 3);
  EXPECT_EQ(grid.host_of(7), 1);
  EXPECT_EQ(grid.local_rank(7), 3);
  EXPECT_TRUE(grid.uniform());
}

TEST(Topology, RailsSplitLocalRanksEvenly) {
  // 8 local ranks on 2 rails: 0-3 on rail 0, 4-7 on rail 1.
  const Topology t = Topology::blocked(2, 8);
  for (int r = 0; r < 16; ++r) EXPECT_EQ(t.rail_of(r, 2), t.local_rank(r) < 4 ? 0 : 1) << r;
  for (int r = 0; r < 16; ++r) EXPECT_EQ(t.rail_of(r, 1), 0) << r;
  for (int r = 0; r < 16; ++r) EXPECT_EQ(t.rail_of(r, 8), t.local_rank(r)) << r;
  // Three ranks on two rails: 0, 0, 1.
  const Topology odd = Topology::single_host(3);
  EXPECT_EQ(odd.rail_of(0, 2), 0);
  EXPECT_EQ(odd.rail_of(1, 2), 0);
  EXPECT_EQ(odd.rail_of(2, 2), 1);
  // Interleaved placement: by local rank, not by rank.
  const Topology inter = Topology::from_hostnames({"a", "b", "a", "b"});
  EXPECT_EQ(inter.rail_of(1, 2), 0);
  EXPECT_EQ(inter.rail_of(2, 2), 1);
}

TEST(Topology, RailsSetFromOutside) {
  Topology t = Topology::blocked(1, 4);
  t.set_rails({1, 0, 1, 0});
  EXPECT_EQ(t.rail_of(0, 2), 1);
  EXPECT_EQ(t.rail_of(1, 2), 0);
  EXPECT_THROW(t.set_rails({0, 1}), std::invalid_argument);
  EXPECT_THROW(t.set_rails({0, 1, -1, 0}), std::invalid_argument);
  EXPECT_EQ(t.rail_of(2, 2), 1);  // unchanged by the refused calls
}

}  // namespace
}  // namespace sxcoll
