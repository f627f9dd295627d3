// Internal to reduce.cc and reduce_avx2.cc: the element operations and the one loop
// every reduction kernel is made of. Not part of the collectives' interface.
//
// The loop is always_inline so that each instruction-set variant inlines it into its
// own kernel and vectorizes it for that target, while the out-of-line copies of these
// templates stay baseline x86-64 (no ODR clash between differently compiled copies).
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "collectives/half.h"

namespace sxcoll::reduce_detail {

// Integer arithmetic is done in the unsigned type: wrapping modulo 2^bits is then
// defined behaviour, and the result is what NCCL's kernels compute.
template <class T>
using Wrapping = std::make_unsigned_t<T>;

struct SumOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<Wrapping<T>>(a) + static_cast<Wrapping<T>>(b));
    } else {
      return a + b;
    }
  }
};

struct ProdOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<Wrapping<T>>(a) * static_cast<Wrapping<T>>(b));
    } else {
      return a * b;
    }
  }
};

// Floating min/max follow CUDA's fminf/fmaxf, which NCCL's kernels call: a NaN operand,
// quiet or signalling, is ignored unless both are NaN (IEEE 754-2019 minimumNumber).
// Written as compare-and-select so that it vectorizes.
struct MinOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return b < a ? b : a;
    } else {
      return (a < b || std::isnan(b)) ? a : b;
    }
  }
};

struct MaxOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return a < b ? b : a;
    } else {
      return (a > b || std::isnan(b)) ? a : b;
    }
  }
};

// Half and bfloat16 are computed in float and rounded once per operation. Float has
// 24 significant bits >= 2*11+2, so rounding the float result again to half (11 bits)
// or bfloat16 (8 bits) is the correctly rounded result of the operation itself.
template <class Op, class T>
[[gnu::always_inline]] inline T combine(T a, T b) {
  if constexpr (std::is_same_v<T, float16>) {
    return to_float16(Op::apply(to_float(a), to_float(b)));
  } else if constexpr (std::is_same_v<T, bfloat16>) {
    return to_bfloat16(Op::apply(to_float(a), to_float(b)));
  } else {
    return Op::apply(a, b);
  }
}

// No __restrict: dst may be a or b. Exact aliasing keeps every iteration independent
// (element i only reads index i before writing it), and g++'s runtime overlap check
// takes the vector path for distance 0.
template <class T, class Op>
[[gnu::always_inline]] inline void reduce_loop(void* dst, const void* a, const void* b,
                                                size_t count) {
  T* out = static_cast<T*>(dst);
  const T* x = static_cast<const T*>(a);
  const T* y = static_cast<const T*>(b);
  for (size_t i = 0; i < count; ++i) out[i] = combine<Op>(x[i], y[i]);
}

}  // namespace sxcoll::reduce_detail
