// Internal to reduce.cc and reduce_avx2.cc: the element operations (element_ops.h, shared
// with the GPU) and the one loop every host reduction kernel is made of. Not part of the
// collectives' interface.
//
// The loop is always_inline so that each instruction-set variant inlines it into its
// own kernel and vectorizes it for that target, while the out-of-line copies of these
// templates stay baseline x86-64 (no ODR clash between differently compiled copies).
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "collectives/element_ops.h"
#include "collectives/half.h"

namespace sxcoll::reduce_detail {

using element_ops::MaxOp;
using element_ops::MinOp;
using element_ops::ProdOp;
using element_ops::SumOp;

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
