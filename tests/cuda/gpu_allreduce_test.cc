// Allreduce of GPU buffers end to end: ranks as processes over loopback TCP (so every
// byte is staged through pinned host memory) or through CUDA IPC (copies straight into
// the peer's GPU memory), reductions by the CUDA kernels, every dtype and op, both
// algorithms, in and out of place. Rank r uses GPU r mod the GPUs present, so one GPU
// serves too (CUDA IPC then copies within it). Without a CUDA device every test is skipped.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "bench/check_values.h"
#include "collectives/gpu.h"
#include "multiprocess/rank_harness.h"

namespace sxcoll {
namespace {

struct Case {
  int nranks;
  Algorithm algorithm;
  const char* intra;      // --intra: net (tcp, staged) or cuda_ipc
  const char* data_path;  // what Communicator::data_path() must say
  const char* cuda_ipc = "write";  // --cuda-ipc: who moves the bytes between GPUs
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return fmt::format("n{}_{}_{}{}", info.param.nranks, algorithm_name(info.param.algorithm), info.param.intra,
                     std::string(info.param.cuda_ipc) == "read" ? "_read" : "");
}

class GpuAllreduce : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    // Counted in a child: CUDA initialized here would be unusable in the forked ranks.
    gpus_ = gpu::probe_device_count();
    if (gpus_ == 0) GTEST_SKIP() << "no CUDA device";
  }
  int gpus_ = 0;
};

int check_all(testing::RankEnv& env, Algorithm algorithm, const std::string& data_path) {
  const int n = env.comm.size();
  const int rank = env.comm.rank();
  int failures = 0;
  const size_t few_mib = (size_t{3} << 20) + 123;
  gpu::Memory input = gpu::alloc_device(few_mib), output = gpu::alloc_device(few_mib);
  std::vector<char> host(few_mib);
  if (env.comm.data_path() != data_path) {
    std::fprintf(stderr, "rank %d: data path %s, expected %s\n", rank, env.comm.data_path().c_str(), data_path.c_str());
    return 1;
  }
  for (DataType type : kAllDataTypes) {
    const size_t esize = dtype_size(type);
    for (RedOp op : kAllRedOps) {
      for (size_t count : {size_t{1}, size_t{1009}, few_mib / esize}) {
        for (bool in_place : {false, true}) {
          bench::fill_allreduce_input(host.data(), count, type, op, rank, n);
          gpu::copy(input.get(), host.data(), count * esize);
          char* out = in_place ? input.get() : output.get();
          env.comm.allreduce(input.get(), out, count, type, op, algorithm);
          gpu::copy(host.data(), out, count * esize);
          if (!testing::result_is_exact(rank, n, host.data(), count, type, op, in_place)) ++failures;
        }
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

TEST_P(GpuAllreduce, EveryTypeOpAndPlacementIsExact) {
  const Case c = GetParam();
  CommunicatorOptions comm;
  comm.memory = transport::MemoryKind::Cuda;
  comm.buffsize = 1 << 20;
  comm.timeout = std::chrono::seconds(60);
  transport::TransportOptions transport;
  transport.intra = c.intra;
  transport.cuda_ipc = c.cuda_ipc;
  const int gpus = gpus_;
  int code = testing::run_ranks(
      c.nranks, [&](testing::RankEnv& env) { return check_all(env, c.algorithm, c.data_path); }, comm, transport,
      [gpus](const bootstrap::LaunchInfo& info) { gpu::use_device(info.local_rank % gpus); });
  EXPECT_EQ(code, 0) << "see the ranks' messages above";
}

INSTANTIATE_TEST_SUITE_P(Algorithms, GpuAllreduce,
                         ::testing::Values(Case{2, Algorithm::Ring, "net", "gdr: staged"},
                                           Case{2, Algorithm::Tree, "net", "gdr: staged"},
                                           Case{3, Algorithm::Ring, "net", "gdr: staged"},
                                           Case{3, Algorithm::Tree, "net", "gdr: staged"},
                                           Case{2, Algorithm::Ring, "cuda_ipc", "gdr: cuda_ipc"},
                                           Case{2, Algorithm::Tree, "cuda_ipc", "gdr: cuda_ipc"},
                                           Case{3, Algorithm::Ring, "cuda_ipc", "gdr: cuda_ipc"},
                                           Case{4, Algorithm::Tree, "cuda_ipc", "gdr: cuda_ipc"},
                                           // The receivers' kernels read the senders' staging slots.
                                           Case{2, Algorithm::Ring, "cuda_ipc", "gdr: cuda_ipc read", "read"},
                                           Case{2, Algorithm::Tree, "cuda_ipc", "gdr: cuda_ipc read", "read"},
                                           Case{3, Algorithm::Ring, "cuda_ipc", "gdr: cuda_ipc read", "read"},
                                           Case{4, Algorithm::Tree, "cuda_ipc", "gdr: cuda_ipc read", "read"}),
                         case_name);

}  // namespace
}  // namespace sxcoll
