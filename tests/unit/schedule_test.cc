// Allreduce step programs, executed: the ring and tree programs of every world size 2..64
// (n = 1 never runs programs: the communicator copies) run in the step simulator and must
// fold every rank's input exactly once into every element of every rank's output, match
// every receive to a send of the same range, stay in their channel's slice, and finish.
// Also what the programs are built from: the ring's per-loop schedule and partition.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <vector>

#include <fmt/core.h>

#include "collectives/allreduce_ring.h"
#include "collectives/allreduce_tree.h"
#include "collectives/communicator.h"
#include "collectives/partition.h"
#include "collectives/ring_schedule.h"
#include "tests/unit/step_simulator.h"

namespace sxcoll {
namespace {

// ---------------------------------------------------------------------------------------
// partition.h

TEST(SplitRange, TilesTheRangeInAlignedPartsAndLeavesEmptyPartsPastTheData) {
  for (size_t count :
       {size_t{0}, size_t{1}, size_t{7}, size_t{63}, size_t{64}, size_t{65}, size_t{1009}, size_t{4096}}) {
    for (size_t parts = 1; parts <= 9; ++parts) {
      for (size_t align : {size_t{1}, size_t{2}, size_t{8}, size_t{16}, size_t{64}}) {
        SCOPED_TRACE(fmt::format("count {} parts {} align {}", count, parts, align));
        const size_t largest = ((count + parts - 1) / parts + align - 1) / align * align;
        size_t end = 0;
        bool seen_short = false;
        for (size_t i = 0; i < parts; ++i) {
          Range r = split_range(count, parts, i, align);
          EXPECT_EQ(r.offset, end) << "part " << i << " does not start where the previous ended";
          EXPECT_LE(r.count, largest) << "part " << i;
          if (r.count == 0) {
            EXPECT_EQ(r.offset, count) << "an empty part sits past the data";
          }
          // Only the last non-empty part may be short of a multiple of align.
          if (r.count > 0) {
            EXPECT_FALSE(seen_short) << "part " << i << " follows a short part";
            EXPECT_EQ(r.offset % align, 0u) << "part " << i;
            if (r.count % align != 0) seen_short = true;
          }
          end = r.offset + r.count;
        }
        EXPECT_EQ(end, count);
      }
    }
  }
}

TEST(SplitRange, NearEqualWhenAlignmentAllows) {
  // 1000 elements in 4 parts of 250 (align 1) or 256, 256, 256, 232 (align 64: 250 rounds up).
  EXPECT_EQ(split_range(1000, 4, 3, 1).count, 250u);
  EXPECT_EQ(split_range(1000, 4, 0, 64).count, 256u);
  EXPECT_EQ(split_range(1000, 4, 3, 64).count, 232u);
  // 100 elements, 8 parts of 64: the data ends in part 1, parts 2..7 are empty at 100.
  EXPECT_EQ(split_range(100, 8, 1, 64).count, 36u);
  EXPECT_EQ(split_range(100, 8, 2, 64).offset, 100u);
  EXPECT_EQ(split_range(100, 8, 7, 64).count, 0u);
}

TEST(SplitRange, CountsBeyond32BitsAreNotTruncated) {
  const size_t count = (size_t{5} << 32) + 3;  // 20 GiB of 1-byte elements and a bit
  for (size_t parts : {size_t{1}, size_t{3}, size_t{32}}) {
    size_t end = 0;
    for (size_t i = 0; i < parts; ++i) {
      Range r = split_range(count, parts, i, 64);
      EXPECT_EQ(r.offset, end);
      EXPECT_GT(r.count, size_t{1} << 28) << "parts " << parts;
      end = r.offset + r.count;
    }
    EXPECT_EQ(end, count) << "parts " << parts;
  }
  EXPECT_EQ(split_range(count, 3, 2, 64).offset, ((count + 2) / 3 + 63) / 64 * 64 * 2);
}

TEST(ChunkElements, MultipleOfAlignThatFitsTheSlot) {
  for (size_t slot : {size_t{1}, size_t{100}, size_t{4096}, size_t{512} << 10, size_t{1} << 20, size_t{3} << 20}) {
    for (size_t esize : {size_t{1}, size_t{2}, size_t{4}, size_t{8}}) {
      const size_t align = alignment_elements(esize);
      const size_t chunk = chunk_elements(slot, esize, align);
      SCOPED_TRACE(fmt::format("slot {} esize {} align {}", slot, esize, align));
      EXPECT_EQ(chunk % align, 0u);
      EXPECT_GE(chunk, align);
      // Fits the slot unless even one aligned unit does not.
      if (slot >= align * esize) {
        EXPECT_LE(chunk * esize, slot);
        EXPECT_GT((chunk + align) * esize, slot) << "not the largest aligned chunk that fits";
      }
    }
  }
  EXPECT_EQ(chunk_elements(size_t{8} << 30, 1, 64), size_t{8} << 30);  // no 32-bit truncation
}

TEST(AlignmentElements, OneCacheLine) {
  EXPECT_EQ(alignment_elements(1), 64u);
  EXPECT_EQ(alignment_elements(2), 32u);
  EXPECT_EQ(alignment_elements(4), 16u);
  EXPECT_EQ(alignment_elements(8), 8u);
  EXPECT_EQ(alignment_elements(64), 1u);
  EXPECT_EQ(alignment_elements(128), 1u);
}

// ---------------------------------------------------------------------------------------
// The ring's per-loop schedule.

TEST(RingSchedule, ReduceScatterThenAllGatherForEveryWorldSize) {
  for (int n = 2; n <= 64; ++n) {
    for (int rank = 0; rank < n; ++rank) {
      SCOPED_TRACE(fmt::format("n {} rank {}", n, rank));
      auto steps = ring_allreduce_steps(n, rank);
      ASSERT_EQ(steps.size(), static_cast<size_t>(2 * n - 1));
      // The first step sends the input as it is; every later step receives; the last sends nothing.
      EXPECT_TRUE(steps.front().send_input && steps.front().send && !steps.front().recv);
      for (size_t i = 1; i < steps.size(); ++i) EXPECT_TRUE(steps[i].recv) << i;
      for (size_t i = 0; i + 1 < steps.size(); ++i) EXPECT_TRUE(steps[i].send) << i;
      EXPECT_FALSE(steps.back().send);
      // Reduce-scatter (steps 0..n-1) visits every block once and folds all but the first.
      std::set<int> rs, ag;
      for (int i = 0; i < n; ++i) {
        rs.insert(steps[static_cast<size_t>(i)].block);
        EXPECT_EQ(steps[static_cast<size_t>(i)].reduce, i > 0) << i;
      }
      EXPECT_EQ(rs.size(), static_cast<size_t>(n));
      // Block `rank` is final here, after n-1 hops, and only there.
      for (int i = 0; i < 2 * n - 1; ++i) EXPECT_EQ(steps[static_cast<size_t>(i)].finalize, i == n - 1) << i;
      EXPECT_EQ(steps[static_cast<size_t>(n - 1)].block, rank);
      // All-gather copies in every other block once.
      for (int i = n; i < 2 * n - 1; ++i) {
        ag.insert(steps[static_cast<size_t>(i)].block);
        EXPECT_FALSE(steps[static_cast<size_t>(i)].reduce) << i;
      }
      EXPECT_EQ(ag.size(), static_cast<size_t>(n - 1));
      EXPECT_EQ(ag.count(rank), 0u);
      // What this rank sends at step i is what the next rank receives at step i+1.
      auto next = ring_allreduce_steps(n, ring_next(n, rank));
      for (size_t i = 0; i + 1 < steps.size(); ++i) EXPECT_EQ(steps[i].block, next[i + 1].block) << i;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Step programs in the simulator.

// Element layouts: alignment (elements per vector unit) and chunk (elements per slot).
struct Layout {
  size_t align;
  size_t chunk;
};
constexpr Layout kLayouts[] = {{1, 1}, {1, 3}, {4, 4}, {4, 12}, {16, 16}};

std::vector<size_t> counts_for(int n, int nchannels, const Layout& l) {
  const auto un = static_cast<size_t>(n);
  const auto uc = static_cast<size_t>(nchannels);
  std::vector<size_t> counts = {0, 1, un - 1, 7 * l.align + 3 /* not a multiple of the alignment */};
  // Kept small enough that 64 ranks run in milliseconds (a step per element is slow):
  if (l.chunk >= 3) counts.push_back(1009);                       // prime
  if (l.chunk <= 4) counts.push_back(2 * l.chunk * un * uc + 3);  // a few loops per channel, the last partial
  if (l.align <= 4) counts.push_back(un * l.align * uc - 1);      // one short of an aligned block per rank and channel
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  return counts;
}

// Every configuration runs out of place over unbounded links, machines in turn. Those
// that are not the prime also run in place with two slots per link (the engine's credit
// limit: a sender waits for a free slot), one step per turn in a seeded random order.
std::vector<sim::Options> executions(int n, size_t count) {
  sim::Options a;
  if (count == 1009) return {a};
  sim::Options b;
  b.in_place = true;
  b.slots = 2;
  b.burst = 1;
  b.seed = static_cast<uint32_t>(n * 7919 + count) | 1u;
  return {a, b};
}

using SetupFn = std::function<sim::Setup(int n, size_t count, int nchannels, size_t chunk, size_t align)>;

// Runs every (layout, count) pair; the channel count rotates with n, layout and count, so
// that each world size sees every channel count and, over neighbouring world sizes, every
// combination (the full cross product of all of them would take seconds).
// `messages` says how many sends a correct program makes.
void expect_allreduce(int n, const std::vector<int>& channel_counts, const SetupFn& setup,
                      const std::function<size_t(const sim::Setup&, size_t chunk)>& messages) {
  int failures = 0;
  size_t turn = static_cast<size_t>(n);
  for (const Layout& layout : kLayouts) {
    for (int shape = 0; shape < 3; ++shape) {
      const int nchannels = channel_counts[turn++ % channel_counts.size()];
      // The counts depend on the channel count; take every third, by shape.
      const auto counts = counts_for(n, nchannels, layout);
      for (size_t k = static_cast<size_t>(shape); k < counts.size(); k += 3) {
        const size_t count = counts[k];
        const sim::Setup s = setup(n, count, nchannels, layout.chunk, layout.align);
        for (sim::Options o : executions(n, count)) {
          o.slot_elements = layout.chunk;
          const sim::Result r = sim::run(s, o);
          const std::string config = fmt::format(
              "n {} count {} channels {} align {} chunk {} {}{}", n, count, nchannels, layout.align, layout.chunk,
              o.in_place ? "in place" : "out of place", o.slots ? fmt::format(", {} slots", o.slots) : "");
          if (!r.ok()) {
            ADD_FAILURE() << config << ": " << r.error;
            if (++failures >= 3) return;
            continue;
          }
          EXPECT_EQ(r.messages, messages(s, layout.chunk)) << config;
        }
      }
    }
  }
}

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

class RingPrograms : public ::testing::TestWithParam<int> {};

TEST_P(RingPrograms, EveryRankGetsEveryInputExactlyOnce) {
  const int n = GetParam();
  expect_allreduce(n, {1, 2, 3}, sim::ring_setup, [n](const sim::Setup& s, size_t chunk) {
    // 2(n-1) sends per rank and loop: every step but the last.
    size_t loops = 0;
    for (const auto& m : s.machines) loops += ceil_div(m.slice.count, chunk * static_cast<size_t>(n));
    return loops * static_cast<size_t>(2 * n - 2);
  });
}

INSTANTIATE_TEST_SUITE_P(WorldSizes, RingPrograms, ::testing::Range(2, 65),
                         [](const ::testing::TestParamInfo<int>& p) { return fmt::format("n{}", p.param); });

class TreePrograms : public ::testing::TestWithParam<int> {};

TEST_P(TreePrograms, EveryRankGetsEveryInputExactlyOnce) {
  const int n = GetParam();
  // The communicator runs an even number of tree channels (both trees); 1 and 3 exercise
  // the programs on one tree alone and on an uneven split.
  expect_allreduce(n, {1, 2, 3, 4}, sim::tree_setup, [n](const sim::Setup& s, size_t chunk) {
    // Per chunk of a channel, n-1 sends up (all but the root) and n-1 down (one per child).
    size_t total = 0;
    for (const auto& m : s.machines)
      if (m.kind == "up") total += ceil_div(m.slice.count, chunk);
    // `total` counted every chunk once per rank.
    return total / static_cast<size_t>(n) * static_cast<size_t>(2 * (n - 1));
  });
}

INSTANTIATE_TEST_SUITE_P(WorldSizes, TreePrograms, ::testing::Range(2, 65),
                         [](const ::testing::TestParamInfo<int>& p) { return fmt::format("n{}", p.param); });

class RecursiveDoublingPrograms : public ::testing::TestWithParam<int> {};

TEST_P(RecursiveDoublingPrograms, EveryRankGetsEveryInputExactlyOnce) {
  const int n = GetParam();
  expect_allreduce(n, {1, 2, 3}, sim::recursive_doubling_setup, [n](const sim::Setup& s, size_t chunk) {
    // Per chunk, every rank sends once per level: log2(n) sends.
    size_t levels = 0;
    while ((1 << levels) < n) ++levels;
    size_t total = 0;
    for (const auto& m : s.machines) total += ceil_div(m.slice.count, chunk) * levels;
    return total;
  });
}

INSTANTIATE_TEST_SUITE_P(PowersOfTwo, RecursiveDoublingPrograms, ::testing::Values(2, 4, 8, 16, 32, 64),
                         [](const ::testing::TestParamInfo<int>& p) { return fmt::format("n{}", p.param); });

TEST(RecursiveDoubling, AppliesToPowersOfTwoOnly) {
  for (int n = 1; n <= 64; ++n) EXPECT_EQ(recursive_doubling_applies(n), n >= 2 && (n & (n - 1)) == 0) << n;
  EXPECT_EQ(recursive_doubling_partners(8, 5), (std::vector<int>{4, 7, 1}));
}

TEST(RingProgramSize, IsLoopsTimesTwoNMinusOne) {
  for (int n = 2; n <= 64; ++n) {
    for (size_t count : {size_t{0}, size_t{1}, size_t{1009}, size_t{100000}}) {
      for (size_t chunk : {size_t{1}, size_t{16}, size_t{4096}}) {
        RingAllreduceProgram p(n, n - 1, Range{0, count}, chunk, 1);
        EXPECT_EQ(p.size(), ceil_div(count, chunk * static_cast<size_t>(n)) * static_cast<size_t>(2 * n - 1))
            << "n " << n << " count " << count << " chunk " << chunk;
      }
    }
  }
}

// 16 Gi elements (32 GiB of bf16) with the default 512 KiB slot: ranges and matching only,
// to show no offset or count is truncated to 32 bits anywhere in the programs.
TEST(LargeCounts, RingRangesMatchBeyond32Bits) {
  const size_t count = (size_t{16} << 30) + 1000;
  const size_t align = alignment_elements(2);
  const size_t chunk = chunk_elements(size_t{512} << 10, 2, align);
  sim::Options o;
  o.values = false;
  o.slot_elements = chunk;
  const sim::Result r = sim::run(sim::ring_setup(8, count, 2, chunk, align), o);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_GT(r.steps, size_t{200000});
}

TEST(LargeCounts, TreeRangesMatchBeyond32Bits) {
  const size_t count = (size_t{16} << 30) + 1000;
  const size_t align = alignment_elements(2);
  const size_t chunk = chunk_elements(size_t{512} << 10, 2, align);
  sim::Options o;
  o.values = false;
  o.slot_elements = chunk;
  const sim::Result r = sim::run(sim::tree_setup(6, count, 2, chunk, align), o);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_GT(r.steps, size_t{200000});
}

// Regression: slots = 1 is accepted, but a ring
// step may run only when its out-link has a free slot, and the one slot downstream is freed
// only by the downstream rank's same step, which waits for its own downstream: every rank
// waits for its next, and allreduce (ring) hangs until the timeout for every n >= 2.
TEST(RingSlots, FinishesWithEverySlotCountValidateOptionsAccepts) {
  for (uint32_t slots : {1u, 2u, 4u, 8u, 64u}) {
    CommunicatorOptions options;
    options.slots = slots;
    options.buffsize = size_t{slots} * 4096;
    bool accepted = true;
    try {
      validate_options(options);
    } catch (const std::exception&) {
      accepted = false;
    }
    if (!accepted) continue;
    for (int n : {2, 3, 8}) {
      sim::Options o;
      o.slots = slots;
      const sim::Result r = sim::run(sim::ring_setup(n, 1009, 1, 16, 16), o);
      EXPECT_TRUE(r.ok()) << "validate_options accepts slots = " << slots << ", but n = " << n << ": " << r.error;
    }
  }
}

TEST(TreeSlots, FinishWithOneSlotPerLink) {
  // Up and down use different links and the tree has no cycle: one slot suffices.
  for (int n : {2, 3, 12, 31}) {
    sim::Options o;
    o.slots = 1;
    o.burst = 1;
    const sim::Result r = sim::run(sim::tree_setup(n, 1009, 2, 16, 16), o);
    EXPECT_TRUE(r.ok()) << "n = " << n << ": " << r.error;
  }
}

// ---------------------------------------------------------------------------------------
// The simulator catches what it is there to catch: faults made on purpose fail.

// A program with one step changed (and optionally one step appended).
class Faulty final : public StepProgram {
 public:
  Faulty(std::shared_ptr<const StepProgram> base, std::function<void(size_t, Step&)> change, size_t extra = 0,
         Step extra_step = {})
      : base_(std::move(base)), change_(std::move(change)), extra_(extra), extra_step_(extra_step) {}
  size_t size() const override { return base_->size() + extra_; }
  Step at(size_t index) const override {
    if (index >= base_->size()) return extra_step_;
    Step st = base_->at(index);
    change_(index, st);
    return st;
  }

 private:
  std::shared_ptr<const StepProgram> base_;
  std::function<void(size_t, Step&)> change_;
  size_t extra_;
  Step extra_step_;
};

sim::Result run_with_fault(sim::Setup s, int rank, const std::string& kind, std::function<void(size_t, Step&)> change,
                           size_t extra = 0, Step extra_step = {}) {
  for (auto& m : s.machines)
    if (m.rank == rank && m.channel == 0 && m.kind == kind)
      m.program = std::make_shared<Faulty>(m.program, change, extra, extra_step);
  return sim::run(s);
}

TEST(StepSimulator, CatchesAMissingContribution) {
  const int n = 5;  // the finalize step is step n-1 of each loop
  auto r = run_with_fault(sim::ring_setup(n, 100, 1, 4, 4), 2, "ring", [](size_t i, Step& st) {
    if (i == n - 1) st.with_input = false;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("terms"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesADoubleCount) {
  // An all-gather step that folds the input in again.
  auto r = run_with_fault(sim::ring_setup(5, 100, 1, 4, 4), 1, "ring", [](size_t i, Step& st) {
    if (i == 6) st.with_input = true;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("6 terms"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesARepeatedRankEvenWhenTheSumLooksRight) {
  // 2^0 + 2^0 == 2^1: rank 0 twice and rank 1 missing sum like rank 1 once; the term count tells.
  sim::Value v = sim::fold(sim::fold(sim::Value::input_of(0), sim::Value::input_of(0)), sim::Value::input_of(2));
  v.finalized = 1;
  EXPECT_NE(sim::check_final(v, 3), "");
  sim::Value ok = sim::fold(sim::fold(sim::Value::input_of(0), sim::Value::input_of(1)), sim::Value::input_of(2));
  ok.finalized = 1;
  EXPECT_EQ(sim::check_final(ok, 3), "");
  // 64 ranks: the sum of all inputs is 2^64 - 1 exactly; one rank twice carries into the high word.
  sim::Value all;
  all.written = true;
  for (int r = 0; r < 64; ++r) all = sim::fold(all, sim::Value::input_of(r));
  all.finalized = 1;
  EXPECT_EQ(sim::check_final(all, 64), "");
  sim::Value twice = sim::fold(all, sim::Value::input_of(63));
  EXPECT_NE(sim::check_final(twice, 64), "");
}

TEST(StepSimulator, CatchesAMisplacedRange) {
  auto r = run_with_fault(sim::ring_setup(4, 256, 1, 8, 8), 3, "ring", [](size_t i, Step& st) {
    if (i == 2) st.offset += 8;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("offset"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesAMissingFinalize) {
  auto r = run_with_fault(sim::ring_setup(4, 64, 1, 4, 4), 0, "ring", [](size_t i, Step& st) {
    if (i == 3) st.finalize = false;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("finalized 0 times"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesADownStepThatDoesNotWaitForTheUpStep) {
  // Tree 0's root is rank 0: without `after` it broadcasts before it has the sum.
  auto r = run_with_fault(sim::tree_setup(6, 64, 1, 8, 8), 0, "down", [](size_t, Step& st) { st.after = -1; });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("never written"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesADeadlock) {
  Step extra;
  extra.nrecv = 1;  // waits for a message nobody sends
  auto r = run_with_fault(
      sim::ring_setup(3, 30, 1, 2, 1), 1, "ring", [](size_t, Step&) {}, 1, extra);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("deadlock"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("rank 1 channel 0 ring"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesAMessageNobodyReceives) {
  Step extra;
  extra.nsend = 1;
  extra.send_input = true;
  auto r = run_with_fault(
      sim::ring_setup(3, 30, 1, 2, 1), 1, "ring", [](size_t, Step&) {}, 1, extra);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("never received"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesUnequalByteCounts) {
  auto r = run_with_fault(sim::ring_setup(4, 256, 1, 8, 8), 2, "ring", [](size_t i, Step& st) {
    if (i == 0) st.count -= 1;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("were due"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesARangeOutsideTheChannel) {
  sim::Setup s = sim::ring_setup(4, 256, 2, 8, 8);  // channel 0 holds [0, 128)
  auto r = run_with_fault(s, 0, "ring", [](size_t i, Step& st) {
    if (i == 0) st.offset = 128;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("outside"), std::string::npos) << r.error;
}

TEST(StepSimulator, CatchesAWriteLargerThanASlot) {
  sim::Options o;
  o.slot_elements = 4;
  const sim::Result r = sim::run(sim::ring_setup(3, 100, 1, 8, 1), o);  // chunk 8 in slots of 4
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("into a slot of 4"), std::string::npos) << r.error;
}

TEST(StepSimulator, RangeModeCatchesADoubleFinalize) {
  sim::Setup s = sim::ring_setup(4, 256, 1, 8, 8);
  for (auto& m : s.machines)
    if (m.rank == 1)
      m.program = std::make_shared<Faulty>(m.program, [](size_t i, Step& st) {
        if (i == 4) st.finalize = true;  // an all-gather step
      });
  sim::Options o;
  o.values = false;
  auto r = sim::run(s, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("twice"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace sxcoll
