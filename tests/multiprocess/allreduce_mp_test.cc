// Allreduce end to end: ranks as processes on loopback TCP, every dtype and op, counts
// that hit the edges (0, 1, a prime, several pipeline loops), in and out of place,
// ring and tree, for world sizes that are and are not powers of two.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/check_values.h"
#include "multiprocess/rank_harness.h"

namespace sxcoll {
namespace {

struct Case {
  int nranks;
  Algorithm algorithm;
  int sockets;
  const char* tcp_io;  // the streams driven by the rank's thread (inline) or their own threads
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.nranks << " ranks, " << algorithm_name(c.algorithm) << ", " << c.sockets << " socket(s) per peer, "
      << c.tcp_io << " I/O";
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return fmt::format("n{}_{}_socks{}_{}", info.param.nranks, algorithm_name(info.param.algorithm), info.param.sockets,
                     info.param.tcp_io);
}

class AllreduceMatrix : public ::testing::TestWithParam<Case> {};

TEST_P(AllreduceMatrix, EveryTypeOpCountAndPlacementIsExact) {
  const Case c = GetParam();
  CommunicatorOptions comm;
  comm.buffsize = 256 << 10;  // small slots: the few-MiB case wraps every slot many times
  comm.channels = 2;
  comm.timeout = std::chrono::seconds(60);
  transport::TransportOptions transport = testing::tcp_options();
  transport.sockets_per_peer = c.sockets;
  transport.tcp_io = c.tcp_io;
  int code = testing::run_ranks(
      c.nranks, [&](testing::RankEnv& env) { return testing::check_every_type_op_and_count(env, c.algorithm); }, comm,
      transport);
  EXPECT_EQ(code, 0) << "see the ranks' messages above";
}

// Each I/O mode with one and several sockets, odd and even world sizes, every algorithm.
constexpr const char* kInline = "inline";
constexpr const char* kThreads = "threads";
INSTANTIATE_TEST_SUITE_P(
    WorldSizes, AllreduceMatrix,
    ::testing::Values(Case{1, Algorithm::Ring, 1, kInline}, Case{2, Algorithm::Ring, 1, kInline},
                      Case{2, Algorithm::Tree, 2, kThreads}, Case{3, Algorithm::Ring, 2, kInline},
                      Case{3, Algorithm::Tree, 1, kThreads}, Case{4, Algorithm::Ring, 1, kThreads},
                      Case{4, Algorithm::Tree, 1, kInline}, Case{5, Algorithm::Ring, 1, kInline},
                      Case{5, Algorithm::Tree, 2, kThreads}, Case{8, Algorithm::Ring, 1, kInline},
                      Case{8, Algorithm::Tree, 1, kInline}, Case{2, Algorithm::RecursiveDoubling, 1, kThreads},
                      Case{4, Algorithm::RecursiveDoubling, 2, kInline},
                      Case{8, Algorithm::RecursiveDoubling, 1, kThreads}),
                         case_name);

// Plans persist across calls and algorithms: switching back and forth must keep every
// link's counters in step, and auto must resolve the same way on every rank.
TEST(AllreduceSequence, AlternatingAlgorithmsAndSizesStayCorrect) {
  CommunicatorOptions comm;
  comm.buffsize = 64 << 10;
  comm.channels = 3;
  int code = testing::run_ranks(4, [&](testing::RankEnv& env) {
    std::vector<float> in, out;
    int failures = 0;
    for (int iter = 0; iter < 30; ++iter) {
      const size_t count = (size_t{1} << (iter % 18)) + static_cast<size_t>(iter);
      const Algorithm algo = iter % 4 == 0 ? Algorithm::Ring : iter % 4 == 1 ? Algorithm::Tree : iter % 4 == 2 ? Algorithm::RecursiveDoubling : Algorithm::Auto;
      in.assign(count, 0);
      out.assign(count, 0);
      bench::fill_allreduce_input(in.data(), count, DataType::Float32, RedOp::Sum, env.comm.rank(), env.comm.size());
      env.comm.allreduce(in.data(), out.data(), count, DataType::Float32, RedOp::Sum, algo);
      failures += bench::count_allreduce_errors(out.data(), count, DataType::Float32, RedOp::Sum, env.comm.size()) != 0;
    }
    return failures;
  }, comm);
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace sxcoll
