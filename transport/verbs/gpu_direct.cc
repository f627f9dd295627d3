#include "transport/verbs/gpu_direct.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <fmt/core.h>

#include "transport/cuda_driver.h"
#include "transport/error.h"

namespace sxcoll::transport::verbs {

namespace {

bool dmabuf_supported() {
  const cuda::Driver& api = cuda::driver();
  if (!api.has_dmabuf()) return false;
  cuda::CUdevice device = 0;
  int supported = 0;
  return api.ctx_get_device(&device) == cuda::kSuccess &&
         api.device_get_attribute(&supported, cuda::kDmaBufSupported, device) == cuda::kSuccess && supported != 0;
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
  cuda::CUresult rc = cuda::driver().get_handle_for_address_range(&fd, begin, bytes, cuda::kDmaBufFd, 0);
  if (rc != cuda::kSuccess)
    throw RunError(fmt::format("verbs: cuMemGetHandleForAddressRange of {} bytes at {:#x} failed: {}", bytes, begin,
                               cuda::result_name(rc)));
  // The NIC maps the dma-buf at registration; the file descriptor is not needed after.
  ibv_mr* mr = ::ibv_reg_dmabuf_mr(pd, 0, bytes, begin, fd, access);
  const int err = errno;
  ::close(fd);
  errno = err;
  return mr;
}

}  // namespace sxcoll::transport::verbs
