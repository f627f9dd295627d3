// The element operations of every reduction, one definition for the host (reduce_ops.h)
// and the GPU (cuda/reduce_kernels.cuh), so that both compute the same results: integer
// sum and product wrap, min and max select an operand (a NaN only when both are NaN).
// Compiled by g++ and by nvcc; not part of the collectives' interface.
#pragma once

#include <cmath>
#include <type_traits>

#include "collectives/half.h"  // SXCOLL_HOST_DEVICE

namespace sxcoll::element_ops {

// Integer arithmetic is done in the unsigned type: wrapping modulo 2^bits is then
// defined behaviour, and the result is what NCCL's kernels compute.
template <class T>
using Wrapping = std::make_unsigned_t<T>;

template <class T>
SXCOLL_HOST_DEVICE inline bool is_nan(T x) {
#ifdef __CUDA_ARCH__
  return isnan(x);
#else
  return std::isnan(x);
#endif
}

struct SumOp {
  template <class T>
  SXCOLL_HOST_DEVICE static inline T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<Wrapping<T>>(a) + static_cast<Wrapping<T>>(b));
    } else {
      return a + b;
    }
  }
};

struct ProdOp {
  template <class T>
  SXCOLL_HOST_DEVICE static inline T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<Wrapping<T>>(a) * static_cast<Wrapping<T>>(b));
    } else {
      return a * b;
    }
  }
};

// Floating min/max follow CUDA's fminf/fmaxf, which NCCL's kernels call: a NaN operand,
// quiet or signalling, is ignored unless both are NaN (IEEE 754-2019 minimumNumber).
// Written as compare-and-select so that it vectorizes; pick_a says which operand wins,
// for callers that select stored bits (half, bfloat16 on the GPU).
struct MinOp {
  template <class T>
  SXCOLL_HOST_DEVICE static inline bool pick_a(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return !(b < a);
    } else {
      return a < b || is_nan(b);
    }
  }
  template <class T>
  SXCOLL_HOST_DEVICE static inline T apply(T a, T b) {
    return pick_a(a, b) ? a : b;
  }
};

struct MaxOp {
  template <class T>
  SXCOLL_HOST_DEVICE static inline bool pick_a(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return !(a < b);
    } else {
      return a > b || is_nan(b);
    }
  }
  template <class T>
  SXCOLL_HOST_DEVICE static inline T apply(T a, T b) {
    return pick_a(a, b) ? a : b;
  }
};

template <class Op>
inline constexpr bool kSelects = std::is_same_v<Op, MinOp> || std::is_same_v<Op, MaxOp>;

}  // namespace sxcoll::element_ops
