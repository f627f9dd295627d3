// The bench's correctness data: every correct reduction order passes, and the faults
// an allreduce can make (a misplaced chunk, a rank counted twice, a rank missing) fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "bench/check_values.h"
#include "collectives/dtype.h"
#include "collectives/half.h"
#include "collectives/reduce.h"

namespace sxcoll::bench {
namespace {

using Buffer = std::vector<std::byte>;

struct Allreduce {
  DataType type;
  RedOp op;
  int nranks;
  size_t count;
  std::vector<Buffer> inputs;

  Allreduce(DataType t, RedOp o, int n, size_t c) : type(t), op(o), nranks(n), count(c) {
    for (int rank = 0; rank < n; ++rank) {
      inputs.emplace_back(c * dtype_size(t));
      fill_allreduce_input(inputs.back().data(), c, t, o, rank, n);
    }
  }

  // Folds the inputs of `ranks` in that order with reduce(); avg divides by nranks,
  // however many inputs were folded (which is what a faulty allreduce would do).
  Buffer fold(const std::vector<int>& ranks) const {
    Buffer out = inputs.at(static_cast<size_t>(ranks.front()));
    for (size_t k = 1; k < ranks.size(); ++k) {
      reduce(out.data(), out.data(), inputs.at(static_cast<size_t>(ranks[k])).data(), count, type, op);
    }
    if (op == RedOp::Avg) finalize_avg(out.data(), count, type, nranks);
    return out;
  }

  // Pairwise tree: ((0+1)+(2+3))+((4+5)+...), the order of a tree allreduce.
  Buffer fold_tree() const {
    std::vector<Buffer> level = inputs;
    while (level.size() > 1) {
      std::vector<Buffer> next;
      for (size_t k = 0; k + 1 < level.size(); k += 2) {
        reduce(level[k].data(), level[k].data(), level[k + 1].data(), count, type, op);
        next.push_back(std::move(level[k]));
      }
      if (level.size() % 2 == 1) next.push_back(std::move(level.back()));
      level = std::move(next);
    }
    if (op == RedOp::Avg) finalize_avg(level[0].data(), count, type, nranks);
    return level[0];
  }

  size_t errors(const Buffer& result) const {
    return count_allreduce_errors(result.data(), count, type, op, nranks);
  }
};

std::vector<int> ranks_in_order(int n) {
  std::vector<int> ranks(static_cast<size_t>(n));
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}

class CheckValues : public ::testing::TestWithParam<std::tuple<DataType, RedOp>> {};

std::string param_name(const ::testing::TestParamInfo<std::tuple<DataType, RedOp>>& param_info) {
  return fmt::format("{}_{}", dtype_name(std::get<0>(param_info.param)), redop_name(std::get<1>(param_info.param)));
}

TEST_P(CheckValues, EveryReductionOrderPassesForOneTo64Ranks) {
  const auto [type, op] = GetParam();
  for (int n = 1; n <= 64; ++n) {
    SCOPED_TRACE(fmt::format("{} ranks", n));
    const Allreduce allreduce(type, op, n, 1000);
    std::vector<int> order = ranks_in_order(n);
    EXPECT_EQ(allreduce.errors(allreduce.fold(order)), 0u) << "rank order";
    std::reverse(order.begin(), order.end());
    EXPECT_EQ(allreduce.errors(allreduce.fold(order)), 0u) << "reverse order";
    EXPECT_EQ(allreduce.errors(allreduce.fold_tree()), 0u) << "tree order";
  }
}

TEST_P(CheckValues, MisplacedChunkIsDetected) {
  const auto [type, op] = GetParam();
  const size_t size = dtype_size(type);
  for (int n : {1, 2, 3, 8, 64}) {
    SCOPED_TRACE(fmt::format("{} ranks", n));
    const Allreduce allreduce(type, op, n, 4096);
    const Buffer good = allreduce.fold(ranks_in_order(n));
    ASSERT_EQ(allreduce.errors(good), 0u);
    for (size_t shift : {size_t{1}, size_t{64}, size_t{1024}}) {
      // The result's elements [512, 1024) came from [512 + shift, 1024 + shift).
      Buffer bad = good;
      std::memcpy(bad.data() + 512 * size, good.data() + (512 + shift) * size, 512 * size);
      EXPECT_GT(allreduce.errors(bad), 0u) << "result shifted by " << shift;
    }
    // One rank's contribution to [512, 1024) came from the wrong offset.
    Allreduce shifted = allreduce;
    Buffer& input = shifted.inputs.back();
    std::memmove(input.data() + 512 * size, input.data() + 576 * size, 512 * size);
    EXPECT_GT(shifted.errors(shifted.fold(ranks_in_order(n))), 0u) << "one input shifted";
  }
}

TEST_P(CheckValues, RankCountedTwiceIsDetected) {
  const auto [type, op] = GetParam();
  if (op == RedOp::Min || op == RedOp::Max) {
    GTEST_SKIP() << "undetectable: min and max are idempotent, max(x, x) = x";
  }
  for (int n : {1, 2, 3, 8, 64}) {
    SCOPED_TRACE(fmt::format("{} ranks", n));
    const Allreduce allreduce(type, op, n, 4096);
    for (int twice : {0, n / 2, n - 1}) {
      std::vector<int> order = ranks_in_order(n);
      order.push_back(twice);
      EXPECT_GT(allreduce.errors(allreduce.fold(order)), 0u) << "rank " << twice << " twice";
    }
  }
}

TEST_P(CheckValues, MissingRankIsDetected) {
  const auto [type, op] = GetParam();
  for (int n : {2, 3, 8, 64}) {
    SCOPED_TRACE(fmt::format("{} ranks", n));
    const Allreduce allreduce(type, op, n, 4096);
    for (int missing : {0, n / 2, n - 1}) {
      std::vector<int> order = ranks_in_order(n);
      order.erase(order.begin() + missing);
      EXPECT_GT(allreduce.errors(allreduce.fold(order)), 0u) << "rank " << missing << " missing";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypesOps, CheckValues,
                         ::testing::Combine(::testing::ValuesIn(kAllDataTypes), ::testing::ValuesIn(kAllRedOps)),
                         param_name);

void store(void* at, DataType type, double value) {
  switch (type) {
    case DataType::Float16: *static_cast<float16*>(at) = to_float16(static_cast<float>(value)); return;
    case DataType::Bfloat16: *static_cast<bfloat16*>(at) = to_bfloat16(static_cast<float>(value)); return;
    case DataType::Float32: *static_cast<float*>(at) = static_cast<float>(value); return;
    case DataType::Float64: *static_cast<double*>(at) = value; return;
    default: FAIL() << "float types only";
  }
}

double load(const void* at, DataType type) {
  switch (type) {
    case DataType::Float16: return to_float(*static_cast<const float16*>(at));
    case DataType::Bfloat16: return to_float(*static_cast<const bfloat16*>(at));
    case DataType::Float32: return *static_cast<const float*>(at);
    case DataType::Float64: return *static_cast<const double*>(at);
    default: return 0;
  }
}

// NCCL's float avg: every input times 1/n rounded to the type, then a sum that rounds
// after every step (a ring starts at a different rank for each chunk). The tolerance
// must accept it; the test prints how much of the tolerance it used.
TEST(CheckValuesAvg, ToleranceAcceptsNcclPremultipliedSum) {
  for (DataType type : {DataType::Float16, DataType::Bfloat16, DataType::Float32, DataType::Float64}) {
    const size_t size = dtype_size(type);
    double worst = 0;
    for (int n = 1; n <= 64; ++n) {
      SCOPED_TRACE(fmt::format("{}, {} ranks", dtype_name(type), n));
      Allreduce allreduce(type, RedOp::Avg, n, 4096);
      const Buffer reference = allreduce.fold(ranks_in_order(n));
      Buffer inverse(allreduce.count * size);
      for (size_t i = 0; i < allreduce.count; ++i) store(inverse.data() + i * size, type, 1.0 / n);
      for (Buffer& input : allreduce.inputs) {
        reduce(input.data(), input.data(), inverse.data(), allreduce.count, type, RedOp::Prod);
      }
      allreduce.op = RedOp::Sum;  // the division is already done
      for (int start : {0, n / 2, n - 1}) {
        std::vector<int> order = ranks_in_order(n);
        std::rotate(order.begin(), order.begin() + start, order.end());
        for (const Buffer& result : {allreduce.fold(order), allreduce.fold_tree()}) {
          EXPECT_EQ(count_allreduce_errors(result.data(), allreduce.count, type, RedOp::Avg, n), 0u);
          for (size_t i = 0; i < allreduce.count; ++i) {
            const double want = load(reference.data() + i * size, type);
            const double got = load(result.data() + i * size, type);
            worst = std::max(worst, std::fabs(got - want) / std::max(1.0, std::fabs(want)));
          }
        }
      }
    }
    const double tolerance = check_tolerance(type, RedOp::Avg);
    std::printf("%s avg, NCCL order, 1..64 ranks: worst error %.3g = %.2f x tolerance %.3g\n",
                std::string(dtype_name(type)).c_str(), worst, worst / tolerance, tolerance);
    // A rank's +-1 moves an average of 64 ranks by 1/64: that must stay detectable.
    EXPECT_LT(tolerance, 1.0 / 64);
  }
}

TEST(CheckValuesFill, InputsDependOnRankAndIndex) {
  constexpr size_t kCount = 4096;
  for (DataType type : kAllDataTypes) {
    for (RedOp op : kAllRedOps) {
      SCOPED_TRACE(fmt::format("{} {}", dtype_name(type), redop_name(op)));
      const size_t size = dtype_size(type);
      Buffer a(kCount * size), b(kCount * size), again(kCount * size);
      fill_allreduce_input(a.data(), kCount, type, op, 0, 8);
      fill_allreduce_input(b.data(), kCount, type, op, 1, 8);
      fill_allreduce_input(again.data(), kCount, type, op, 0, 8);
      EXPECT_EQ(a, again) << "deterministic";
      size_t same_as_other_rank = 0, same_as_next = 0;
      for (size_t i = 0; i < kCount; ++i) {
        same_as_other_rank += std::memcmp(&a[i * size], &b[i * size], size) == 0;
        if (i + 1 < kCount) same_as_next += std::memcmp(&a[i * size], &a[(i + 1) * size], size) == 0;
      }
      // Float prod inputs are mostly +-1 and float avg inputs mostly 0 (equal about 60%
      // of the time); all others far less.
      EXPECT_LT(same_as_other_rank, kCount * 7 / 10);
      EXPECT_LT(same_as_next, kCount * 7 / 10);
    }
  }
}

TEST(CheckValuesFill, EmptyBufferAndBadRanks) {
  fill_allreduce_input(nullptr, 0, DataType::Float32, RedOp::Sum, 0, 1);
  EXPECT_EQ(count_allreduce_errors(nullptr, 0, DataType::Float32, RedOp::Sum, 1), 0u);
  float x = 0;
  EXPECT_THROW(fill_allreduce_input(&x, 1, DataType::Float32, RedOp::Sum, 2, 2), std::invalid_argument);
  EXPECT_THROW(fill_allreduce_input(&x, 1, DataType::Float32, RedOp::Sum, -1, 2), std::invalid_argument);
  EXPECT_THROW(count_allreduce_errors(&x, 1, DataType::Float32, RedOp::Sum, 0), std::invalid_argument);
}

TEST(CheckValuesRule, ExactExceptFloatAvg) {
  for (DataType type : kAllDataTypes) {
    for (RedOp op : kAllRedOps) {
      const bool rounds = is_floating(type) && op == RedOp::Avg;
      EXPECT_EQ(check_tolerance(type, op) > 0, rounds) << dtype_name(type) << ' ' << redop_name(op);
    }
  }
  const std::string rule = describe_check();
  for (const char* part : {"exact", "half=", "bfloat16=", "float=", "double="}) {
    EXPECT_NE(rule.find(part), std::string::npos) << rule;
  }
  EXPECT_EQ(rule.find('\n'), std::string::npos);
}

// 2^31 + 64 int8 elements (4 GiB of buffers): run with --gtest_also_run_disabled_tests.
TEST(CheckValuesLarge, DISABLED_CountAbove2To31) {
  const size_t count = (size_t{1} << 31) + 64;
  Buffer sum(count), other(count);
  const auto start = std::chrono::steady_clock::now();
  fill_allreduce_input(sum.data(), count, DataType::Int8, RedOp::Sum, 0, 2);
  fill_allreduce_input(other.data(), count, DataType::Int8, RedOp::Sum, 1, 2);
  const auto filled = std::chrono::steady_clock::now();
  reduce(sum.data(), sum.data(), other.data(), count, DataType::Int8, RedOp::Sum);
  const auto reduced = std::chrono::steady_clock::now();
  EXPECT_EQ(count_allreduce_errors(sum.data(), count, DataType::Int8, RedOp::Sum, 2), 0u);
  const auto checked = std::chrono::steady_clock::now();
  sum[count - 1] = static_cast<std::byte>(static_cast<uint8_t>(sum[count - 1]) + 1);
  EXPECT_EQ(count_allreduce_errors(sum.data(), count, DataType::Int8, RedOp::Sum, 2), 1u);
  using Seconds = std::chrono::duration<double>;
  std::printf("2^31+64 int8: fill %.2f s per rank, reduce %.2f s, check %.2f s\n",
              Seconds(filled - start).count() / 2, Seconds(reduced - filled).count(),
              Seconds(checked - reduced).count());
}

}  // namespace
}  // namespace sxcoll::bench
