// Element-wise reductions on device memory: the CUDA counterparts of
// collectives/reduce.h, for every DataType x RedOp, with the same results.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include "collectives/dtype.h"

namespace sxcoll {

// dst[i] = a[i] (op) b[i] for i in [0, count), enqueued on `stream` (not waited for).
// Pointers are device memory; dst may equal a or b (exact aliasing), never a partial
// overlap. Semantics are those of reduce(): integers wrap, half and bfloat16 are
// computed in float and rounded to nearest even after each operation, min/max ignore a
// NaN operand unless both are NaN, Avg reduces as Sum. Results match reduce() bit for
// bit, except that a NaN produced by arithmetic (sum, prod, avg) is the GPU's canonical
// NaN rather than the x86 propagated payload. Any count (size_t) and alignment; 16-byte
// vector loads where the three pointers share their alignment. Throws RunError naming
// the CUDA call on a launch or configuration error.
void device_reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op,
                   cudaStream_t stream);

// Divides each element by nranks on `stream`: the last step of Avg, as finalize_avg().
void device_finalize_avg(void* buf, size_t count, DataType type, int nranks, cudaStream_t stream);

}  // namespace sxcoll
