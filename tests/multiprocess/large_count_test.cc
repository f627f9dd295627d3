// More than 2^31 elements in one allreduce: any 32-bit count, offset or length hiding
// in the engine, the transport or the checker truncates here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "bench/check_values.h"
#include "multiprocess/rank_harness.h"

namespace sxcoll {
namespace {

TEST(LargeCount, Int8SumBeyondTwoToThe31Elements) {
  const size_t count = (size_t{1} << 31) + 4099;
  CommunicatorOptions comm;
  comm.timeout = std::chrono::seconds(120);
  int code = testing::run_ranks(2, [&](testing::RankEnv& env) {
    std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(std::malloc(count)), &std::free);
    if (!buf) return 3;
    bench::fill_allreduce_input(buf.get(), count, DataType::Int8, RedOp::Sum, env.comm.rank(), env.comm.size());
    env.comm.allreduce(buf.get(), buf.get(), count, DataType::Int8, RedOp::Sum, Algorithm::Ring);
    size_t wrong = bench::count_allreduce_errors(buf.get(), count, DataType::Int8, RedOp::Sum, env.comm.size());
    if (wrong != 0) std::fprintf(stderr, "rank %d: %zu of %zu elements wrong\n", env.comm.rank(), wrong, count);
    return wrong == 0 ? 0 : 1;
  }, comm);
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace sxcoll
