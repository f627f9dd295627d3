#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"

namespace sxcoll::bench {

const CollectiveTest& reduce_test() {
  static const CollectiveTest test{
      Collective::Reduce, true, true,
      [](size_t count, size_t, int) { return CollCounts{count, count, count, 0, 0}; },
      // Every link carries the message once.
      [](int) { return 1.0; },
      [](void* in, const CollCounts& c, DataType type, RedOp op, int rank, int n, int) {
        fill_allreduce_input(in, c.send, type, op, rank, n);
      },
      // Only the root's output is defined (NCCL's reduce leaves the others' alone).
      [](const void* out, const CollCounts& c, DataType type, RedOp op, int rank, int n, int root) {
        return rank == root ? count_allreduce_errors(out, c.recv, type, op, n) : size_t{0};
      },
      [](BenchEngine& e, const void* in, void* out, const CollCounts& c, DataType type, RedOp op, int root) {
        e.run({Collective::Reduce, in, out, c.param, type, op, root});
      },
  };
  return test;
}

}  // namespace sxcoll::bench
