#include "collectives/allreduce_recursive_doubling.h"

#include <algorithm>

namespace sxcoll {

bool recursive_doubling_applies(int nranks) { return nranks >= 2 && (nranks & (nranks - 1)) == 0; }

std::vector<int> recursive_doubling_partners(int nranks, int rank) {
  std::vector<int> partners;
  for (int bit = 1; bit < nranks; bit <<= 1) partners.push_back(rank ^ bit);
  return partners;
}

RecursiveDoublingProgram::RecursiveDoublingProgram(int nranks, int rank, Range slice, size_t chunk)
    : levels_(recursive_doubling_partners(nranks, rank).size()), slice_(slice), chunk_(chunk) {}

Step RecursiveDoublingProgram::at(size_t index) const {
  const size_t chunk_index = index / (levels_ + 1);
  const size_t level = index % (levels_ + 1);  // step `level` receives from level-1, sends to level
  const size_t begin = chunk_index * chunk_;
  Step step;
  step.offset = slice_.offset + begin;
  step.count = std::min(chunk_, slice_.count - begin);
  if (level == 0) {
    step.send_input = true;
  } else {
    step.nrecv = 1;
    step.recv[0] = static_cast<uint8_t>(level - 1);
    step.with_input = level == 1;   // the first fold combines the input ...
    step.with_output = level > 1;   // ... later ones the partial result so far
    step.finalize = level == levels_;
  }
  if (level < levels_) {
    step.nsend = 1;
    step.send[0] = static_cast<uint8_t>(level);
  }
  return step;
}

}  // namespace sxcoll
