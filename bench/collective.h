// What the harness needs to know of a collective, nccl-tests style (src/all_gather.cu and
// its siblings): how many elements each rank sends and receives at a size of the sweep,
// the bus-bandwidth factor, how to fill inputs and check outputs, and how to call it. The
// harness names no collective: a new one adds a file that fills this in.
#pragma once

#include <cstddef>

#include "collectives/collective.h"
#include "collectives/dtype.h"

namespace sxcoll::bench {

class BenchEngine;

// nccl-tests' GetCollByteCount, in elements, for one size of the sweep.
struct CollCounts {
  size_t send = 0;   // each rank's input
  size_t recv = 0;   // each rank's output
  size_t param = 0;  // the count the collective is called with: the table's count column
  // In place, input and output lie in the output buffer, at rank * these elements.
  size_t send_in_place = 0;
  size_t recv_in_place = 0;
};

struct CollectiveTest {
  Collective collective;
  bool reduces;  // takes -o; otherwise the redop column says "none" and each type runs once
  bool rooted;   // the root column holds -r's rank (broadcast, reduce); otherwise -1
  // From the sweep's size in elements of `esize` bytes.
  CollCounts (*counts)(size_t count, size_t esize, int nranks);
  // busbw = algbw * bus_factor(n): what each link carries, comparable across n
  // (nccl-tests' doc/PERFORMANCE.md). algbw is max(send, recv) bytes over the time.
  double (*bus_factor)(int nranks);
  void (*fill)(void* input, const CollCounts& c, DataType type, RedOp op, int rank, int nranks, int root);
  size_t (*count_errors)(const void* output, const CollCounts& c, DataType type, RedOp op, int rank, int nranks,
                         int root);
  void (*run)(BenchEngine& engine, const void* input, void* output, const CollCounts& c, DataType type, RedOp op,
              int root);
};

const CollectiveTest& collective_test(Collective collective);

// One block per rank, 16-byte aligned, as nccl-tests sizes allgather, reduce_scatter and
// alltoall: (count / n) rounded down to a multiple of 16 bytes' worth of elements.
inline size_t per_rank_block(size_t count, size_t esize, int nranks) {
  const size_t align = esize < 16 ? 16 / esize : 1;
  return count / static_cast<size_t>(nranks) / align * align;
}

}  // namespace sxcoll::bench
