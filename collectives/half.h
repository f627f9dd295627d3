// 16-bit floating-point storage types of the collectives (IEEE binary16 "half" and
// bfloat16) and their conversions to and from float, rounding to nearest even.
//
// Arithmetic happens in float; these types only hold bits. The conversions are
// branch-free bit manipulation (every special case is computed and then selected),
// so that g++ -O3 vectorizes loops over them on any x86-64 without -march flags.
// Results match the hardware conversions bit for bit, NaN payloads included: F16C's
// vcvtph2ps/vcvtps2ph and CUDA's __half2float/__float2half_rn (the tests check all
// 65536 half patterns against F16C where the CPU has it).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define SXCOLL_HOST_DEVICE __host__ __device__
#else
#define SXCOLL_HOST_DEVICE
#endif

namespace sxcoll {

struct float16 {
  uint16_t bits;
};
struct bfloat16 {
  uint16_t bits;
};
static_assert(sizeof(float16) == 2 && sizeof(bfloat16) == 2);

namespace half_detail {

// memcpy rather than std::bit_cast: it is accepted in CUDA device code as well, and
// compilers turn it into a register move.
SXCOLL_HOST_DEVICE inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
SXCOLL_HOST_DEVICE inline float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline constexpr uint32_t kFloatExpMask = 0x7f800000u;
inline constexpr uint32_t kFloatQuietBit = 0x00400000u;
// Branch-free select written as masks: a conditional expression lets g++ sink the
// float operation of the unused branch into a branch of its own, which it then refuses
// to vectorize (under -ftrapping-math a float operation may not be speculated).
SXCOLL_HOST_DEVICE inline uint32_t select(bool cond, uint32_t if_true, uint32_t if_false) {
  const uint32_t mask = 0u - static_cast<uint32_t>(cond);
  return (if_true & mask) | (if_false & ~mask);
}

inline constexpr uint32_t kRebias = uint32_t{127 - 15} << 23;  // float bias minus half bias

}  // namespace half_detail

SXCOLL_HOST_DEVICE inline float to_float(float16 h) {
  using namespace half_detail;
  const uint32_t sign = uint32_t{h.bits & 0x8000u} << 16;
  const uint32_t mag = uint32_t{h.bits & 0x7fffu} << 13;  // exponent and mantissa, float position
  const uint32_t exp = mag & (0x7c00u << 13);
  const uint32_t normal = mag + kRebias;
  // Half subnormals are normal floats: give the mantissa the smallest normal exponent
  // (2^-14) and subtract 2^-14 again; the float subtraction is exact and normalizes.
  const uint32_t min_normal = uint32_t{113} << 23;
  const uint32_t subnormal = bits_of(float_of(mag + min_normal) - float_of(min_normal));
  // Inf keeps a zero mantissa; NaN keeps its payload and becomes quiet, as vcvtph2ps does.
  const uint32_t payload = mag & 0x007fffffu;
  const uint32_t inf_nan = kFloatExpMask | mag | select(payload != 0, kFloatQuietBit, 0u);
  uint32_t out = select(exp == 0, subnormal, normal);
  out = select(exp == (0x7c00u << 13), inf_nan, out);
  return float_of(out | sign);
}

SXCOLL_HOST_DEVICE inline float16 to_float16(float f) {
  using namespace half_detail;
  const uint32_t u = bits_of(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t mag = u & 0x7fffffffu;
  // Normal range: rebias the exponent and round the 13 dropped bits to nearest even;
  // a carry out of the mantissa correctly bumps the exponent, up to infinity (0x7c00).
  const uint32_t normal = (mag - kRebias + 0xfffu + ((mag >> 13) & 1u)) >> 13;
  // Below 2^-14 the result is subnormal: adding 0.5f puts the half's unit (2^-24) at the
  // float's last mantissa bit, so the FPU's own round-to-nearest-even does the rounding;
  // the integer difference from 0.5f is then the half's bit pattern.
  const uint32_t half_one = uint32_t{126} << 23;
  const uint32_t subnormal = bits_of(float_of(mag) + float_of(half_one)) - half_one;
  const uint32_t nan = 0x7e00u | ((mag >> 13) & 0x03ffu);  // quiet, payload truncated
  uint32_t out = select(mag < (uint32_t{113} << 23), subnormal, normal);
  out = select(mag >= (uint32_t{143} << 23), 0x7c00u, out);  // |f| >= 65536: infinity
  out = select(mag > kFloatExpMask, nan, out);
  return float16{static_cast<uint16_t>(out | sign)};
}

SXCOLL_HOST_DEVICE inline float to_float(bfloat16 h) {
  return half_detail::float_of(uint32_t{h.bits} << 16);
}

SXCOLL_HOST_DEVICE inline bfloat16 to_bfloat16(float f) {
  using namespace half_detail;
  const uint32_t u = bits_of(f);
  // Round to nearest even on the 16 dropped bits; carries run into the exponent, so
  // overflow gives infinity and subnormals need no special case.
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const uint32_t nan = (u >> 16) | (kFloatQuietBit >> 16);
  const uint32_t out = select((u & 0x7fffffffu) > kFloatExpMask, nan, rounded);
  return bfloat16{static_cast<uint16_t>(out)};
}

}  // namespace sxcoll
