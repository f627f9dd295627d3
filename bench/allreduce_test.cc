#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"

namespace sxcoll::bench {

const CollectiveTest& allreduce_test() {
  static const CollectiveTest test{
      Collective::AllReduce, true, false,
      [](size_t count, size_t, int) { return CollCounts{count, count, count, 0, 0}; },
      // nccl-tests' all_reduce factor: each rank sends and receives 2(n-1)/n of the buffer.
      [](int n) { return n > 1 ? 2.0 * (n - 1) / n : 0.0; },
      [](void* in, const CollCounts& c, DataType type, RedOp op, int rank, int n, int) {
        fill_allreduce_input(in, c.send, type, op, rank, n);
      },
      [](const void* out, const CollCounts& c, DataType type, RedOp op, int, int n, int) {
        return count_allreduce_errors(out, c.recv, type, op, n);
      },
      [](BenchEngine& e, const void* in, void* out, const CollCounts& c, DataType type, RedOp op, int) {
        e.run({Collective::AllReduce, in, out, c.param, type, op, -1});
      },
  };
  return test;
}

}  // namespace sxcoll::bench
