#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"

namespace sxcoll::bench {

const CollectiveTest& reduce_scatter_test() {
  static const CollectiveTest test{
      Collective::ReduceScatter, true, false,
      [](size_t count, size_t esize, int n) {
        const size_t block = per_rank_block(count, esize, n);
        return CollCounts{block * static_cast<size_t>(n), block, block, 0, block};
      },
      // Each rank sends n-1 partial blocks: (n-1)/n of the input.
      [](int n) { return n > 1 ? (n - 1.0) / n : 0.0; },
      [](void* in, const CollCounts& c, DataType type, RedOp op, int rank, int n, int) {
        fill_allreduce_input(in, c.send, type, op, rank, n);
      },
      // Rank r's output is block r of the allreduce of the inputs.
      [](const void* out, const CollCounts& c, DataType type, RedOp op, int rank, int n, int) {
        return count_allreduce_errors(out, c.recv, type, op, n, static_cast<size_t>(rank) * c.param);
      },
      [](BenchEngine& e, const void* in, void* out, const CollCounts& c, DataType type, RedOp op, int) {
        e.run({Collective::ReduceScatter, in, out, c.param, type, op, -1});
      },
  };
  return test;
}

}  // namespace sxcoll::bench
