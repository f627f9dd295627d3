// The CUDA driver API as the transports use it, loaded at run time (libcuda.so.1), so that
// the transport layer builds and runs where CUDA is absent: GPUDirect RDMA registration
// (verbs) and CUDA IPC (cuda_ipc). Types and enum values as cuda.h defines them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sxcoll::transport::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUstream = struct CUstream_st*;
using CUevent = struct CUevent_st*;
using CUcontext = struct CUctx_st*;
struct CUipcMemHandle {
  char reserved[64];
};

inline constexpr CUresult kSuccess = 0;
inline constexpr CUresult kNotReady = 600;             // CUDA_ERROR_NOT_READY
inline constexpr int kDmaBufSupported = 124;           // CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED
inline constexpr int kDmaBufFd = 1;                    // CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD
inline constexpr unsigned kIpcLazyEnablePeerAccess = 1;  // CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS
inline constexpr unsigned kStreamNonBlocking = 1;      // CU_STREAM_NON_BLOCKING
inline constexpr unsigned kEventDisableTiming = 2;     // CU_EVENT_DISABLE_TIMING

// Null entries where the library or a symbol is missing.
struct Driver {
  CUresult (*ctx_get_device)(CUdevice*) = nullptr;
  CUresult (*ctx_get_current)(CUcontext*) = nullptr;
  CUresult (*device_get_attribute)(int*, int, CUdevice) = nullptr;
  CUresult (*get_handle_for_address_range)(void*, CUdeviceptr, size_t, int, unsigned long long) = nullptr;
  CUresult (*mem_get_address_range)(CUdeviceptr*, size_t*, CUdeviceptr) = nullptr;
  CUresult (*ipc_get_mem_handle)(CUipcMemHandle*, CUdeviceptr) = nullptr;
  CUresult (*ipc_open_mem_handle)(CUdeviceptr*, CUipcMemHandle, unsigned) = nullptr;
  CUresult (*ipc_close_mem_handle)(CUdeviceptr) = nullptr;
  CUresult (*stream_create)(CUstream*, unsigned) = nullptr;
  CUresult (*stream_destroy)(CUstream) = nullptr;
  CUresult (*memcpy_async)(CUdeviceptr, CUdeviceptr, size_t, CUstream) = nullptr;
  CUresult (*event_create)(CUevent*, unsigned) = nullptr;
  CUresult (*event_destroy)(CUevent) = nullptr;
  CUresult (*event_record)(CUevent, CUstream) = nullptr;
  CUresult (*event_query)(CUevent) = nullptr;
  CUresult (*get_error_name)(CUresult, const char**) = nullptr;

  // Everything GPUDirect RDMA's dma-buf path needs.
  bool has_dmabuf() const { return ctx_get_device && device_get_attribute && get_handle_for_address_range; }
  // Everything CUDA IPC needs.
  bool has_ipc() const;
};

// Loaded once per process.
const Driver& driver();

// "CUDA_ERROR_INVALID_VALUE (1)".
std::string result_name(CUresult rc);

}  // namespace sxcoll::transport::cuda
