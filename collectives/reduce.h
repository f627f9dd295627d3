// Element-wise reductions on host memory: the arithmetic of every collective.
#pragma once

#include <cstddef>

#include "collectives/dtype.h"

namespace sxcoll {

// dst[i] = a[i] (op) b[i] for i in [0, count). dst may be the same pointer as a or b
// (exact aliasing), never a partial overlap. Avg reduces as Sum; finalize_avg divides.
// Integer arithmetic wraps modulo 2^bits (as NCCL's does), so any reduction order gives
// the same exact result. Half and bfloat16 are computed in float and rounded to nearest
// even after each operation.
void reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op);

// Divides each element by nranks: the last step of Avg (integer division truncates).
void finalize_avg(void* buf, size_t count, DataType type, int nranks);

}  // namespace sxcoll
