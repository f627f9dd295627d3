#include "bench/check_values.h"
#include "bench/collective.h"

namespace sxcoll::bench {

const CollectiveTest& allreduce_test() {
  // nccl-tests' all_reduce factor: each rank sends and receives 2(n-1)/n of the buffer.
  static const CollectiveTest test{
      "allreduce",
      [](int n) { return n > 1 ? 2.0 * (n - 1) / n : 0.0; },
      fill_allreduce_input,
      count_allreduce_errors,
  };
  return test;
}

}  // namespace sxcoll::bench
