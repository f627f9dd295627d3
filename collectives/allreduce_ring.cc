#include "collectives/allreduce_ring.h"

namespace sxcoll {

RingAllreduceProgram::RingAllreduceProgram(int nranks, int rank, Range slice, size_t chunk, size_t align)
    : nranks_(nranks), slice_(slice), chunk_(chunk), align_(align), loop_(ring_allreduce_steps(nranks, rank)) {}

size_t RingAllreduceProgram::size() const {
  const size_t per_loop = chunk_ * static_cast<size_t>(nranks_);
  const size_t loops = (slice_.count + per_loop - 1) / per_loop;
  return loops * loop_.size();
}

Step RingAllreduceProgram::at(size_t index) const {
  const size_t per_loop = chunk_ * static_cast<size_t>(nranks_);
  const size_t loop = index / loop_.size();
  const RingStep& rs = loop_[index % loop_.size()];
  const size_t loop_begin = loop * per_loop;
  const size_t loop_count = std::min(per_loop, slice_.count - loop_begin);
  Range block = split_range(loop_count, static_cast<size_t>(nranks_), static_cast<size_t>(rs.block), align_);

  Step step;
  step.offset = slice_.offset + loop_begin + block.offset;
  step.count = block.count;
  set_ring_links(step, rs);
  step.with_input = rs.reduce;
  step.finalize = rs.finalize;
  step.send_input = rs.send_input;
  return step;
}

}  // namespace sxcoll
