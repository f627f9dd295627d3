// Micro-benchmark of the CUDA reductions (issue 6): device_reduce() on float, bfloat16 and
// half sums against cudaMemcpyAsync device-to-device of the same bytes per operand, at
// 64 MiB and 1 GiB, timed with CUDA events (manual time). GB/s counts the bytes that move:
// 3 x bytes for a reduce (two reads, one write), 2 x bytes for a copy (one read, one
// write). Goal of the issue: reduce >= 85 % of the copy's GB/s.
#include <benchmark/benchmark.h>

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "collectives/cuda/device_reduce.h"
#include "collectives/dtype.h"

namespace {

using sxcoll::DataType;

// Three device buffers and two events for one benchmark; `error` empty when all is well.
struct Setup {
  void* a = nullptr;
  void* b = nullptr;
  void* d = nullptr;
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  std::string error;

  explicit Setup(size_t bytes) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
      error = "no CUDA device";
      return;
    }
    if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess ||
        cudaMalloc(&d, bytes) != cudaSuccess) {
      error = "cudaMalloc failed";
      return;
    }
    cudaMemset(a, 0x3c, bytes);  // 1.0-ish halves/bf16, finite floats
    cudaMemset(b, 0x3c, bytes);
    cudaMemset(d, 0, bytes);
    cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    if (cudaDeviceSynchronize() != cudaSuccess) error = "CUDA setup failed";
  }
  ~Setup() {
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (stream) cudaStreamDestroy(stream);
    cudaFree(a);
    cudaFree(b);
    cudaFree(d);
  }
  Setup(const Setup&) = delete;
  Setup& operator=(const Setup&) = delete;

  template <class F>
  double time_once(F&& f) {
    cudaEventRecord(start, stream);
    f();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    return ms / 1e3;
  }
};

void BM_DeviceReduceSum(benchmark::State& state, DataType type) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  const size_t count = bytes / sxcoll::dtype_size(type);
  Setup s(bytes);
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  auto op = [&] { sxcoll::device_reduce(s.d, s.a, s.b, count, type, sxcoll::RedOp::Sum, s.stream); };
  op();  // warm-up
  for (auto _ : state) state.SetIterationTime(s.time_once(op));
  state.counters["GB/s"] = benchmark::Counter(3.0 * static_cast<double>(bytes) / 1e9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DeviceCopy(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  Setup s(bytes);
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  auto op = [&] { cudaMemcpyAsync(s.d, s.a, bytes, cudaMemcpyDeviceToDevice, s.stream); };
  op();
  for (auto _ : state) state.SetIterationTime(s.time_once(op));
  state.counters["GB/s"] = benchmark::Counter(2.0 * static_cast<double>(bytes) / 1e9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

constexpr int64_t k64M = int64_t{64} << 20;
constexpr int64_t k1G = int64_t{1} << 30;

BENCHMARK(BM_DeviceCopy)->Arg(k64M)->Arg(k1G)->UseManualTime();
BENCHMARK_CAPTURE(BM_DeviceReduceSum, float, DataType::Float32)->Arg(k64M)->Arg(k1G)->UseManualTime();
BENCHMARK_CAPTURE(BM_DeviceReduceSum, bfloat16, DataType::Bfloat16)
    ->Arg(k64M)->Arg(k1G)->UseManualTime();
BENCHMARK_CAPTURE(BM_DeviceReduceSum, half, DataType::Float16)->Arg(k64M)->Arg(k1G)->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
