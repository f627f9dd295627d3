#include "transport/verbs/gpu_direct.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::verbs {

namespace {

// The few driver-API entry points used, with their types from cuda.h (CUDA 11.7+ for
// cuMemGetHandleForAddressRange); values of the enums likewise.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
constexpr int kDmaBufSupported = 124;  // CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED
constexpr int kDmaBufFd = 1;           // CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD

struct DriverApi {
  CUresult (*ctx_get_device)(CUdevice*) = nullptr;
  CUresult (*device_get_attribute)(int*, int, CUdevice) = nullptr;
  CUresult (*get_handle_for_address_range)(void*, CUdeviceptr, size_t, int, unsigned long long) = nullptr;

  bool loaded() const { return ctx_get_device && device_get_attribute && get_handle_for_address_range; }
};

// Loaded once; a process without libcuda gets an empty table.
const DriverApi& driver() {
  static const DriverApi api = [] {
    DriverApi a;
    void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return a;
    a.ctx_get_device = reinterpret_cast<decltype(a.ctx_get_device)>(::dlsym(lib, "cuCtxGetDevice"));
    a.device_get_attribute = reinterpret_cast<decltype(a.device_get_attribute)>(::dlsym(lib, "cuDeviceGetAttribute"));
    a.get_handle_for_address_range =
        reinterpret_cast<decltype(a.get_handle_for_address_range)>(::dlsym(lib, "cuMemGetHandleForAddressRange"));
    return a;
  }();
  return api;
}

bool dmabuf_supported() {
  const DriverApi& api = driver();
  if (!api.loaded()) return false;
  CUdevice device = 0;
  int supported = 0;
  return api.ctx_get_device(&device) == 0 && api.device_get_attribute(&supported, kDmaBufSupported, device) == 0 &&
         supported != 0;
}

bool peermem_loaded() {
  std::error_code ec;
  return std::filesystem::exists("/sys/module/nvidia_peermem", ec) || std::filesystem::exists("/sys/module/nv_peer_mem", ec);
}

}  // namespace

GpuDirect detect_gpu_direct() {
  if (dmabuf_supported()) return GpuDirect::DmaBuf;
  if (peermem_loaded()) return GpuDirect::PeerMem;
  return GpuDirect::None;
}

std::string gpu_direct_name(GpuDirect path) {
  switch (path) {
    case GpuDirect::DmaBuf: return "dmabuf";
    case GpuDirect::PeerMem: return "peermem";
    case GpuDirect::None: break;
  }
  return {};
}

ibv_mr* register_gpu_memory(ibv_pd* pd, uintptr_t begin, size_t bytes, int access, GpuDirect path) {
  if (path == GpuDirect::PeerMem) return ::ibv_reg_mr(pd, reinterpret_cast<void*>(begin), bytes, access);
  if (path != GpuDirect::DmaBuf) throw RunError("verbs: GPU memory registration without a GPUDirect path");
  int fd = -1;
  CUresult rc = driver().get_handle_for_address_range(&fd, begin, bytes, kDmaBufFd, 0);
  if (rc != 0)
    throw RunError(fmt::format("verbs: cuMemGetHandleForAddressRange of {} bytes at {:#x} failed: CUresult {}", bytes,
                               begin, rc));
  // The NIC maps the dma-buf at registration; the file descriptor is not needed after.
  ibv_mr* mr = ::ibv_reg_dmabuf_mr(pd, 0, bytes, begin, fd, access);
  const int err = errno;
  ::close(fd);
  errno = err;
  return mr;
}

}  // namespace sxcoll::transport::verbs
