// The topology-aware algorithms (collectives/algorithm_layout.h): ring_topo's ring goes
// host by host and spreads its host crossings over channels; hier and ring_topo fold every
// rank's input into every element exactly once, proven by the step simulator over hosts x
// local ranks 1..8 x 1..8, counts that do not divide, several channels, bounded slots, in
// place, and with ranks placed host by host, interleaved or shuffled.
#include "collectives/algorithm_layout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "tests/unit/step_simulator.h"
#include "transport/error.h"

namespace sxcoll {
namespace {

enum class Placement { Blocked, Interleaved, Shuffled };

std::string placement_name(Placement p) {
  return p == Placement::Blocked ? "blocked" : p == Placement::Interleaved ? "interleaved" : "shuffled";
}

// `hosts` x `local` ranks: host by host, round robin (rank r on host r % hosts), or in a
// seeded random order.
Topology place(int hosts, int local, Placement p) {
  const int n = hosts * local;
  std::vector<int> host_of(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) host_of[static_cast<size_t>(r)] = p == Placement::Blocked ? r / local : r % hosts;
  if (p == Placement::Shuffled) {
    std::mt19937 rng(static_cast<uint32_t>(hosts * 131 + local));
    std::shuffle(host_of.begin(), host_of.end(), rng);
  }
  std::vector<std::string> names;
  for (int h : host_of) names.push_back(fmt::format("node{:03}", 7 * h + 1));
  return Topology::from_hostnames(names);
}

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

struct Layout {
  size_t chunk;
  size_t align;
};

// Out of place over unbounded links; in place with 8 and with 2 slots per link, one step a
// turn in a seeded random order; out of place with 2 slots, machines in turn. Worlds over
// 16 ranks take the first and one of the others, by turn (all of them take seconds there).
std::vector<sim::Options> executions(int n, size_t count, int turn) {
  std::vector<sim::Options> all;
  all.push_back(sim::Options{});
  for (size_t slots : {size_t{8}, size_t{2}}) {
    sim::Options o;
    o.slots = slots;
    o.in_place = true;
    o.burst = 1;
    o.seed = static_cast<uint32_t>(n * 7919 + count * 31 + slots) | 1u;
    all.push_back(o);
  }
  sim::Options turns;
  turns.slots = 2;
  all.push_back(turns);
  if (n <= 16) return all;
  return {all[0], all[1 + static_cast<size_t>(turn) % 3]};
}

// Runs `algo` on `t` for several counts, layouts and channel counts; `messages` says how
// many sends a correct schedule makes. Returns the number of runs.
int expect_allreduce(Algorithm algo, const Topology& t, const std::string& what,
                     const std::function<size_t(const sim::Setup&, size_t chunk)>& messages) {
  const int n = t.size();
  const auto un = static_cast<size_t>(n);
  int runs = 0;
  int failures = 0;
  int turn = n;
  for (const Layout& l : {Layout{1, 1}, Layout{4, 4}, Layout{8, 2}}) {
    const int nchannels = 1 + turn++ % 3;
    const auto uc = static_cast<size_t>(nchannels);
    std::vector<size_t> counts = {1, un - 1, 7 * l.align + 3, 2 * l.chunk * un * uc + 3};
    if (l.chunk == 4) counts.push_back(1009);  // prime
    std::sort(counts.begin(), counts.end());
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    for (size_t count : counts) {
      if (count == 0) continue;
      const sim::Setup s = sim::layout_setup(algo, t, count, nchannels, l.chunk, l.align);
      for (sim::Options o : executions(n, count, turn++)) {
        o.slot_elements = l.chunk;
        const sim::Result r = sim::run(s, o);
        ++runs;
        const std::string config =
            fmt::format("{} {}: count {} channels {} chunk {} align {} {}{}", algorithm_name(algo), what, count,
                        nchannels, l.chunk, l.align, o.in_place ? "in place" : "out of place",
                        o.slots ? fmt::format(", {} slots", o.slots) : "");
        if (!r.ok()) {
          ADD_FAILURE() << config << ": " << r.error;
          if (++failures >= 3) return runs;
          continue;
        }
        EXPECT_EQ(r.messages, messages(s, l.chunk)) << config;
      }
    }
  }
  return runs;
}

size_t ring_messages(const sim::Setup& s, size_t chunk) {
  size_t loops = 0;
  for (const auto& m : s.machines) loops += ceil_div(m.slice.count, chunk * static_cast<size_t>(s.nranks));
  return loops * static_cast<size_t>(2 * s.nranks - 2);
}

// Per piece of L*H chunks and rank: 2H(L-1) sends in the host's ring (reduce-scatter and
// all-gather of H cells), 2(H-1) across hosts.
std::function<size_t(const sim::Setup&, size_t)> hier_messages(int hosts, int local) {
  return [hosts, local](const sim::Setup& s, size_t chunk) {
    const auto per_piece = static_cast<size_t>(2 * hosts * (local - 1) + 2 * (hosts - 1));
    const size_t piece = chunk * static_cast<size_t>(hosts * local);
    size_t total = 0;
    std::set<int> seen;  // one program per channel and rank counts the channel's pieces
    for (const auto& m : s.machines)
      if (seen.insert(m.rank * 64 + m.channel).second) total += ceil_div(m.slice.count, piece) * per_piece;
    return total;
  };
}

// ---------------------------------------------------------------------------------------
// ring_topo's ring

TEST(TopoRingOrder, HostByHostEachBoundaryCrossedOnce) {
  for (Placement p : {Placement::Blocked, Placement::Interleaved, Placement::Shuffled}) {
    for (int hosts = 1; hosts <= 8; ++hosts) {
      for (int local = 1; local <= 8; ++local) {
        const Topology t = place(hosts, local, p);
        for (int channels : {1, 2, 3, 8}) {
          for (int c = 0; c < channels; ++c) {
            const auto order = topo_ring_order(t, c, channels);
            std::vector<int> sorted = order;
            std::sort(sorted.begin(), sorted.end());
            std::vector<int> all(static_cast<size_t>(t.size()));
            std::iota(all.begin(), all.end(), 0);
            ASSERT_EQ(sorted, all) << "not a permutation";
            int crossings = 0;
            for (size_t i = 0; i < order.size(); ++i)
              crossings += t.host_of(order[i]) != t.host_of(order[(i + 1) % order.size()]);
            EXPECT_EQ(crossings, hosts == 1 ? 0 : hosts)
                << placement_name(p) << " " << hosts << "x" << local << " channel " << c << "/" << channels;
          }
        }
      }
    }
  }
}

TEST(TopoRingOrder, OneHostIsTheFlatRing) {
  const Topology t = Topology::single_host(6);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(topo_ring_order(t, c, 3), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  const AlgorithmLayout topo(Algorithm::TopoRing, t, 4, 2);
  const AlgorithmLayout flat(Algorithm::Ring, t, 4, 2);
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ(topo.links(c).in_peers, flat.links(c).in_peers);
    EXPECT_EQ(topo.links(c).out_peers, flat.links(c).out_peers);
  }
}

TEST(TopoRingOrder, InterleavedRanksStillCrossOncePerHost) {
  // a b a b a b: the flat ring crosses on every link, ring_topo once per host.
  const Topology t = Topology::from_hostnames({"a", "b", "a", "b", "a", "b"});
  EXPECT_EQ(topo_ring_order(t, 0, 1), (std::vector<int>{0, 2, 4, 1, 3, 5}));
  const AlgorithmLayout layout(Algorithm::TopoRing, t, 4, 1);
  EXPECT_EQ(layout.links(0).in_peers, (std::vector<int>{2}));
  EXPECT_EQ(layout.links(0).out_peers, (std::vector<int>{1}));
}

TEST(TopoRingOrder, ChannelsCrossHostsFromDifferentRanks) {
  // 8 local ranks, 2 channels: channel 0 leaves each host from local rank 7, channel 1
  // (rotated by 4) from local rank 3; and they enter at 0 and 4.
  const Topology t = Topology::blocked(2, 8);
  EXPECT_EQ(topo_ring_order(t, 0, 2), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(topo_ring_order(t, 1, 2), (std::vector<int>{4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11}));
  // Whenever there are at least as many local ranks as channels, every channel leaves
  // every host from another rank: the crossings spread over the host's rails.
  for (int hosts = 2; hosts <= 8; ++hosts)
    for (int local = 1; local <= 8; ++local)
      for (int channels = 1; channels <= local; ++channels) {
        const Topology tt = place(hosts, local, Placement::Interleaved);
        std::set<int> leaving;
        for (int c = 0; c < channels; ++c) {
          const auto order = topo_ring_order(tt, c, channels);
          for (size_t i = 0; i < order.size(); ++i)
            if (tt.host_of(order[i]) != tt.host_of(order[(i + 1) % order.size()])) leaving.insert(order[i]);
        }
        EXPECT_EQ(leaving.size(), static_cast<size_t>(hosts * channels)) << hosts << "x" << local << " " << channels;
      }
}

// Each local rank drives one rail (as verbs --rails local sets them), split by local rank.
Topology with_rails(Topology t, int nrails) {
  std::vector<int> rails;
  for (int r = 0; r < t.size(); ++r) rails.push_back(t.local_rank(r) * nrails / t.local_size_of(r));
  t.set_rails(std::move(rails));
  return t;
}

TEST(TopoRingOrder, WithRailsEachChannelCrossesHostsOnItsOwnRail) {
  for (Placement p : {Placement::Blocked, Placement::Interleaved, Placement::Shuffled})
    for (int hosts = 2; hosts <= 8; ++hosts)
      for (int nrails : {2, 4})
        for (int local = 2 * nrails; local <= 8; ++local) {
          const Topology t = with_rails(place(hosts, local, p), nrails);
          std::set<int> leaving;
          for (int channels : {1, 2, 4, 8}) {
            for (int c = 0; c < channels; ++c) {
              const auto order = topo_ring_order(t, c, channels);
              std::vector<int> sorted = order;
              std::sort(sorted.begin(), sorted.end());
              ASSERT_EQ(sorted.size(), static_cast<size_t>(t.size()));
              ASSERT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) << "not a permutation";
              int crossings = 0;
              for (size_t i = 0; i < order.size(); ++i) {
                const int from = order[i], to = order[(i + 1) % order.size()];
                if (t.host_of(from) == t.host_of(to)) continue;
                ++crossings;
                EXPECT_EQ(t.rail_of(from, nrails), c % nrails) << hosts << "x" << local << " channel " << c;
                EXPECT_EQ(t.rail_of(to, nrails), c % nrails) << hosts << "x" << local << " channel " << c;
                if (channels == 8) leaving.insert(from);
              }
              EXPECT_EQ(crossings, hosts) << placement_name(p) << " " << hosts << "x" << local;
            }
          }
          // 8 channels over the rails leave each host from 8 / rails ranks of each rail (or all of them).
          const int per_rail = std::min(8 / nrails, local / nrails);
          if (local % nrails == 0) {
            EXPECT_EQ(leaving.size(), static_cast<size_t>(hosts * nrails * per_rail)) << hosts << "x" << local;
          }
        }
}

TEST(TopoRingOrder, WithOneRankOfARailTheRotationStays) {
  // 2 local ranks on 2 rails: no rail has two ranks to enter and leave by.
  const Topology t = with_rails(Topology::blocked(2, 2), 2);
  EXPECT_EQ(topo_ring_order(t, 0, 2), topo_ring_order(Topology::blocked(2, 2), 0, 2));
  EXPECT_EQ(topo_ring_order(t, 1, 2), topo_ring_order(Topology::blocked(2, 2), 1, 2));
}

// ---------------------------------------------------------------------------------------
// Every rank's input in every element exactly once

class GridShapes : public ::testing::TestWithParam<int> {};

TEST_P(GridShapes, TopoRingFoldsEveryRankOnce) {
  const int hosts = GetParam() / 8 + 1;
  const int local = GetParam() % 8 + 1;
  if (hosts * local < 2) GTEST_SKIP() << "one rank: nothing to reduce";
  int runs = 0;
  for (Placement p : {Placement::Blocked, Placement::Interleaved, Placement::Shuffled})
    runs += expect_allreduce(Algorithm::TopoRing, place(hosts, local, p),
                             fmt::format("{}x{} {}", hosts, local, placement_name(p)), ring_messages);
  if (local >= 4)
    runs += expect_allreduce(Algorithm::TopoRing, with_rails(place(hosts, local, Placement::Shuffled), 2),
                             fmt::format("{}x{} shuffled, 2 rails", hosts, local), ring_messages);
  EXPECT_GT(runs, 0);
}

TEST_P(GridShapes, HierFoldsEveryRankOnce) {
  const int hosts = GetParam() / 8 + 1;
  const int local = GetParam() % 8 + 1;
  if (hosts * local < 2) GTEST_SKIP() << "one rank: nothing to reduce";
  int runs = 0;
  for (Placement p : {Placement::Blocked, Placement::Interleaved})
    runs += expect_allreduce(Algorithm::Hierarchical, place(hosts, local, p),
                             fmt::format("{}x{} {}", hosts, local, placement_name(p)), hier_messages(hosts, local));
  EXPECT_GT(runs, 0);
}

INSTANTIATE_TEST_SUITE_P(HostsByLocalRanks, GridShapes, ::testing::Range(0, 64),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return fmt::format("h{}x{}", p.param / 8 + 1, p.param % 8 + 1);
                         });

TEST(HierSlots, TwoSlotsPerLinkInManyOrders) {
  // Two slots per link (the least validate_options accepts: the host's ring needs them as
  // the flat ring does), many pieces, one step a turn in several random orders.
  for (auto [hosts, local] : {std::pair{2, 2}, std::pair{2, 3}, std::pair{3, 2}, std::pair{4, 4}}) {
    for (uint32_t seed = 1; seed <= 5; ++seed) {
      sim::Options o;
      o.slots = 2;
      o.burst = 1;
      o.seed = seed;
      o.in_place = seed % 2 == 0;
      const sim::Result r = sim::run(
          sim::layout_setup(Algorithm::Hierarchical, Topology::blocked(hosts, local), 1009, 2, 4, 4), o);
      EXPECT_TRUE(r.ok()) << hosts << "x" << local << " seed " << seed << ": " << r.error;
      EXPECT_GT(r.steps, size_t{1000});
    }
  }
}

TEST(HierPrograms, DegenerateToOneRing) {
  // One host: the host's ring alone (no inter program, no inter link); one rank per host:
  // the ring across hosts alone.
  const AlgorithmLayout one_host(Algorithm::Hierarchical, Topology::single_host(4), 1, 1);
  EXPECT_EQ(one_host.links(0).in_peers, (std::vector<int>{0}));
  EXPECT_EQ(one_host.links(0).out_peers, (std::vector<int>{2}));
  auto programs = one_host.programs(0, 100, 4, 1);
  ASSERT_EQ(programs.size(), 1u);
  EXPECT_EQ(programs[0].kind, "intra");
  EXPECT_EQ(programs[0].partner, -1);

  const AlgorithmLayout spread(Algorithm::Hierarchical, Topology::blocked(4, 1), 1, 1);
  EXPECT_EQ(spread.links(0).in_peers, (std::vector<int>{0}));
  EXPECT_EQ(spread.links(0).out_peers, (std::vector<int>{2}));
  programs = spread.programs(0, 100, 4, 1);
  ASSERT_EQ(programs.size(), 1u);
  EXPECT_EQ(programs[0].kind, "inter");

  // Both: the host's ring is link 0, the ring across hosts link 1, each program the
  // other's partner.
  const Topology t = Topology::from_hostnames({"a", "b", "a", "b", "a", "b"});  // rank 2: host a, local rank 1
  const AlgorithmLayout both(Algorithm::Hierarchical, t, 2, 1);
  EXPECT_EQ(both.links(0).in_peers, (std::vector<int>{0, 3}));
  EXPECT_EQ(both.links(0).out_peers, (std::vector<int>{4, 3}));
  programs = both.programs(0, 100, 4, 1);
  ASSERT_EQ(programs.size(), 2u);
  EXPECT_EQ(programs[0].partner, 1);
  EXPECT_EQ(programs[1].partner, 0);
}

TEST(HierPrograms, ReduceScatterRunsOnePieceAheadOfAllGather) {
  // 2 hosts x 2, one element per chunk: pieces of 4 cells, 3 pieces. The intra program's
  // phases of 4 steps go RS(0) RS(1) AG(0) RS(2) AG(1) AG(2); each all-gather waits for the
  // inter program's piece, each inter piece for its reduce-scatter.
  const HierShape shape{2, 2, 1, 0};
  const Range slice{100, 12};
  const HierIntraProgram intra(shape, slice, 1, 1);
  const HierInterProgram inter(shape, slice, 1, 1);
  ASSERT_EQ(intra.size(), 24u);
  ASSERT_EQ(inter.size(), 9u);  // 3 pieces of 2H-1 steps
  struct Phase {
    bool reduce_scatter;
    size_t piece;
  };
  const Phase order[] = {{true, 0}, {true, 1}, {false, 0}, {true, 2}, {false, 1}, {false, 2}};
  for (size_t k = 0; k < 6; ++k) {
    for (size_t i = 4 * k; i < 4 * k + 4; ++i) {
      const Step st = intra.at(i);
      EXPECT_GE(st.offset, slice.offset + 4 * order[k].piece) << "step " << i;
      EXPECT_LT(st.offset, slice.offset + 4 * order[k].piece + 4) << "step " << i;
      if (order[k].reduce_scatter) {
        EXPECT_EQ(st.after, -1) << "step " << i;
        EXPECT_TRUE(st.send_input || st.with_input) << "step " << i;
      } else {
        EXPECT_EQ(st.after, static_cast<int64_t>(inter.piece_end(order[k].piece))) << "step " << i;
        EXPECT_FALSE(st.with_input || st.with_output || st.send_input) << "step " << i;  // copies only
      }
    }
  }
  EXPECT_EQ(intra.reduce_scatter_end(0), 3u);
  EXPECT_EQ(intra.reduce_scatter_end(1), 7u);
  EXPECT_EQ(intra.reduce_scatter_end(2), 15u);
  for (size_t i = 0; i < inter.size(); ++i) {
    const Step st = inter.at(i);
    EXPECT_EQ(st.after, static_cast<int64_t>(intra.reduce_scatter_end(i / 3))) << "inter step " << i;
    EXPECT_FALSE(st.send_input || st.with_input) << "inter step " << i;  // the host's partial sum is the output
  }
}

TEST(HierPrograms, RefusedOnUnevenHosts) {
  const Topology uneven = Topology::from_hostnames({"a", "a", "b"});
  EXPECT_FALSE(algorithm_applies(Algorithm::Hierarchical, uneven));
  try {
    check_algorithm(Algorithm::Hierarchical, uneven);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "--algo hier needs the same number of ranks on every host, not 2 on a, 1 on b");
  }
  EXPECT_NO_THROW(check_algorithm(Algorithm::TopoRing, uneven));
  EXPECT_THROW(AlgorithmLayout(Algorithm::Hierarchical, uneven, 0, 1), std::logic_error);
  // Uneven hosts still connect what ring_topo needs.
  for (int r = 0; r < 3; ++r) EXPECT_FALSE(peers_to_connect(uneven, r, 2).empty());
}

TEST(PeersToConnect, CoverEveryAlgorithmThatApplies) {
  for (Placement p : {Placement::Blocked, Placement::Interleaved}) {
    const Topology t = place(2, 4, p);
    for (int r = 0; r < t.size(); ++r) {
      const auto peers = peers_to_connect(t, r, 2);
      EXPECT_TRUE(std::is_sorted(peers.begin(), peers.end()));
      EXPECT_EQ(std::find(peers.begin(), peers.end(), r), peers.end()) << "itself";
      for (Algorithm a : {Algorithm::Ring, Algorithm::Tree, Algorithm::RecursiveDoubling, Algorithm::TopoRing,
                          Algorithm::Hierarchical})
        for (int peer : AlgorithmLayout(a, t, r, layout_channels(a, 2)).peers())
          EXPECT_TRUE(std::binary_search(peers.begin(), peers.end(), peer))
              << algorithm_name(a) << " rank " << r << " peer " << peer;
    }
  }
  EXPECT_TRUE(peers_to_connect(Topology::single_host(1), 0, 2).empty());
}

}  // namespace
}  // namespace sxcoll
