#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"

namespace sxcoll::bench {

const CollectiveTest& broadcast_test() {
  static const CollectiveTest test{
      Collective::Broadcast, false, true,
      [](size_t count, size_t, int) { return CollCounts{count, count, count, 0, 0}; },
      // Every link carries the message once.
      [](int) { return 1.0; },
      // The others' inputs are their own data, which must not reach anyone.
      [](void* in, const CollCounts& c, DataType type, RedOp, int rank, int n, int) {
        fill_rank_data(in, c.send, type, rank, n);
      },
      [](const void* out, const CollCounts& c, DataType type, RedOp, int, int n, int root) {
        return count_rank_data_errors(out, c.recv, type, root, n);
      },
      [](BenchEngine& e, const void* in, void* out, const CollCounts& c, DataType type, RedOp op, int root) {
        e.run({Collective::Broadcast, in, out, c.param, type, op, root});
      },
  };
  return test;
}

}  // namespace sxcoll::bench
