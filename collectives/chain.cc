#include "collectives/chain.h"

#include <algorithm>

namespace sxcoll {

ChainProgram::ChainProgram(ChainKind kind, int nranks, int position, Range slice, size_t chunk)
    : kind_(kind), first_(position == 0), last_(position == nranks - 1), slice_(slice), chunk_(chunk) {}

Step ChainProgram::at(size_t index) const {
  const size_t begin = index * chunk_;
  Step step;
  step.offset = slice_.offset + begin;
  step.count = std::min(chunk_, slice_.count - begin);
  const bool receives = kind_ == ChainKind::Broadcast ? !first_ : !last_;
  const bool sends = kind_ == ChainKind::Broadcast ? !last_ : !first_;
  if (receives) {
    step.nrecv = 1;
    step.recv[0] = 0;
  }
  if (sends) {
    step.nsend = 1;
    step.send[0] = 0;
  }
  if (kind_ == ChainKind::Broadcast) {
    // The root's output gets its input too; the others keep what they pass on.
    if (!receives) {
      step.send_input = true;
      step.copy_input = true;
    }
    return step;
  }
  if (!receives) {
    step.send_input = true;  // the end of the chain starts the sum with its input
  } else {
    step.with_input = true;
    step.finalize = first_;
    // Only the root's output is the user's to write: partial sums pass through scratch.
    step.to_scratch = !first_;
  }
  return step;
}

}  // namespace sxcoll
