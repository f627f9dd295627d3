// What the harness needs to know of a collective, nccl-tests style: how many bytes count
// as moved (the bus-bandwidth factor), how to fill inputs and how to check outputs.
#pragma once

#include <cstddef>
#include <string_view>

#include "collectives/dtype.h"

namespace sxcoll::bench {

struct CollectiveTest {
  std::string_view name;
  // busbw = algbw * bus_factor(n): what each link must carry, comparable across n.
  double (*bus_factor)(int nranks);
  void (*fill)(void* buf, size_t count, DataType type, RedOp op, int rank, int nranks);
  size_t (*count_errors)(const void* buf, size_t count, DataType type, RedOp op, int nranks);
};

const CollectiveTest& allreduce_test();

}  // namespace sxcoll::bench
