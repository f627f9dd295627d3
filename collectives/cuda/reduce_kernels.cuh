// Internal to reduce_kernels.cu: the device side of the reductions. The element
// operations are collectives/element_ops.h, the host's own, so that device results equal
// reduce()'s; here are the 16-bit conversions and the division of avg.
#pragma once

#include <cstdint>
#include <type_traits>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "collectives/element_ops.h"
#include "collectives/half.h"

namespace sxcoll::cuda_detail {

using element_ops::kSelects;
using element_ops::MaxOp;
using element_ops::MinOp;
using element_ops::ProdOp;
using element_ops::SumOp;

// Storage <-> float through the hardware conversions of cuda_fp16.h / cuda_bf16.h
// (exact widening, round-to-nearest-even narrowing, subnormals kept).
__device__ __forceinline__ float widen(float16 h) {
  return __half2float(__ushort_as_half(h.bits));
}
__device__ __forceinline__ float widen(bfloat16 h) {
  return __bfloat162float(__ushort_as_bfloat16(h.bits));
}
__device__ __forceinline__ float16 narrow(float f, float16) {
  return float16{__half_as_ushort(__float2half_rn(f))};
}
__device__ __forceinline__ bfloat16 narrow(float f, bfloat16) {
  return bfloat16{__bfloat16_as_ushort(__float2bfloat16_rn(f))};
}

// The quiet bit of a 16-bit NaN and the NaN test on its bits.
template <class T>
inline constexpr uint16_t kQuietBit = std::is_same_v<T, float16> ? 0x0200 : 0x0040;
template <class T>
inline constexpr uint16_t kExpMask = std::is_same_v<T, float16> ? 0x7c00 : 0x7f80;
template <class T>
__device__ __forceinline__ bool is_nan16(T h) {
  return (h.bits & 0x7fff) > kExpMask<T>;
}

template <class T>
inline constexpr bool kIs16 = std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>;

// One element. Half and bfloat16: computed in float and rounded once. Their min/max
// select the operand's own bits (what the host's exact round trip through float gives),
// quieting a selected NaN as the host's conversions do.
template <class Op, class T>
__device__ __forceinline__ T combine(T a, T b) {
  if constexpr (kIs16<T>) {
    if constexpr (kSelects<Op>) {
      T r = Op::pick_a(widen(a), widen(b)) ? a : b;
      if (is_nan16(r)) r.bits = static_cast<uint16_t>(r.bits | kQuietBit<T>);
      return r;
    } else {
      return narrow(Op::apply(widen(a), widen(b)), T{});
    }
  } else {
    return Op::apply(a, b);
  }
}

// Division by nranks, as finalize_avg(): integer division truncates (the host's double
// quotient truncated is the same value), floating division is correctly rounded.
template <class T>
__device__ __forceinline__ T divide(T x, int n) {
  if constexpr (kIs16<T>) {
    return narrow(widen(x) / static_cast<float>(n), T{});
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return static_cast<T>(x / static_cast<int64_t>(n));
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<int32_t>(x) / n);
  } else {
    return x / static_cast<T>(n);
  }
}

}  // namespace sxcoll::cuda_detail
