#include "transport/cuda_driver.h"

#include <dlfcn.h>

#include <fmt/core.h>

namespace sxcoll::transport::cuda {

namespace {

template <typename F>
void bind(void* lib, F& entry, const char* name) {
  entry = reinterpret_cast<F>(::dlsym(lib, name));
}

}  // namespace

bool Driver::has_ipc() const {
  return ctx_get_current && mem_get_address_range && ipc_get_mem_handle && ipc_open_mem_handle &&
         ipc_close_mem_handle && stream_create && stream_destroy && memcpy_async && event_create && event_destroy &&
         event_record && event_query;
}

const Driver& driver() {
  static const Driver api = [] {
    Driver d;
    void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return d;
    // The _v2 names are what cuda.h maps the plain names to since CUDA 4 / 11.
    bind(lib, d.ctx_get_device, "cuCtxGetDevice");
    bind(lib, d.ctx_get_current, "cuCtxGetCurrent");
    bind(lib, d.device_get_attribute, "cuDeviceGetAttribute");
    bind(lib, d.get_handle_for_address_range, "cuMemGetHandleForAddressRange");
    bind(lib, d.mem_get_address_range, "cuMemGetAddressRange_v2");
    bind(lib, d.ipc_get_mem_handle, "cuIpcGetMemHandle");
    bind(lib, d.ipc_open_mem_handle, "cuIpcOpenMemHandle_v2");
    bind(lib, d.ipc_close_mem_handle, "cuIpcCloseMemHandle");
    bind(lib, d.stream_create, "cuStreamCreate");
    bind(lib, d.stream_destroy, "cuStreamDestroy_v2");
    bind(lib, d.memcpy_async, "cuMemcpyAsync");
    bind(lib, d.event_create, "cuEventCreate");
    bind(lib, d.event_destroy, "cuEventDestroy_v2");
    bind(lib, d.event_record, "cuEventRecord");
    bind(lib, d.event_query, "cuEventQuery");
    bind(lib, d.get_error_name, "cuGetErrorName");
    return d;
  }();
  return api;
}

std::string result_name(CUresult rc) {
  const char* name = nullptr;
  if (driver().get_error_name && driver().get_error_name(rc, &name) == kSuccess && name) return fmt::format("{} ({})", name, rc);
  return fmt::format("CUresult {}", rc);
}

}  // namespace sxcoll::transport::cuda
