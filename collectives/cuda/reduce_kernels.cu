// CUDA reduction kernels: one grid-stride kernel per DataType x RedOp, 16-byte vector
// loads and stores over the aligned body, scalar elements for the unaligned head and
// the tail. Counts are size_t throughout (more than 2^31 elements work).
#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "collectives/cuda/check.h"
#include "collectives/cuda/device_reduce.h"
#include "collectives/cuda/reduce_kernels.cuh"
#include "transport/error.h"

namespace sxcoll {

namespace cuda_detail {

namespace {

constexpr int kThreads = 256;
constexpr int kUnroll = 4;  // vectors in flight per thread and iteration
constexpr size_t kVecBytes = 16;

template <class T>
struct Lanes {
  static constexpr int kCount = static_cast<int>(kVecBytes / sizeof(T));
  T v[kCount];
};

template <class T, class Op>
__device__ __forceinline__ uint4 combine_vec(uint4 x, uint4 y) {
  Lanes<T> a, b, r;
  static_assert(sizeof(Lanes<T>) == sizeof(uint4));
  memcpy(&a, &x, sizeof x);
  memcpy(&b, &y, sizeof y);
#pragma unroll
  for (int i = 0; i < Lanes<T>::kCount; ++i) r.v[i] = combine<Op>(a.v[i], b.v[i]);
  uint4 out;
  memcpy(&out, &r, sizeof out);
  return out;
}

// Elements [0, head) and [head + nvec * lanes, count) are done one by one (grid-stride); the vectors in between by everyone. No __restrict__: dst may be
// a or b, and each element is read before it is written by the same thread.
template <class T, class Op>
__global__ void __launch_bounds__(kThreads) reduce_kernel(T* dst, const T* a, const T* b,
                                                          size_t count, size_t head,
                                                          size_t nvec) {
  constexpr size_t kLanes = kVecBytes / sizeof(T);
  const size_t tid = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;

  const size_t body_end = head + nvec * kLanes;
  const size_t scalars = head + (count - body_end);
  for (size_t s = tid; s < scalars; s += stride) {
    const size_t e = s < head ? s : body_end + (s - head);
    dst[e] = combine<Op>(a[e], b[e]);
  }

  uint4* vd = reinterpret_cast<uint4*>(dst + head);
  const uint4* va = reinterpret_cast<const uint4*>(a + head);
  const uint4* vb = reinterpret_cast<const uint4*>(b + head);
  size_t i = tid;
  for (; i + (kUnroll - 1) * stride < nvec; i += kUnroll * stride) {
    uint4 x[kUnroll], y[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      x[u] = va[i + u * stride];
      y[u] = vb[i + u * stride];
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) vd[i + u * stride] = combine_vec<T, Op>(x[u], y[u]);
  }
  for (; i < nvec; i += stride) vd[i] = combine_vec<T, Op>(va[i], vb[i]);
}

template <class T>
__global__ void __launch_bounds__(kThreads) divide_kernel(T* buf, size_t count, int nranks) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    buf[i] = divide(buf[i], nranks);
  }
}

// Blocks for `work` threads' worth of items: enough to fill every SM (8 blocks of 256
// threads each), no more than the work needs.
unsigned grid_for(size_t work) {
  int device = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  constexpr int kMaxDevices = 64;
  static std::array<int, kMaxDevices> sm_counts{};  // 0: not asked yet
  int sms = device < kMaxDevices ? sm_counts[device] : 0;
  if (sms == 0) {
    check_cuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
          "cudaDeviceGetAttribute(cudaDevAttrMultiProcessorCount)");
    if (device < kMaxDevices) sm_counts[device] = sms;
  }
  const size_t needed = (work + kThreads - 1) / kThreads;
  const size_t cap = static_cast<size_t>(sms) * 8;
  return static_cast<unsigned>(needed < cap ? (needed == 0 ? 1 : needed) : cap);
}

template <class T, class Op>
void launch_reduce(void* dst, const void* a, const void* b, size_t count,
                   cudaStream_t stream) {
  constexpr size_t kLanes = kVecBytes / sizeof(T);
  const auto d = reinterpret_cast<uintptr_t>(dst);
  const auto x = reinterpret_cast<uintptr_t>(a);
  const auto y = reinterpret_cast<uintptr_t>(b);
  size_t head = count;  // no common alignment: all scalar
  size_t nvec = 0;
  const uintptr_t mis = d % kVecBytes;
  if (x % kVecBytes == mis && y % kVecBytes == mis && mis % sizeof(T) == 0) {
    head = mis == 0 ? 0 : (kVecBytes - mis) / sizeof(T);
    if (head > count) head = count;
    nvec = (count - head) / kLanes;
  }
  const size_t scalars = count - nvec * kLanes;
  const size_t work = nvec > scalars ? (nvec + kUnroll - 1) / kUnroll : scalars;
  reduce_kernel<T, Op><<<grid_for(work), kThreads, 0, stream>>>(
      static_cast<T*>(dst), static_cast<const T*>(a), static_cast<const T*>(b), count, head,
      nvec);
  check_cuda(cudaGetLastError(), "reduce_kernel launch (cudaGetLastError)");
}

template <class T>
void reduce_typed(void* dst, const void* a, const void* b, size_t count, RedOp op,
                  cudaStream_t stream) {
  switch (op) {
    case RedOp::Sum:
    case RedOp::Avg: return launch_reduce<T, SumOp>(dst, a, b, count, stream);
    case RedOp::Prod: return launch_reduce<T, ProdOp>(dst, a, b, count, stream);
    case RedOp::Min: return launch_reduce<T, MinOp>(dst, a, b, count, stream);
    case RedOp::Max: return launch_reduce<T, MaxOp>(dst, a, b, count, stream);
  }
  throw RunError(fmt::format("device_reduce: invalid RedOp {}", static_cast<int>(op)));
}

template <class T>
void divide_typed(void* buf, size_t count, int nranks, cudaStream_t stream) {
  divide_kernel<T><<<grid_for(count), kThreads, 0, stream>>>(static_cast<T*>(buf), count,
                                                              nranks);
  check_cuda(cudaGetLastError(), "divide_kernel launch (cudaGetLastError)");
}

}  // namespace

}  // namespace cuda_detail

void device_reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op,
                   cudaStream_t stream) {
  using namespace cuda_detail;
  if (count == 0) return;
  switch (type) {
    case DataType::Int8: return reduce_typed<int8_t>(dst, a, b, count, op, stream);
    case DataType::Uint8: return reduce_typed<uint8_t>(dst, a, b, count, op, stream);
    case DataType::Int32: return reduce_typed<int32_t>(dst, a, b, count, op, stream);
    case DataType::Int64: return reduce_typed<int64_t>(dst, a, b, count, op, stream);
    case DataType::Float16: return reduce_typed<float16>(dst, a, b, count, op, stream);
    case DataType::Bfloat16: return reduce_typed<bfloat16>(dst, a, b, count, op, stream);
    case DataType::Float32: return reduce_typed<float>(dst, a, b, count, op, stream);
    case DataType::Float64: return reduce_typed<double>(dst, a, b, count, op, stream);
  }
  throw RunError(fmt::format("device_reduce: invalid DataType {}", static_cast<int>(type)));
}

void device_finalize_avg(void* buf, size_t count, DataType type, int nranks, cudaStream_t stream) {
  using namespace cuda_detail;
  if (nranks < 1) {
    throw RunError(fmt::format("device_finalize_avg: nranks must be >= 1, got {}", nranks));
  }
  if (count == 0) return;
  switch (type) {
    case DataType::Int8: return divide_typed<int8_t>(buf, count, nranks, stream);
    case DataType::Uint8: return divide_typed<uint8_t>(buf, count, nranks, stream);
    case DataType::Int32: return divide_typed<int32_t>(buf, count, nranks, stream);
    case DataType::Int64: return divide_typed<int64_t>(buf, count, nranks, stream);
    case DataType::Float16: return divide_typed<float16>(buf, count, nranks, stream);
    case DataType::Bfloat16: return divide_typed<bfloat16>(buf, count, nranks, stream);
    case DataType::Float32: return divide_typed<float>(buf, count, nranks, stream);
    case DataType::Float64: return divide_typed<double>(buf, count, nranks, stream);
  }
  throw RunError(
      fmt::format("device_finalize_avg: invalid DataType {}", static_cast<int>(type)));
}

}  // namespace sxcoll
