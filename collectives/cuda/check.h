// A failed CUDA runtime call as sxcoll reports it: RunError naming the call, CUDA's text
// and the error's name. For the kernels' launcher and the runtime side of gpu.h alike.
#pragma once

#include <cuda_runtime_api.h>

#include <fmt/format.h>

#include "transport/error.h"

namespace sxcoll {

inline void check_cuda(cudaError_t err, const char* call) {
  if (err != cudaSuccess)
    throw RunError(fmt::format("{} failed: {} ({})", call, cudaGetErrorString(err), cudaGetErrorName(err)));
}

}  // namespace sxcoll
