#include "collectives/ring_blocks.h"

#include <algorithm>

#include "collectives/allreduce_ring.h"

namespace sxcoll {

RingBlocksProgram::RingBlocksProgram(RingPhase phase, int nranks, int rank, size_t block, Range slice, size_t chunk)
    : phase_(phase),
      block_(block),
      slice_(slice),
      chunk_(chunk),
      loop_(phase == RingPhase::AllGather ? ring_allgather_steps(nranks, rank)
                                          : ring_reduce_scatter_steps(nranks, rank)) {}

size_t RingBlocksProgram::size() const { return (slice_.count + chunk_ - 1) / chunk_ * loop_.size(); }

Step RingBlocksProgram::at(size_t index) const {
  const size_t loop = index / loop_.size();
  const RingStep& rs = loop_[index % loop_.size()];
  const size_t within = slice_.offset + loop * chunk_;  // where in its block the step's range is
  const size_t at_block = static_cast<size_t>(rs.block) * block_ + within;
  Step step;
  step.count = std::min(chunk_, slice_.count - loop * chunk_);
  set_ring_links(step, rs);
  step.send_input = rs.send_input;
  if (phase_ == RingPhase::AllGather) {
    // The output holds every block; the input is this rank's block alone.
    step.offset = at_block;
    if (rs.send_input) {
      step.input_offset = within;
      step.copy_input = true;
    }
    return step;
  }
  // Reduce-scatter: the input holds every block; the output is this rank's block alone,
  // so partial sums of the other blocks pass through scratch on their way round.
  step.input_offset = at_block;
  step.offset = within;
  step.with_input = rs.reduce;
  step.finalize = rs.finalize;
  step.to_scratch = rs.reduce && !rs.finalize;
  return step;
}

}  // namespace sxcoll
