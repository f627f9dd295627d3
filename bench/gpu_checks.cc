#include "bench/gpu_checks.h"

#include <dlfcn.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include <fmt/core.h>

#include "collectives/gpu.h"
#include "transport/error.h"

namespace sxcoll::bench {

namespace {

// cuBLAS's C interface, the three calls used (cublas_api.h; enums as their values).
struct Cublas {
  int (*create)(void**) = nullptr;
  int (*destroy)(void*) = nullptr;
  int (*gemm_ex)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int, const void*,
                 void*, int, int, int, int) = nullptr;
  bool load() {
    void* lib = nullptr;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"})
      if ((lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    if (lib == nullptr) return false;
    create = reinterpret_cast<decltype(create)>(::dlsym(lib, "cublasCreate_v2"));
    destroy = reinterpret_cast<decltype(destroy)>(::dlsym(lib, "cublasDestroy_v2"));
    gemm_ex = reinterpret_cast<decltype(gemm_ex)>(::dlsym(lib, "cublasGemmEx"));
    return create && destroy && gemm_ex;
  }
};
constexpr int kOpN = 0, kBf16 = 14, kF32 = 0, kComputeF32 = 68, kGemmDefault = -1;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Best of `passes` synchronous copies, in GB/s of `counted` bytes each.
template <typename F>
double best_gbs(int passes, double counted, F&& copy) {
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    auto t0 = Clock::now();
    copy();
    const double s = seconds_since(t0);
    if (s > 0) best = std::max(best, counted / s / 1e9);
  }
  return best;
}

std::optional<double> matmul_tflops(const Cublas& blas, int device, std::string& note) {
  constexpr int n = 8192, reps = 10;
  const size_t bytes = size_t{n} * n * 2;
  auto a = gpu::alloc_device(bytes), b = gpu::alloc_device(bytes), c = gpu::alloc_device(size_t{n} * n * 4);
  // Inputs of real values in [-1, 1) (bf16: the top half of a float), as a training step's
  // are: uninitialised memory may hold NaNs and denormals, zeros draw less power; neither
  // is what a GEMM of a model meets.
  {
    std::vector<uint16_t> values(size_t{n} * n);
    uint32_t state = 0x2545f491u + static_cast<uint32_t>(device);
    for (auto& v : values) {
      state = state * 1664525u + 1013904223u;
      const float x = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
      uint32_t bits;
      std::memcpy(&bits, &x, sizeof bits);
      v = static_cast<uint16_t>(bits >> 16);
    }
    gpu::copy(a.get(), values.data(), bytes);
    gpu::copy(b.get(), values.data(), bytes);
  }
  void* handle = nullptr;
  if (blas.create(&handle) != 0) {
    note = fmt::format("GPU {}: cublasCreate failed", device);
    return std::nullopt;
  }
  const float alpha = 1, beta = 0;
  char sync[4];
  auto gemm = [&] {
    return blas.gemm_ex(handle, kOpN, kOpN, n, n, n, &alpha, a.get(), kBf16, n, b.get(), kBf16, n, &beta, c.get(), kF32,
                        n, kComputeF32, kGemmDefault);
  };
  int rc = gemm();  // warm-up: cuBLAS picks its kernel
  gpu::copy(sync, c.get(), sizeof sync);  // the legacy stream: waits for the GEMMs
  auto t0 = Clock::now();
  for (int r = 0; r < reps && rc == 0; ++r) rc = gemm();
  gpu::copy(sync, c.get(), sizeof sync);
  const double s = seconds_since(t0);
  blas.destroy(handle);
  if (rc != 0) {
    note = fmt::format("GPU {}: cublasGemmEx failed with status {}", device, rc);
    return std::nullopt;
  }
  return 2.0 * n * n * static_cast<double>(n) * reps / s / 1e12;
}

}  // namespace

std::vector<GpuFigures> measure_gpus(int count) {
  Cublas blas;
  const bool have_blas = blas.load();
  std::vector<GpuFigures> out;
  for (int d = 0; d < count; ++d) {
    gpu::use_device(d);
    GpuFigures f;
    f.device = d;
    f.name = gpu::describe_device(d);
    constexpr size_t kBytes = size_t{1} << 30, kPcieBytes = size_t{256} << 20;
    auto x = gpu::alloc_device(kBytes), y = gpu::alloc_device(kBytes);
    auto pinned = gpu::alloc_host_mapped(kPcieBytes);
    std::memset(pinned.get(), 1, kPcieBytes);
    gpu::copy(x.get(), pinned.get(), kPcieBytes);
    f.mem_gbs = best_gbs(5, 2.0 * kBytes, [&] { gpu::copy(y.get(), x.get(), kBytes); });
    f.h2d_gbs = best_gbs(5, kPcieBytes, [&] { gpu::copy(x.get(), pinned.get(), kPcieBytes); });
    f.d2h_gbs = best_gbs(5, kPcieBytes, [&] { gpu::copy(pinned.get(), x.get(), kPcieBytes); });
    if (have_blas)
      f.matmul_tflops = matmul_tflops(blas, d, f.note);
    else
      f.note = "matmul skipped: libcublas not found";
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace sxcoll::bench
