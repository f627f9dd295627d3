#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"

namespace sxcoll::bench {

const CollectiveTest& alltoall_test() {
  static const CollectiveTest test{
      Collective::AllToAll, false, false,
      [](size_t count, size_t esize, int n) {
        const size_t block = per_rank_block(count, esize, n);
        return CollCounts{block * static_cast<size_t>(n), block * static_cast<size_t>(n), block, 0, 0};
      },
      // Each rank sends n-1 of its n blocks away.
      [](int n) { return n > 1 ? (n - 1.0) / n : 0.0; },
      // Block p of rank r's input goes to rank p: elements [p*block, (p+1)*block) of r's data.
      [](void* in, const CollCounts& c, DataType type, RedOp, int rank, int n, int) {
        fill_rank_data(in, c.send, type, rank, n);
      },
      // Block p of rank r's output is block r of rank p's input.
      [](const void* out, const CollCounts& c, DataType type, RedOp, int rank, int n, int) {
        size_t wrong = 0;
        const size_t esize = dtype_size(type);
        for (int p = 0; p < n; ++p)
          wrong += count_rank_data_errors(static_cast<const char*>(out) + static_cast<size_t>(p) * c.param * esize,
                                          c.param, type, p, n, static_cast<size_t>(rank) * c.param);
        return wrong;
      },
      [](BenchEngine& e, const void* in, void* out, const CollCounts& c, DataType type, RedOp op, int) {
        e.run({Collective::AllToAll, in, out, c.param, type, op, -1});
      },
  };
  return test;
}

}  // namespace sxcoll::bench
