#include "collectives/allreduce_hier.h"

#include <algorithm>

namespace sxcoll {

namespace {

size_t phase_steps(const HierShape& s) { return static_cast<size_t>(s.hosts) * static_cast<size_t>(s.local_size); }
size_t inter_loop_steps(const HierShape& s) { return static_cast<size_t>(2 * s.hosts - 1); }
int wrap(int value, int n) { return ((value % n) + n) % n; }

// The intra program in blocks of one phase of one piece, 2P of them: RS(0), then RS(p+1)
// before AG(p) for every p, then AG(P-1).
struct IntraBlock {
  bool reduce_scatter = false;
  size_t piece = 0;
};
IntraBlock intra_block(size_t k, size_t pieces) {
  if (k == 0) return {true, 0};
  if (k % 2 == 1 && (k + 1) / 2 < pieces) return {true, (k + 1) / 2};
  return {false, k % 2 == 0 ? k / 2 - 1 : pieces - 1};
}
size_t intra_reduce_scatter_block(size_t piece) { return piece == 0 ? 0 : 2 * piece - 1; }

}  // namespace

HierPieces::HierPieces(const HierShape& shape, Range slice, size_t chunk, size_t align)
    : shape_(shape), slice_(slice), piece_elements_(chunk * phase_steps(shape)), align_(align) {}

size_t HierPieces::pieces() const { return (slice_.count + piece_elements_ - 1) / piece_elements_; }

Range HierPieces::cell(size_t piece, int block, int part) const {
  const size_t begin = piece * piece_elements_;
  const size_t count = std::min(piece_elements_, slice_.count - begin);
  const Range b = split_range(count, static_cast<size_t>(shape_.local_size), static_cast<size_t>(block), align_);
  const Range c = split_range(b.count, static_cast<size_t>(shape_.hosts), static_cast<size_t>(part), align_);
  return Range{slice_.offset + begin + b.offset + c.offset, c.count};
}

HierIntraProgram::HierIntraProgram(const HierShape& shape, Range slice, size_t chunk, size_t align)
    : pieces_(shape, slice, chunk, align), phase_steps_(phase_steps(shape)) {}

size_t HierIntraProgram::size() const { return 2 * pieces_.pieces() * phase_steps_; }

size_t HierIntraProgram::reduce_scatter_end(size_t piece) const {
  return (intra_reduce_scatter_block(piece) + 1) * phase_steps_ - 1;
}

Step HierIntraProgram::at(size_t index) const {
  const HierShape& s = pieces_.shape();
  const int n = s.local_size;
  const int l = s.local_rank;
  const IntraBlock block = intra_block(index / phase_steps_, pieces_.pieces());
  const size_t within = index % phase_steps_;
  const int part = static_cast<int>(within / static_cast<size_t>(n));  // which cell of each block
  const int k = static_cast<int>(within % static_cast<size_t>(n));     // step of the ring for that part
  Step step;
  // The ring schedule (ring_schedule.h) with position l: reduce-scatter step k holds block
  // l-1-k, all-gather step k block l-k; the first step of each sends without receiving.
  const int b = block.reduce_scatter ? wrap(l - 1 - k, n) : wrap(l - k, n);
  const Range cell = pieces_.cell(block.piece, b, part);
  step.offset = cell.offset;
  step.count = cell.count;
  if (k > 0) {
    step.nrecv = 1;
    step.recv[0] = hier_local_link();
  }
  if (k < n - 1) {
    step.nsend = 1;
    step.send[0] = hier_local_link();
  }
  if (block.reduce_scatter) {
    step.send_input = k == 0;
    step.with_input = k > 0;
    step.finalize = k == n - 1 && s.hosts == 1;  // else the inter ring completes the block
  } else if (s.hosts > 1) {
    // The block is final once the inter ring is done with this piece.
    step.after = static_cast<int64_t>((block.piece + 1) * inter_loop_steps(s) - 1);
  }
  return step;
}

HierInterProgram::HierInterProgram(const HierShape& shape, Range slice, size_t chunk, size_t align)
    : pieces_(shape, slice, chunk, align), loop_(ring_allreduce_steps(shape.hosts, shape.host)) {}

size_t HierInterProgram::size() const { return pieces_.pieces() * loop_.size(); }

Step HierInterProgram::at(size_t index) const {
  const HierShape& s = pieces_.shape();
  const size_t piece = index / loop_.size();
  const RingStep& rs = loop_[index % loop_.size()];
  const Range cell = pieces_.cell(piece, s.local_rank, rs.block);
  Step step;
  step.offset = cell.offset;
  step.count = cell.count;
  const uint8_t link = hier_inter_link(s);
  if (rs.recv) {
    step.nrecv = 1;
    step.recv[0] = link;
  }
  if (rs.send) {
    step.nsend = 1;
    step.send[0] = link;
  }
  // The host's partial sum of the block is the output the intra reduce-scatter left, or
  // the input itself where the host has one rank.
  const bool alone = s.local_size == 1;
  step.with_input = rs.reduce && alone;
  step.with_output = rs.reduce && !alone;
  step.send_input = rs.send_input && alone;
  step.finalize = rs.finalize;
  if (!alone) {
    const size_t phase = phase_steps(s);
    step.after = static_cast<int64_t>((intra_reduce_scatter_block(piece) + 1) * phase - 1);
  }
  return step;
}

}  // namespace sxcoll
