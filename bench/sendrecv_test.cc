#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"

namespace sxcoll::bench {

const CollectiveTest& sendrecv_test() {
  static const CollectiveTest test{
      Collective::SendRecv, false, false,
      [](size_t count, size_t, int) { return CollCounts{count, count, count, 0, 0}; },
      // Each rank's one link out carries the message.
      [](int) { return 1.0; },
      [](void* in, const CollCounts& c, DataType type, RedOp, int rank, int n, int) {
        fill_rank_data(in, c.send, type, rank, n);
      },
      // Rank r receives rank r-1's data.
      [](const void* out, const CollCounts& c, DataType type, RedOp, int rank, int n, int) {
        return count_rank_data_errors(out, c.recv, type, (rank + n - 1) % n, n);
      },
      [](BenchEngine& e, const void* in, void* out, const CollCounts& c, DataType type, RedOp op, int) {
        e.run({Collective::SendRecv, in, out, c.param, type, op, -1});
      },
  };
  return test;
}

}  // namespace sxcoll::bench
