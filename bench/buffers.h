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
  // 16 bytes of the same memory, for the allreduce that lines the ranks up before a timed loop.
  char* line_up() { return line_up_.get(); }
  // Writes this rank's input at `input`: send(), or in place a part of recv().
  void fill(const CollectiveTest& test, char* input, const CollCounts& counts, DataType type, RedOp op, int rank,
            int nranks, int root);
  // Sets `bytes` at `output` to all ones (NaN in every float type), so that an element the
  // collective never writes is counted wrong, not taken for a result left by an earlier call.
  void poison(char* output, size_t bytes);
  // Wrong elements of the result at `output`.
  size_t count_errors(const CollectiveTest& test, const char* output, const CollCounts& counts, DataType type,
                      RedOp op, int rank, int nranks, int root);

 private:
  transport::MemoryKind kind_;
  gpu::Memory send_{nullptr, nullptr};
  gpu::Memory recv_{nullptr, nullptr};
  gpu::Memory line_up_{nullptr, nullptr};
  transport::Allocation host_;  // GPU buffers only: where inputs are made and results read back
};

}  // namespace sxcoll::bench
