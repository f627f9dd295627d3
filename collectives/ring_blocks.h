// Allgather and reduce-scatter as step programs: the ring allreduce's two phases
// (ring_schedule.h) run alone, over a buffer of n blocks where block b belongs to rank b
// (allgather: the output's blocks, each rank's input one block; reduce-scatter: the
// input's, each rank's output one block), one chunk of every block per loop.
#pragma once

#include <vector>

#include "collectives/partition.h"
#include "collectives/ring_schedule.h"
#include "collectives/step.h"

namespace sxcoll {

enum class RingPhase { AllGather, ReduceScatter };

class RingBlocksProgram final : public StepProgram {
 public:
  // `block`: elements per rank's block; `slice`: the channel's part of a block (the same
  // in every block); `chunk`: elements per slot. Uses the ring's links (allreduce_ring.h).
  RingBlocksProgram(RingPhase phase, int nranks, int rank, size_t block, Range slice, size_t chunk);
  size_t size() const override;
  Step at(size_t index) const override;

 private:
  RingPhase phase_;
  size_t block_;
  Range slice_;
  size_t chunk_;
  std::vector<RingStep> loop_;
};

}  // namespace sxcoll
