#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"

namespace sxcoll::bench {

const CollectiveTest& allgather_test() {
  static const CollectiveTest test{
      Collective::AllGather, false, false,
      [](size_t count, size_t esize, int n) {
        const size_t block = per_rank_block(count, esize, n);
        return CollCounts{block, block * static_cast<size_t>(n), block, block, 0};
      },
      // Each rank receives the n-1 blocks of the others: (n-1)/n of the output.
      [](int n) { return n > 1 ? (n - 1.0) / n : 0.0; },
      [](void* in, const CollCounts& c, DataType type, RedOp, int rank, int n, int) {
        fill_rank_data(in, c.send, type, rank, n);
      },
      [](const void* out, const CollCounts& c, DataType type, RedOp, int, int n, int) {
        size_t wrong = 0;
        const size_t esize = dtype_size(type);
        for (int r = 0; r < n; ++r)
          wrong += count_rank_data_errors(static_cast<const char*>(out) + static_cast<size_t>(r) * c.param * esize,
                                          c.param, type, r, n);
        return wrong;
      },
      [](BenchEngine& e, const void* in, void* out, const CollCounts& c, DataType type, RedOp op, int) {
        e.run({Collective::AllGather, in, out, c.param, type, op, -1});
      },
  };
  return test;
}

}  // namespace sxcoll::bench
