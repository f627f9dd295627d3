// Ring allreduce as NCCL orders it: reduce-scatter then all-gather around the ring, one
// block per step, n blocks per loop. Pure schedule: which block, what to do with it.
#pragma once

#include <cstddef>
#include <vector>

namespace sxcoll {

struct RingStep {
  int block = 0;            // which of the loop's n blocks
  bool recv = false;        // take the block from the previous rank
  bool reduce = false;      // fold it into the local input (reduce-scatter)
  bool send = false;        // pass the result on to the next rank
  bool finalize = false;    // this rank's value of the block is now the final result
  bool send_input = false;  // first step: the local input goes out as it is
};

// The 2n-1 steps rank `rank` performs on each loop (n >= 2).
std::vector<RingStep> ring_allreduce_steps(int nranks, int rank);
// The allreduce's two phases alone, n steps each: reduce-scatter ends with this rank's
// block complete and sends it nowhere; all-gather starts by sending this rank's block
// (its input) and ends with every block here.
std::vector<RingStep> ring_reduce_scatter_steps(int nranks, int rank);
std::vector<RingStep> ring_allgather_steps(int nranks, int rank);

inline int ring_prev(int nranks, int rank) { return (rank + nranks - 1) % nranks; }
inline int ring_next(int nranks, int rank) { return (rank + 1) % nranks; }

}  // namespace sxcoll
