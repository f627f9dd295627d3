// collectives/gpu.h on the CUDA runtime.
#include "collectives/gpu.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <vector>

#include <fmt/core.h>

#include "collectives/cuda/check.h"
#include "collectives/cuda/device_reduce.h"
#include "transport/error.h"

namespace sxcoll::gpu {

namespace {

int current_device() {
  int device = -1;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  return device;
}

// Step work on one non-blocking stream; each mark records an event from a pool.
class CudaStepQueue final : public StepQueue {
 public:
  // A blocking stream: it runs after work on the legacy default stream, where a plain
  // cudaMemcpy from pageable memory may still be landing when the call returns, so a
  // caller's buffers are complete before the first step reads them.
  CudaStepQueue() { check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamDefault), "cudaStreamCreateWithFlags"); }
  ~CudaStepQueue() override {
    // Nothing may still read or write buffers that are about to be freed.
    cudaStreamSynchronize(stream_);
    for (auto& m : outstanding_) cudaEventDestroy(m.event);
    for (cudaEvent_t e : free_) cudaEventDestroy(e);
    cudaStreamDestroy(stream_);
  }
  CudaStepQueue(const CudaStepQueue&) = delete;
  CudaStepQueue& operator=(const CudaStepQueue&) = delete;

  void reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op) override {
    device_reduce(dst, a, b, count, type, op, stream_);
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_), "cudaMemcpyAsync");
  }
  void finalize_avg(void* buf, size_t count, DataType type, int nranks) override {
    device_finalize_avg(buf, count, type, nranks, stream_);
  }
  uint64_t mark() override {
    cudaEvent_t event;
    if (free_.empty()) {
      check_cuda(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    } else {
      event = free_.back();
      free_.pop_back();
    }
    check_cuda(cudaEventRecord(event, stream_), "cudaEventRecord");
    outstanding_.push_back(Mark{++marks_, event});
    return marks_;
  }
  bool done(uint64_t ticket) override {
    while (!outstanding_.empty() && outstanding_.front().ticket <= ticket) {
      cudaError_t err = cudaEventQuery(outstanding_.front().event);
      if (err == cudaErrorNotReady) return false;
      check_cuda(err, "cudaEventQuery (a reduction kernel or copy of the collective)");
      free_.push_back(outstanding_.front().event);
      outstanding_.pop_front();
    }
    return true;
  }
  bool asynchronous() const override { return true; }

 private:
  struct Mark {
    uint64_t ticket;
    cudaEvent_t event;
  };
  cudaStream_t stream_ = nullptr;
  uint64_t marks_ = 0;
  std::deque<Mark> outstanding_;
  std::vector<cudaEvent_t> free_;
};

void free_device(void* p) { cudaFree(p); }
void free_host(void* p) { cudaFreeHost(p); }

}  // namespace

bool built_with_cuda() { return true; }

int device_count() {
  int n = 0;
  // No driver or no device: both mean "no GPU here", not an error.
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

int probe_device_count() {
  const pid_t child = ::fork();
  if (child < 0) return device_count();
  if (child == 0) ::_exit(std::min(device_count(), 255));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 0;
}

void use_device(int ordinal) {
  const int n = device_count();
  if (ordinal < 0 || ordinal >= n)
    throw UsageError(n == 0 ? fmt::format("GPU buffers: no CUDA device on this host")
                            : fmt::format("GPU buffers: device {} asked for, this host has {} (0..{})", ordinal, n, n - 1));
  check_cuda(cudaSetDevice(ordinal), "cudaSetDevice");
}

std::string pci_bus_id(int ordinal) {
  char bus[32] = {};
  check_cuda(cudaDeviceGetPCIBusId(bus, sizeof bus, ordinal), "cudaDeviceGetPCIBusId");
  return bus;
}

std::string describe_device(int ordinal) {
  cudaDeviceProp prop{};
  check_cuda(cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties");
  return fmt::format("{} (GPU {}, bus {})", prop.name, ordinal, pci_bus_id(ordinal));
}

Memory alloc_device(size_t bytes) {
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, bytes == 0 ? 1 : bytes);
  if (err != cudaSuccess)
    throw RunError(fmt::format("cudaMalloc of {} bytes on GPU {} failed: {}", bytes, current_device(), cudaGetErrorString(err)));
  return Memory(static_cast<char*>(p), free_device);
}

Memory alloc_host_mapped(size_t bytes) {
  void* p = nullptr;
  cudaError_t err = cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocPortable | cudaHostAllocMapped);
  if (err != cudaSuccess)
    throw RunError(fmt::format("cudaHostAlloc of {} bytes failed: {}", bytes, cudaGetErrorString(err)));
  return Memory(static_cast<char*>(p), free_host);
}

void copy(void* dst, const void* src, size_t bytes) {
  check_cuda(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault), "cudaMemcpy");
  // From pageable memory cudaMemcpy may return before the DMA has landed: wait for it.
  check_cuda(cudaStreamSynchronize(nullptr), "cudaStreamSynchronize");
}

std::unique_ptr<StepQueue> make_queue() { return std::make_unique<CudaStepQueue>(); }

}  // namespace sxcoll::gpu
