// An engine under test: sxcoll's own, and later NCCL. The harness times and checks any
// of them through this; a new engine adds a file, not a branch in the harness.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "collectives/algorithm.h"
#include "collectives/collective.h"
#include "collectives/communicator.h"
#include "collectives/dtype.h"
#include "transport/bootstrap/bootstrap.h"

namespace sxcoll::bench {

// One call of a collective with NCCL's arguments: `count` as NCCL counts it for that
// collective (collectives/communicator.h), `op` where it reduces, `root` where it has one.
struct CollectiveCallArgs {
  Collective collective = Collective::AllReduce;
  const void* input = nullptr;
  void* output = nullptr;
  size_t count = 0;
  DataType type = DataType::Float32;
  RedOp op = RedOp::Sum;
  int root = -1;
};

class BenchEngine {
 public:
  virtual ~BenchEngine() = default;
  virtual std::string name() const = 0;      // "sxcoll", "nccl"
  virtual std::string describe() const = 0;  // transport and settings, for the header
  // The algorithm that will run `collective` at this size ("ring", "tree", ...).
  virtual std::string algorithm_for(Collective collective, size_t bytes) const = 0;
  // May return before the result is there (NCCL enqueues on a stream); wait() waits for
  // every call made so far, with a deadline.
  virtual void run(const CollectiveCallArgs& call) = 0;
  virtual void wait() {}
  // Whether the engine defines `collective`'s result in place (input and output where
  // nccl-tests puts them); where it does not, the in-place result is timed, not checked.
  virtual bool defines_in_place(Collective) const { return true; }

  void allreduce(const void* input, void* output, size_t count, DataType type, RedOp op) {
    run({Collective::AllReduce, input, output, count, type, op, -1});
  }
};

class SxcollEngine final : public BenchEngine {
 public:
  // Returns from run() with the result in place. `algorithm` is allreduce's; the other
  // collectives have one each (collective_algorithm()).
  SxcollEngine(Communicator& comm, Algorithm algorithm, std::string transport)
      : comm_(comm), algorithm_(algorithm), transport_(std::move(transport)) {}
  std::string name() const override { return "sxcoll"; }
  std::string describe() const override;
  std::string algorithm_for(Collective collective, size_t bytes) const override;
  void run(const CollectiveCallArgs& call) override;

 private:
  Communicator& comm_;
  Algorithm algorithm_;
  std::string transport_;
};

// NCCL on GPU `cuda_device` over `boot`'s ranks (bench/nccl), libnccl loaded now. Throws
// UsageError where this sxcoll has no CUDA or no NCCL can be loaded. Collective.
std::unique_ptr<BenchEngine> make_nccl_engine(bootstrap::Bootstrap& boot, int cuda_device,
                                              std::chrono::milliseconds timeout);

}  // namespace sxcoll::bench
