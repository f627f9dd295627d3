// GPUDirect RDMA: how a verbs rail registers GPU memory so that the NIC reads and writes
// it without a copy through host memory. dma-buf first (the upstream kernel path: the GPU
// driver exports the range as a dma-buf and the NIC maps it, as NCCL prefers), then the
// nvidia_peermem module (ibv_reg_mr on the device pointer), else neither, and the
// collectives stage through pinned host memory. CUDA's driver API is loaded at run time,
// so that the verbs backend builds and runs where CUDA is absent.
#pragma once

#include <infiniband/verbs.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sxcoll::transport::verbs {

enum class GpuDirect { None, DmaBuf, PeerMem };

// For the current CUDA device of this thread. None without a CUDA driver.
GpuDirect detect_gpu_direct();
// "dmabuf", "peermem", or "" for None.
std::string gpu_direct_name(GpuDirect path);

// Registers `bytes` of device memory at `begin` on `pd` by `path` (not None). Returns null
// with errno set when the verbs call fails; throws RunError when CUDA refuses the export.
ibv_mr* register_gpu_memory(ibv_pd* pd, uintptr_t begin, size_t bytes, int access, GpuDirect path);

}  // namespace sxcoll::transport::verbs
