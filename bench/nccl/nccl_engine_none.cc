// This build has no CUDA: the NCCL engine, which drives GPU buffers, is not in it.
#include "bench/engine.h"
#include "transport/error.h"

namespace sxcoll::bench {

std::unique_ptr<BenchEngine> make_nccl_engine(bootstrap::Bootstrap&, int, std::chrono::milliseconds) {
  throw UsageError("--engine nccl: this sxcoll was built without CUDA (the NCCL engine drives GPU buffers)");
}

}  // namespace sxcoll::bench
