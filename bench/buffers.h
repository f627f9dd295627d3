// The bench's input and output buffers, in host memory or on this rank's GPU (--mem).
// Inputs are made and results checked on the host: GPU buffers pass through one host
// buffer of the same size on the way in and on the way out.
#pragma once

#include <cstddef>

#include "bench/collective.h"
#include "collectives/gpu.h"
#include "transport/memory.h"

namespace sxcoll::bench {

class BenchBuffers {
 public:
  BenchBuffers(size_t bytes, transport::MemoryKind kind);

  char* send() { return send_.get(); }
  char* recv() { return recv_.get(); }
  // Writes this rank's input into send().
  void fill(const CollectiveTest& test, size_t count, DataType type, RedOp op, int rank, int nranks);
  // Wrong elements of a result in `out` (send() or recv()).
  size_t count_errors(const CollectiveTest& test, const char* out, size_t count, DataType type, RedOp op,
                      int nranks);

 private:
  transport::MemoryKind kind_;
  gpu::Memory send_{nullptr, nullptr};
  gpu::Memory recv_{nullptr, nullptr};
  transport::Allocation host_;  // GPU buffers only: where inputs are made and results read back
};

}  // namespace sxcoll::bench
