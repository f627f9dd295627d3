// This build has no CUDA: GPU buffers are refused with a line that says how to get them.
#include "collectives/gpu.h"

#include "transport/error.h"

namespace sxcoll::gpu {

namespace {

[[noreturn]] void no_cuda() {
  throw UsageError("GPU buffers: this sxcoll was built without CUDA (configure where nvcc is found, "
                   "or pass -DSXCOLL_CUDA=ON)");
}

}  // namespace

bool built_with_cuda() { return false; }
int device_count() { return 0; }
int probe_device_count() { return 0; }
void use_device(int) { no_cuda(); }
std::string describe_device(int) { no_cuda(); }
std::string pci_bus_id(int) { no_cuda(); }
Memory alloc_device(size_t) { no_cuda(); }
Memory alloc_host_mapped(size_t) { no_cuda(); }
void copy(void*, const void*, size_t) { no_cuda(); }
std::unique_ptr<StepQueue> make_queue() { no_cuda(); }

}  // namespace sxcoll::gpu
