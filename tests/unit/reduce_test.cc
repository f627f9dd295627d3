// reduce() and finalize_avg() against a scalar reference written independently of the
// kernels: integer wraparound through uint64_t, float min/max through std::fmin/fmax,
// half and bfloat16 as one correctly rounded float operation. Every kernel table the
// CPU supports is tested (baseline x86-64 and AVX2/F16C), plus reduce() itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "collectives/dtype.h"
#include "collectives/half.h"
#include "collectives/reduce.h"
#include "collectives/reduce_kernels.h"

namespace sxcoll {
namespace {

using reduce_detail::Isa;

template <class T>
T reference(RedOp op, T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    const uint64_t x = static_cast<uint64_t>(a), y = static_cast<uint64_t>(b);
    switch (op) {
      case RedOp::Sum:
      case RedOp::Avg: return static_cast<T>(x + y);
      case RedOp::Prod: return static_cast<T>(x * y);
      case RedOp::Min: return std::min(a, b);
      case RedOp::Max: return std::max(a, b);
    }
  } else if constexpr (std::is_same_v<T, float16>) {
    return to_float16(reference(op, to_float(a), to_float(b)));
  } else if constexpr (std::is_same_v<T, bfloat16>) {
    return to_bfloat16(reference(op, to_float(a), to_float(b)));
  } else {
    switch (op) {
      case RedOp::Sum:
      case RedOp::Avg: return a + b;
      case RedOp::Prod: return a * b;
      // A NaN operand is ignored, signalling or quiet: CUDA's fminf/fmaxf, which NCCL
      // calls (glibc's fmin returns NaN for a signalling NaN, as IEEE 754-2008 did).
      case RedOp::Min: return std::isnan(b) ? a : std::isnan(a) ? b : std::fmin(a, b);
      case RedOp::Max: return std::isnan(b) ? a : std::isnan(a) ? b : std::fmax(a, b);
    }
  }
  return a;
}

template <class T>
double as_double(T v) {
  if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
    return to_float(v);
  } else {
    return static_cast<double>(v);
  }
}

// Same bits; or, for float types, both NaN (the payload of a NaN made from two NaNs
// depends on operand order) or equal values (fmin(-0, +0) may return either zero).
template <class T>
bool same_result(T got, T want) {
  if (std::memcmp(&got, &want, sizeof(T)) == 0) return true;
  if constexpr (std::is_integral_v<T>) {
    return false;
  } else {
    const double g = as_double(got), w = as_double(want);
    return (std::isnan(g) && std::isnan(w)) || g == w;
  }
}

// Random inputs with the special values of float types mixed in. 16-bit types draw
// every bit pattern: NaNs, infinities and subnormals included.
template <class T>
std::vector<T> random_values(size_t count, std::mt19937_64& rng) {
  std::vector<T> out(count);
  for (T& v : out) {
    const uint64_t bits = rng();
    if constexpr (std::is_integral_v<T> || sizeof(T) == 2) {
      std::memcpy(&v, &bits, sizeof(T));
    } else {
      using L = std::numeric_limits<T>;
      const T specials[] = {T(0),           -T(0),        L::infinity(), -L::infinity(),
                            L::quiet_NaN(), L::denorm_min(), L::min(),   L::max(),
                            T(1),           T(-1)};
      if (bits % 8 == 0) {
        v = specials[(bits >> 8) % std::size(specials)];
      } else {
        const auto mantissa = static_cast<T>(static_cast<int64_t>(bits >> 16) % 2000001 - 1000000);
        v = std::ldexp(mantissa, static_cast<int>((bits >> 4) % 40) - 40);
      }
    }
  }
  return out;
}

enum class Aliasing { None, DstIsA, DstIsB, AllSame };

std::string aliasing_name(Aliasing aliasing) {
  switch (aliasing) {
    case Aliasing::None: return "distinct";
    case Aliasing::DstIsA: return "dst==a";
    case Aliasing::DstIsB: return "dst==b";
    case Aliasing::AllSame: return "dst==a==b";
  }
  return "?";
}

struct Variant {
  std::string name;
  std::function<void(void*, const void*, const void*, size_t, DataType, RedOp)> run;
};

size_t op_column(RedOp op) {
  return op == RedOp::Prod ? 1 : op == RedOp::Min ? 2 : op == RedOp::Max ? 3 : 0;
}

std::vector<Variant> variants() {
  std::vector<Variant> out{{"reduce()", &reduce}};
  for (Isa isa : {Isa::Baseline, Isa::Avx2}) {
    const auto* table = reduce_detail::kernel_table(isa);
    if (table == nullptr) continue;
    out.push_back({isa == Isa::Baseline ? "baseline" : "avx2",
                   [table](void* d, const void* a, const void* b, size_t n, DataType t, RedOp op) {
                     (*table)[static_cast<size_t>(t)][op_column(op)](d, a, b, n);
                   }});
  }
  return out;
}

template <class T>
void check_against_reference(DataType type, RedOp op) {
  std::mt19937_64 rng(0x5eed + static_cast<unsigned>(type) * 16 + static_cast<unsigned>(op));
  constexpr size_t kGuard = 16;  // elements past count that must stay untouched
  for (const Variant& variant : variants()) {
    for (size_t count : {size_t{0}, size_t{1}, size_t{17}, size_t{1000}}) {
      for (Aliasing aliasing : {Aliasing::None, Aliasing::DstIsA, Aliasing::DstIsB, Aliasing::AllSame}) {
        SCOPED_TRACE(fmt::format("{} count={} {}", variant.name, count, aliasing_name(aliasing)));
        std::vector<T> a = random_values<T>(count + kGuard, rng);
        std::vector<T> b = aliasing == Aliasing::AllSame ? a : random_values<T>(count + kGuard, rng);
        std::vector<T> dst = random_values<T>(count + kGuard, rng);
        std::vector<T> want(count);
        for (size_t i = 0; i < count; ++i) want[i] = reference(op, a[i], b[i]);
        T* out = aliasing == Aliasing::None ? dst.data() : aliasing == Aliasing::DstIsB ? b.data() : a.data();
        const T* in_b = aliasing == Aliasing::AllSame ? a.data() : b.data();
        const std::vector<T> guard(out + count, out + count + kGuard);
        variant.run(out, a.data(), in_b, count, type, op);
        size_t bad = 0;
        for (size_t i = 0; i < count; ++i) {
          if (!same_result(out[i], want[i]) && bad++ < 3) {
            ADD_FAILURE() << fmt::format("element {}: got {} want {} (inputs {} {})", i,
                                         as_double(out[i]), as_double(want[i]),
                                         as_double(a[i]), as_double(b[i]));
          }
        }
        EXPECT_EQ(bad, 0u);
        EXPECT_EQ(std::memcmp(out + count, guard.data(), kGuard * sizeof(T)), 0) << "wrote past count";
      }
    }
  }
}

template <class Fn>
void with_type(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::Int8: return fn(int8_t{});
    case DataType::Uint8: return fn(uint8_t{});
    case DataType::Int32: return fn(int32_t{});
    case DataType::Int64: return fn(int64_t{});
    case DataType::Float16: return fn(float16{});
    case DataType::Bfloat16: return fn(bfloat16{});
    case DataType::Float32: return fn(float{});
    case DataType::Float64: return fn(double{});
  }
}

class ReduceAllTypesOps : public ::testing::TestWithParam<std::tuple<DataType, RedOp>> {};

TEST_P(ReduceAllTypesOps, MatchesScalarReference) {
  const auto [type, op] = GetParam();
  with_type(type, [&]<class T>(T) { check_against_reference<T>(type, op); });
}

INSTANTIATE_TEST_SUITE_P(
    AllTypesOps, ReduceAllTypesOps,
    ::testing::Combine(::testing::ValuesIn(kAllDataTypes), ::testing::ValuesIn(kAllRedOps)),
    [](const auto& param_info) {
      return fmt::format("{}_{}", dtype_name(std::get<0>(param_info.param)), redop_name(std::get<1>(param_info.param)));
    });

TEST(Reduce, IntegersWrapAround) {
  int8_t a8[] = {127, -128, 100}, b8[] = {1, -1, 100}, out8[3];
  reduce(out8, a8, b8, 3, DataType::Int8, RedOp::Sum);
  EXPECT_EQ(out8[0], -128);
  EXPECT_EQ(out8[1], 127);
  EXPECT_EQ(out8[2], -56);  // 200 - 256
  reduce(out8, a8, b8, 3, DataType::Int8, RedOp::Prod);
  EXPECT_EQ(out8[2], 16);  // 10000 mod 256
  uint8_t u[] = {255, 16}, v[] = {1, 16}, out_u[2];
  reduce(out_u, u, v, 2, DataType::Uint8, RedOp::Sum);
  EXPECT_EQ(out_u[0], 0);
  reduce(out_u, u, v, 2, DataType::Uint8, RedOp::Prod);
  EXPECT_EQ(out_u[1], 0);  // 256 mod 256
  int32_t i32[] = {std::numeric_limits<int32_t>::max()}, one32[] = {1}, out32[1];
  reduce(out32, i32, one32, 1, DataType::Int32, RedOp::Sum);
  EXPECT_EQ(out32[0], std::numeric_limits<int32_t>::min());
  int64_t i64[] = {std::numeric_limits<int64_t>::min()}, m64[] = {-1}, out64[1];
  reduce(out64, i64, m64, 1, DataType::Int64, RedOp::Prod);  // -INT64_MIN wraps to itself
  EXPECT_EQ(out64[0], std::numeric_limits<int64_t>::min());
}

// Each case runs through reduce() and every kernel table, on 1 and on 40 elements so
// that both the vector loop and its scalar tail see it.
template <class T>
void expect_bits(RedOp op, T a, T b, uint16_t want_bits, DataType type) {
  for (const Variant& variant : variants()) {
    for (size_t count : {size_t{1}, size_t{40}}) {
      std::vector<T> x(count, a), y(count, b), out(count);
      variant.run(out.data(), x.data(), y.data(), count, type, op);
      for (size_t i = 0; i < count; ++i) {
        EXPECT_EQ(out[i].bits, want_bits) << fmt::format("{} {} {:#06x} {:#06x} i={}", variant.name,
                                                         redop_name(op), a.bits, b.bits, i);
      }
    }
  }
}

// The NaN that the FPU makes from inf - inf, converted: negative on x86, positive elsewhere.
#if defined(__x86_64__) || defined(__i386__)
constexpr uint16_t kDefaultNanHalf = 0xfe00, kDefaultNanBfloat16 = 0xffc0;
#else
constexpr uint16_t kDefaultNanHalf = 0x7e00, kDefaultNanBfloat16 = 0x7fc0;
#endif

TEST(Reduce, HalfRoundsToNearestEvenAfterEachOperation) {
  constexpr DataType H = DataType::Float16;
  expect_bits(RedOp::Sum, float16{0x6800}, float16{0x3c00}, 0x6800, H);  // 2048 + 1: tie, even 2048
  expect_bits(RedOp::Sum, float16{0x6801}, float16{0x3c00}, 0x6802, H);  // 2050 + 1: tie, even 2052
  expect_bits(RedOp::Sum, float16{0x7bff}, float16{0x4b80}, 0x7bff, H);  // 65504 + 15: 65504
  expect_bits(RedOp::Sum, float16{0x7bff}, float16{0x4c00}, 0x7c00, H);  // 65504 + 16: tie, inf
  expect_bits(RedOp::Sum, float16{0x0001}, float16{0x0001}, 0x0002, H);  // subnormals add exactly
  expect_bits(RedOp::Prod, float16{0x0001}, float16{0x3800}, 0x0000, H);  // 2^-24 * 0.5: tie, even 0
  expect_bits(RedOp::Prod, float16{0x0003}, float16{0x3800}, 0x0002, H);  // 1.5 units: tie, even 2
  expect_bits(RedOp::Sum, float16{0x7c00}, float16{0xfc00}, kDefaultNanHalf, H);  // inf - inf
  expect_bits(RedOp::Min, float16{0x7e00}, float16{0x3c00}, 0x3c00, H);   // NaN is ignored
  expect_bits(RedOp::Max, float16{0x3c00}, float16{0x7e00}, 0x3c00, H);
  expect_bits(RedOp::Min, float16{0x7e01}, float16{0x7e01}, 0x7e01, H);   // both NaN: NaN
}

TEST(Reduce, Bfloat16RoundsToNearestEvenAfterEachOperation) {
  constexpr DataType B = DataType::Bfloat16;
  expect_bits(RedOp::Sum, bfloat16{0x4380}, bfloat16{0x3f80}, 0x4380, B);  // 256 + 1: tie, even 256
  expect_bits(RedOp::Sum, bfloat16{0x4381}, bfloat16{0x3f80}, 0x4382, B);  // 258 + 1: tie, even 260
  expect_bits(RedOp::Prod, bfloat16{0x7f7f}, bfloat16{0x4000}, 0x7f80, B); // max * 2 = inf
  expect_bits(RedOp::Sum, bfloat16{0x0001}, bfloat16{0x0001}, 0x0002, B);  // subnormals add exactly
  expect_bits(RedOp::Sum, bfloat16{0x7f80}, bfloat16{0xff80}, kDefaultNanBfloat16, B);  // inf - inf
  expect_bits(RedOp::Max, bfloat16{0x7fc0}, bfloat16{0xbf80}, 0xbf80, B);  // NaN is ignored
}

template <class T>
void check_finalize(DataType type, std::vector<T> values, int nranks, const std::vector<T>& want) {
  finalize_avg(values.data(), values.size(), type, nranks);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_TRUE(same_result(values[i], want[i]))
        << fmt::format("{} element {} / {}: got {} want {}", dtype_name(type), i, nranks,
                       as_double(values[i]), as_double(want[i]));
  }
}

TEST(FinalizeAvg, IntegerDivisionTruncatesTowardZero) {
  check_finalize<int8_t>(DataType::Int8, {-7, 7, -128, 127, -1}, 2, {-3, 3, -64, 63, 0});
  check_finalize<uint8_t>(DataType::Uint8, {255, 7, 0}, 2, {127, 3, 0});
  check_finalize<int32_t>(DataType::Int32, {std::numeric_limits<int32_t>::min(), -5, 2147483647}, 3,
                          {-715827882, -1, 715827882});
  check_finalize<int64_t>(DataType::Int64, {std::numeric_limits<int64_t>::min(), -9}, 64,
                          {std::numeric_limits<int64_t>::min() / 64, 0});
}

TEST(FinalizeAvg, MatchesCDivisionForEveryEightBitValueAndManyRankCounts) {
  for (int n = 1; n <= 70; ++n) {
    std::vector<int8_t> s(256), ws(256);
    std::vector<uint8_t> u(256), wu(256);
    for (int v = 0; v < 256; ++v) {
      s[v] = static_cast<int8_t>(v - 128);
      ws[v] = static_cast<int8_t>((v - 128) / n);
      u[v] = static_cast<uint8_t>(v);
      wu[v] = static_cast<uint8_t>(v / n);
    }
    check_finalize<int8_t>(DataType::Int8, s, n, ws);
    check_finalize<uint8_t>(DataType::Uint8, u, n, wu);
  }
  std::mt19937_64 rng(7);
  std::vector<int32_t> v32(4096), w32(4096);
  for (int n : {3, 7, 63, 64, 1000, 1 << 20, std::numeric_limits<int>::max()}) {
    for (size_t i = 0; i < v32.size(); ++i) {
      v32[i] = static_cast<int32_t>(rng());
      w32[i] = v32[i] / n;
    }
    check_finalize<int32_t>(DataType::Int32, v32, n, w32);
  }
}

TEST(FinalizeAvg, FloatTypesRoundTheQuotientOnce) {
  check_finalize<float16>(DataType::Float16, {float16{0x3c00}}, 3, {to_float16(1.0f / 3)});
  check_finalize<bfloat16>(DataType::Bfloat16, {bfloat16{0x3f80}}, 3, {to_bfloat16(1.0f / 3)});
  check_finalize<float>(DataType::Float32, {1.0f, -6.0f}, 3, {1.0f / 3, -2.0f});
  check_finalize<double>(DataType::Float64, {1.0, 1e300}, 7, {1.0 / 7, 1e300 / 7});
}

TEST(FinalizeAvg, RejectsNonPositiveRankCount) {
  float x = 1;
  EXPECT_THROW(finalize_avg(&x, 1, DataType::Float32, 0), std::invalid_argument);
}

}  // namespace
}  // namespace sxcoll
