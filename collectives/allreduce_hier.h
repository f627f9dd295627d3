// Hierarchical allreduce as two step programs per channel, for hosts with equal numbers of
// ranks: within each host a ring reduce-scatter leaves local rank l with the host's sum of
// shard l; the ranks of local rank l on every host allreduce that shard in a ring across
// hosts; a ring all-gather within each host spreads the shards again. Only the middle
// phase crosses hosts, and it moves 2(H-1)/H of the buffer per host instead of the flat
// ring's 2(n-1)/n.
//
// Pipelined in pieces of L*H cells of one chunk each (cell (l, j): part j of the piece's
// block l). The intra program runs the reduce-scatter of piece p+1 before the all-gather
// of piece p, so that while the inter program works on piece p the host's ring already
// reduces the next one; `after` joins the two: the inter program's piece p waits for the
// intra reduce-scatter of piece p, the intra all-gather of piece p for the inter program's
// piece p. The two programs use disjoint links, so each link's messages keep one order.
#pragma once

#include <cstdint>
#include <vector>

#include "collectives/partition.h"
#include "collectives/ring_schedule.h"
#include "collectives/step.h"

namespace sxcoll {

// Where a rank sits in the two rings: `host` of `hosts`, `local_rank` of `local_size`.
struct HierShape {
  int hosts = 1;
  int local_size = 1;
  int host = 0;
  int local_rank = 0;
};

// Link numbering of a hierarchical channel (in and out alike): the host's ring first where
// the host has more than one rank, then the ring across hosts where there is more than one.
inline uint8_t hier_local_link() { return 0; }
inline uint8_t hier_inter_link(const HierShape& s) { return s.local_size > 1 ? 1 : 0; }

// Pieces and cells of a channel's slice.
class HierPieces {
 public:
  HierPieces(const HierShape& shape, Range slice, size_t chunk, size_t align);
  size_t pieces() const;
  // Cell (block, part) of piece `piece`, in the user's buffers.
  Range cell(size_t piece, int block, int part) const;
  const HierShape& shape() const { return shape_; }

 private:
  HierShape shape_;
  Range slice_;
  size_t piece_elements_;
  size_t align_;
};

// Reduce-scatter and all-gather in the host's ring (local_size >= 2). Partner: the inter
// program, where hosts >= 2.
class HierIntraProgram final : public StepProgram {
 public:
  HierIntraProgram(const HierShape& shape, Range slice, size_t chunk, size_t align);
  size_t size() const override;
  Step at(size_t index) const override;
  // Index of the last reduce-scatter step of piece p: what the inter program waits for.
  size_t reduce_scatter_end(size_t piece) const;

 private:
  HierPieces pieces_;
  size_t phase_steps_;  // steps of one phase of one piece: hosts * local_size
};

// The ring across hosts over this local rank's block of every piece (hosts >= 2). Partner:
// the intra program, where local_size >= 2.
class HierInterProgram final : public StepProgram {
 public:
  HierInterProgram(const HierShape& shape, Range slice, size_t chunk, size_t align);
  size_t size() const override;
  Step at(size_t index) const override;
  size_t piece_end(size_t piece) const { return (piece + 1) * loop_.size() - 1; }

 private:
  HierPieces pieces_;
  std::vector<RingStep> loop_;
};

}  // namespace sxcoll
