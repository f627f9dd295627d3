// Half and bfloat16 conversions against references that share no code with half.h:
// decoding by ldexp, and rounding by picking the nearer of the two neighbouring
// representable values (ties to the even pattern). Where the CPU has F16C, the hardware
// conversion must agree bit for bit too, NaN payloads included.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "collectives/half.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sxcoll {
namespace {

constexpr uint32_t kQuiet = 0x00400000u;

double decode_half(uint16_t h) {
  const int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const double sign = (h & 0x8000) != 0 ? -1.0 : 1.0;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  if (exp == 31) return mant == 0 ? sign * INFINITY : NAN;
  return sign * std::ldexp(1024 + mant, exp - 25);
}

// Nearest of the two neighbours lo < |x| < hi (values lo_value, hi_value), ties to even.
uint32_t nearer(double x, uint32_t lo, double lo_value, double hi_value) {
  const double below = x - lo_value, above = hi_value - x;
  if (below < above) return lo;
  if (above < below) return lo + 1;
  return (lo & 1) == 0 ? lo : lo + 1;
}

uint16_t reference_to_half(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  if (std::isnan(f)) return sign | 0x7e00 | ((u >> 13) & 0x3ff);
  const double x = std::fabs(static_cast<double>(f));
  if (x >= 65520.0) return sign | 0x7c00;  // 65504 + half an ulp and up: infinity
  // Positive finite halves are increasing in their bit patterns: binary search.
  uint32_t lo = 0, hi = 0x7bff;
  while (lo < hi) {
    const uint32_t mid = (lo + hi + 1) / 2;
    if (decode_half(static_cast<uint16_t>(mid)) <= x) lo = mid; else hi = mid - 1;
  }
  const double lo_value = decode_half(static_cast<uint16_t>(lo));
  if (lo_value == x) return sign | static_cast<uint16_t>(lo);
  const double hi_value = lo == 0x7bff ? 65536.0 : decode_half(static_cast<uint16_t>(lo + 1));
  return sign | static_cast<uint16_t>(nearer(x, lo, lo_value, hi_value));
}

uint16_t reference_to_bfloat16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x40);
  const uint32_t sign = u & 0x80000000u, lo = (u & 0x7fffffffu) >> 16;
  const double x = std::fabs(static_cast<double>(f));
  const double lo_value = std::bit_cast<float>(lo << 16);
  const double hi_value = lo == 0x7f7f ? std::ldexp(1.0, 128) : std::bit_cast<float>((lo + 1) << 16);
  const uint32_t out = lo_value == x ? lo : nearer(x, lo, lo_value, hi_value);
  return static_cast<uint16_t>((sign >> 16) | out);
}

// Inputs: a stride through all float patterns, plus every tie between neighbouring
// halves and the floats right next to each tie (the cases rounding gets wrong).
std::vector<float> float_inputs() {
  std::vector<float> out;
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 997) out.push_back(std::bit_cast<float>(static_cast<uint32_t>(u)));
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const double mid = (decode_half(static_cast<uint16_t>(h)) +
                        (h == 0x7bff ? 65536.0 : decode_half(static_cast<uint16_t>(h + 1)))) / 2;
    const float tie = static_cast<float>(mid);
    for (float f : {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, INFINITY)}) {
      out.push_back(f);
      out.push_back(-f);
    }
  }
  for (float f : {0.0f, -0.0f, INFINITY, -INFINITY, std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(), std::bit_cast<float>(0x7f800001u),
                  std::bit_cast<float>(0xffbfffffu), std::bit_cast<float>(0x7fc12345u)}) {
    out.push_back(f);
  }
  return out;
}

TEST(Half, DecodesEveryPattern) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float got = to_float(float16{static_cast<uint16_t>(h)});
    const double want = decode_half(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      // Quiet NaN, payload kept in the top mantissa bits, as vcvtph2ps and CUDA do.
      const uint32_t bits = ((h & 0x8000u) << 16) | 0x7f800000u | kQuiet | ((h & 0x3ffu) << 13);
      EXPECT_EQ(std::bit_cast<uint32_t>(got), bits) << fmt::format("{:#06x}", h);
    } else {
      EXPECT_EQ(std::bit_cast<uint64_t>(static_cast<double>(got)), std::bit_cast<uint64_t>(want))
          << fmt::format("{:#06x}", h);
    }
  }
}

TEST(Half, RoundsToNearestEven) {
  size_t bad = 0;
  for (float f : float_inputs()) {
    const uint16_t got = to_float16(f).bits, want = reference_to_half(f);
    if (got != want && bad++ < 5) ADD_FAILURE() << fmt::format("{:#010x}: got {:#06x} want {:#06x}", std::bit_cast<uint32_t>(f), got, want);
  }
  EXPECT_EQ(bad, 0u);
}

TEST(Half, KnownValues) {
  EXPECT_EQ(to_float16(1.0f).bits, 0x3c00);
  EXPECT_EQ(to_float16(65504.0f).bits, 0x7bff);
  EXPECT_EQ(to_float16(65519.0f).bits, 0x7bff);
  EXPECT_EQ(to_float16(65520.0f).bits, 0x7c00);     // tie between 65504 and 2^16: even, infinity
  EXPECT_EQ(to_float16(std::ldexp(1.0f, -24)).bits, 0x0001);
  EXPECT_EQ(to_float16(std::ldexp(1.0f, -25)).bits, 0x0000);  // tie: even
  EXPECT_EQ(to_float16(std::ldexp(3.0f, -25)).bits, 0x0002);  // tie: even
  EXPECT_EQ(to_float16(std::ldexp(1023.5f, -24)).bits, 0x0400);  // rounds up to the least normal
  EXPECT_EQ(to_float16(-0.0f).bits, 0x8000);
  EXPECT_EQ(to_float16(std::bit_cast<float>(0x7f800001u)).bits, 0x7e00);  // signalling NaN: quiet
  EXPECT_TRUE(std::isnan(to_float(float16{0x7c01}))) << "0x7c01 is a NaN, not infinity";
}

TEST(Half, RoundTripsEveryNonNanPattern) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) continue;
    EXPECT_EQ(to_float16(to_float(float16{static_cast<uint16_t>(h)})).bits, h);
  }
}

TEST(Bfloat16, RoundsToNearestEven) {
  size_t bad = 0;
  for (float f : float_inputs()) {
    const uint16_t got = to_bfloat16(f).bits, want = reference_to_bfloat16(f);
    if (got != want && bad++ < 5) ADD_FAILURE() << fmt::format("{:#010x}: got {:#06x} want {:#06x}", std::bit_cast<uint32_t>(f), got, want);
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(to_bfloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(to_bfloat16(std::bit_cast<float>(0x3f808000u)).bits, 0x3f80);  // tie: even
  EXPECT_EQ(to_bfloat16(std::bit_cast<float>(0x3f818000u)).bits, 0x3f82);  // tie: even
  EXPECT_EQ(to_bfloat16(std::numeric_limits<float>::max()).bits, 0x7f80);  // overflows to inf
  EXPECT_EQ(to_bfloat16(std::bit_cast<float>(0x7f800001u)).bits, 0x7fc0);  // quiet NaN
}

TEST(Bfloat16, DecodesEveryPattern) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    EXPECT_EQ(std::bit_cast<uint32_t>(to_float(bfloat16{static_cast<uint16_t>(h)})), h << 16);
  }
}

#if defined(__x86_64__)
[[gnu::target("f16c")]] uint16_t f16c_to_half(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
[[gnu::target("f16c")]] float f16c_to_float(uint16_t h) { return _cvtsh_ss(h); }

TEST(Half, MatchesF16cBitForBit) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "CPU without F16C";
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    EXPECT_EQ(std::bit_cast<uint32_t>(to_float(float16{bits})), std::bit_cast<uint32_t>(f16c_to_float(bits)))
        << fmt::format("{:#06x}", h);
  }
  size_t bad = 0;
  for (float f : float_inputs()) {
    if (to_float16(f).bits != f16c_to_half(f) && bad++ < 5) ADD_FAILURE() << fmt::format("{:#010x}", std::bit_cast<uint32_t>(f));
  }
  EXPECT_EQ(bad, 0u);
}
#endif

}  // namespace
}  // namespace sxcoll
