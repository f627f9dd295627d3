// Broadcast and reduce as a pipelined chain: the ranks in ring order from the root, one
// chunk per step. A broadcast flows from the root down the chain, each rank keeping a copy
// and passing it on; a reduce flows up it, each rank folding in its input, and completes
// at the root. Every link carries the message once: busbw = algbw, nccl-tests' bound.
#pragma once

#include "collectives/partition.h"
#include "collectives/step.h"

namespace sxcoll {

enum class ChainKind { Broadcast, Reduce };

// Where a rank is in the chain from `root`: 0 at the root.
inline int chain_position(int nranks, int rank, int root) { return (rank - root + nranks) % nranks; }
inline int chain_rank(int nranks, int position, int root) { return (position + root) % nranks; }

// Link 0 in and link 0 out, where the rank has them: broadcast receives from position
// p-1 and sends to p+1; reduce receives from p+1 and sends to p-1.
class ChainProgram final : public StepProgram {
 public:
  ChainProgram(ChainKind kind, int nranks, int position, Range slice, size_t chunk);
  size_t size() const override { return (slice_.count + chunk_ - 1) / chunk_; }
  Step at(size_t index) const override;

 private:
  ChainKind kind_;
  bool first_;  // the root
  bool last_;   // the end of the chain
  Range slice_;
  size_t chunk_;
};

}  // namespace sxcoll
