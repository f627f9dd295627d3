// Ring allreduce as a step program: the ring schedule applied to a channel's elements in
// loops of n chunks, so that the pipeline moves one chunk (one slot) per step.
#pragma once

#include <vector>

#include "collectives/partition.h"
#include "collectives/ring_schedule.h"
#include "collectives/step.h"

namespace sxcoll {

// Links of a ring channel, as the executor numbers them.
inline constexpr uint8_t kRingInFromPrev = 0;
inline constexpr uint8_t kRingOutToNext = 0;

// The links of a ring step: from the previous rank where it receives, to the next where it sends.
inline void set_ring_links(Step& step, const RingStep& rs) {
  if (rs.recv) {
    step.nrecv = 1;
    step.recv[0] = kRingInFromPrev;
  }
  if (rs.send) {
    step.nsend = 1;
    step.send[0] = kRingOutToNext;
  }
}

class RingAllreduceProgram final : public StepProgram {
 public:
  // `slice`: the channel's part of the buffer; `chunk`: elements per slot; `align`: block
  // granularity in elements (chunk is a multiple of it).
  RingAllreduceProgram(int nranks, int rank, Range slice, size_t chunk, size_t align);
  size_t size() const override;
  Step at(size_t index) const override;

 private:
  int nranks_;
  Range slice_;
  size_t chunk_;
  size_t align_;
  std::vector<RingStep> loop_;
};

}  // namespace sxcoll
