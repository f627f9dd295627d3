// The layouts of the collectives other than allreduce (whose algorithms are
// algorithm_layout.h's): ring allgather and reduce-scatter, chain broadcast and reduce
// from the root, pairwise alltoall, ring sendrecv. Every channel has the same links and
// moves its slice of each block.
#pragma once

#include <vector>

#include "collectives/collective.h"
#include "collectives/layout.h"

namespace sxcoll {

class CollectiveLayout final : public Layout {
 public:
  // `coll` is not AllReduce; nranks >= 2; `root` is used by broadcast and reduce. Throws
  // std::logic_error where the world does not fit (alltoall: at most 257 ranks, a Step's
  // link index being one byte).
  CollectiveLayout(Collective coll, int nranks, int rank, int channels, int root);

  int channels() const override { return channels_; }
  const ChannelLinks& links(int) const override { return links_; }
  // `count`: allgather and reduce-scatter, alltoall: one block (a rank's, a peer's);
  // broadcast, reduce, sendrecv: the message.
  std::vector<ChannelProgram> programs(int channel, size_t count, size_t chunk, size_t align) const override;
  // At least 8 chunks of each block per channel (16 KiB at the least): a chunk is written
  // whole before its receiver copies it out and passes it on, so a block of one or two
  // slot-sized chunks serializes the sender's copy and the receiver's (and leaves most
  // links of a chain idle); smaller chunks overlap them.
  size_t chunk_for(size_t slot_chunk, size_t count, size_t align) const override;
  // Whether some step writes partial results to scratch (of `count` elements).
  bool uses_scratch() const { return coll_ == Collective::ReduceScatter || coll_ == Collective::Reduce; }

 private:
  Collective coll_;
  int nranks_;
  int rank_;
  int channels_;
  int position_ = 0;  // broadcast, reduce: place in the chain from the root
  ChannelLinks links_;
};

}  // namespace sxcoll
