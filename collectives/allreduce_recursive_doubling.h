// Recursive doubling: at level k every rank exchanges its partial result with rank^(2^k)
// and folds in what it received. log2(n) hops instead of the ring's 2(n-1): the latency
// algorithm for small messages (each level moves the whole buffer, so only those).
// Defined for power-of-two world sizes.
#pragma once

#include <vector>

#include "collectives/partition.h"
#include "collectives/step.h"

namespace sxcoll {

bool recursive_doubling_applies(int nranks);
// Partners by level; link k of the channel (in and out) is partner k.
std::vector<int> recursive_doubling_partners(int nranks, int rank);

class RecursiveDoublingProgram final : public StepProgram {
 public:
  RecursiveDoublingProgram(int nranks, int rank, Range slice, size_t chunk);
  size_t size() const override { return chunks() * (levels_ + 1); }
  Step at(size_t index) const override;

 private:
  size_t chunks() const { return (slice_.count + chunk_ - 1) / chunk_; }
  size_t levels_;
  Range slice_;
  size_t chunk_;
};

}  // namespace sxcoll
