// The NCCL engine on GPUs (label "nccl"): ranks as forked processes joined by sxcoll's
// bootstrap, one GPU each, libnccl found the way `sxcoll bench` finds it
// (SXCOLL_NCCL_LIBRARY, NCCL_HOME, or the loader's path). Skipped without two CUDA devices
// or without NCCL. The parent process never touches CUDA: a forked child could not use it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "bench/nccl/nccl_engine.h"
#include "collectives/half.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/bootstrap/local_launcher.h"
#include "transport/error.h"

namespace sxcoll::bench {
namespace {

using ::testing::HasSubstr;

constexpr int kRanks = 2;
constexpr int kSkip = 77;
constexpr auto kBootstrapTimeout = std::chrono::seconds(60);

// Runs `body` as kRanks ranks, each with its own GPU (device = rank) and the NCCL library.
// Returns the launcher's exit code: kSkip when any rank lacks NCCL or a GPU.
int run_ranks(const std::function<int(bootstrap::Bootstrap&, NcclLibrary&)>& body) {
  return bootstrap::launch_local(
      kRanks,
      [&](const bootstrap::LaunchInfo& info) {
        bootstrap::Bootstrap boot(info, kBootstrapTimeout);
        std::unique_ptr<NcclLibrary> nccl;
        std::string missing;
        int devices = 0;
        try {
          nccl = std::make_unique<NcclLibrary>();
        } catch (const UsageError& e) {
          missing = e.what();
        }
        if (missing.empty() && (cudaGetDeviceCount(&devices) != cudaSuccess || devices < kRanks))
          missing = fmt::format("{} CUDA devices, {} needed", devices, kRanks);
        // Every rank skips, or none does.
        bool all_there = true;
        for (const auto& m : boot.allgather(missing)) all_there = all_there && m.empty();
        if (!all_there) {
          if (!missing.empty() && boot.rank() == 0) std::fprintf(stderr, "skipped: %s\n", missing.c_str());
          return kSkip;
        }
        int code = body(boot, *nccl);
        boot.barrier();
        return code;
      },
      kBootstrapTimeout);
}

// One element of `type` holding the small integer `v`, exactly.
std::vector<char> element(DataType type, int v) {
  std::vector<char> bytes(dtype_size(type));
  auto put = [&](auto x) { std::memcpy(bytes.data(), &x, sizeof x); };
  switch (type) {
    case DataType::Int8: put(static_cast<int8_t>(v)); break;
    case DataType::Uint8: put(static_cast<uint8_t>(v)); break;
    case DataType::Int32: put(static_cast<int32_t>(v)); break;
    case DataType::Int64: put(static_cast<int64_t>(v)); break;
    case DataType::Float16: put(to_float16(static_cast<float>(v))); break;
    case DataType::Bfloat16: put(to_bfloat16(static_cast<float>(v))); break;
    case DataType::Float32: put(static_cast<float>(v)); break;
    case DataType::Float64: put(static_cast<double>(v)); break;
  }
  return bytes;
}

// Device memory for `count` elements, freed at scope exit.
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) {
    if (cudaMalloc(&ptr, bytes) != cudaSuccess) throw RunError(fmt::format("cudaMalloc({}) failed", bytes));
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

void fill(void* device, size_t count, DataType type, int v) {
  const auto one = element(type, v);
  std::vector<char> host(count * one.size());
  for (size_t i = 0; i < count; ++i) std::memcpy(host.data() + i * one.size(), one.data(), one.size());
  if (cudaMemcpy(device, host.data(), host.size(), cudaMemcpyHostToDevice) != cudaSuccess)
    throw RunError("cudaMemcpy to the device failed");
}

// Elements of `device` that are not `v`.
size_t wrong(const void* device, size_t count, DataType type, int v) {
  const auto one = element(type, v);
  std::vector<char> host(count * one.size());
  if (cudaMemcpy(host.data(), device, host.size(), cudaMemcpyDeviceToHost) != cudaSuccess)
    throw RunError("cudaMemcpy from the device failed");
  size_t n = 0;
  for (size_t i = 0; i < count; ++i) n += std::memcmp(host.data() + i * one.size(), one.data(), one.size()) != 0;
  return n;
}

int expect_run(int code) {
  if (code == kSkip) return kSkip;
  EXPECT_EQ(code, 0);
  return code;
}

TEST(NcclEngine, SumsEveryTypeOutOfPlaceAndInPlaceAndNamesItsTransport) {
  const int code = run_ranks([](bootstrap::Bootstrap& boot, NcclLibrary& nccl) {
    NcclEngine engine(boot, boot.rank(), nccl);
    const size_t count = (size_t{1} << 20) + 3;  // not a multiple of anything NCCL likes
    DeviceBuffer in(count * 8), out(count * 8);
    const int sum = kRanks * (kRanks + 1) / 2;
    int failures = 0;
    for (DataType type : kAllDataTypes) {
      fill(in.ptr, count, type, boot.rank() + 1);
      engine.allreduce(in.ptr, out.ptr, count, type, RedOp::Sum);
      engine.wait();
      if (size_t n = wrong(out.ptr, count, type, sum)) {
        std::fprintf(stderr, "rank %d: %zu of %zu %s elements wrong out of place\n", boot.rank(), n, count,
                     std::string(dtype_name(type)).c_str());
        ++failures;
      }
      engine.allreduce(in.ptr, in.ptr, count, type, RedOp::Sum);
      engine.wait();
      if (size_t n = wrong(in.ptr, count, type, sum)) {
        std::fprintf(stderr, "rank %d: %zu %s elements wrong in place\n", boot.rank(), n,
                     std::string(dtype_name(type)).c_str());
        ++failures;
      }
    }
    const std::string description = engine.describe();
    std::fprintf(stderr, "rank %d: %s\n", boot.rank(), description.c_str());
    if (description.find("nccl 2.") != 0 || description.find("not connected") != std::string::npos) ++failures;
    if (engine.algorithm_for(Collective::AllReduce, 1024).empty()) ++failures;
    return failures;
  });
  if (expect_run(code) == kSkip) GTEST_SKIP() << "no NCCL or fewer than two GPUs";
}

TEST(NcclEngine, ABatchOfCallsIsWaitedForOnce) {
  const int code = run_ranks([](bootstrap::Bootstrap& boot, NcclLibrary& nccl) {
    NcclEngine engine(boot, boot.rank(), nccl);
    const size_t count = size_t{64} << 20;  // 256 MiB of float
    DeviceBuffer buf(count * sizeof(float));
    fill(buf.ptr, count, DataType::Float32, 1);
    // In place, ten times: each call doubles every element (1 -> 2^10 with two ranks).
    for (int i = 0; i < 10; ++i) engine.allreduce(buf.ptr, buf.ptr, count, DataType::Float32, RedOp::Sum);
    engine.wait();
    return wrong(buf.ptr, count, DataType::Float32, 1 << 10) == 0 ? 0 : 1;
  });
  if (expect_run(code) == kSkip) GTEST_SKIP() << "no NCCL or fewer than two GPUs";
}

TEST(NcclEngine, ACallThatNeverFinishesIsAbortedAtTheDeadline) {
  const int code = run_ranks([](bootstrap::Bootstrap& boot, NcclLibrary& nccl) {
    const auto timeout = std::chrono::seconds(3);
    const size_t count = 1 << 20;
    try {
      NcclEngine engine(boot, boot.rank(), nccl, timeout);
      // After the engine, which makes this rank's GPU current: memory of another GPU would
      // be an illegal address for this one's kernels.
      DeviceBuffer buf(count * sizeof(float));
      // One call together, so that NCCL has connected (it connects lazily, inside the call).
      engine.allreduce(buf.ptr, buf.ptr, count, DataType::Float32, RedOp::Sum);
      engine.wait();
      boot.barrier();
      if (boot.rank() == 0) {
        // Rank 1 does not take part: rank 0's call can never finish.
        engine.allreduce(buf.ptr, buf.ptr, count, DataType::Float32, RedOp::Sum);
        const auto start = std::chrono::steady_clock::now();
        try {
          engine.wait();
          std::fprintf(stderr, "rank 0: wait() returned\n");
          return 1;
        } catch (const RunError& e) {
          const auto waited = std::chrono::steady_clock::now() - start;
          const std::string message = e.what();
          std::fprintf(stderr, "rank 0: %s\n", message.c_str());
          boot.barrier();
          if (message.find("rank 0: nccl: allreduce of 1048576 x float (sum): no progress for 3000 ms") != 0) return 2;
          if (message.find("communicator aborted") == std::string::npos) return 3;
          if (waited < timeout || waited > timeout + std::chrono::seconds(2)) return 4;
          return 0;
        }
      }
      // Rank 1 waits for rank 0 to give up, then leaves as a failed rank does: unwinding,
      // which aborts its communicator rather than waiting on rank 0.
      boot.barrier();
      throw std::runtime_error("rank 1 leaves");
    } catch (const std::runtime_error& e) {
      if (boot.rank() == 1 && std::string(e.what()) == "rank 1 leaves") return 0;
      throw;
    }
  });
  if (expect_run(code) == kSkip) GTEST_SKIP() << "no NCCL or fewer than two GPUs";
}

}  // namespace
}  // namespace sxcoll::bench
