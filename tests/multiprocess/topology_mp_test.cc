// ring_topo and hier end to end: local ranks over loopback TCP placed on pretend hosts
// (CommunicatorOptions::hostnames), interleaved as a round-robin launcher would, so that
// both levels of hier run: the host's ring and the ring across hosts with `after`
// between them. Several dtypes and ops, counts at the edges, in and out of place.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/check_values.h"
#include "multiprocess/rank_harness.h"

namespace sxcoll {
namespace {

struct Case {
  std::vector<std::string> hosts;  // by rank
  Algorithm algorithm;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string shape;
  for (const auto& h : info.param.hosts) shape += h;
  return fmt::format("{}_{}", algorithm_name(info.param.algorithm), shape);
}

class TopologyAllreduce : public ::testing::TestWithParam<Case> {};

TEST_P(TopologyAllreduce, IsExact) {
  const Case c = GetParam();
  CommunicatorOptions comm;
  comm.buffsize = 64 << 10;  // small slots: many pieces
  comm.channels = 2;
  comm.timeout = std::chrono::seconds(60);
  comm.hostnames = c.hosts;
  const int n = static_cast<int>(c.hosts.size());
  int code = testing::run_ranks(n, [&](testing::RankEnv& env) {
    int failures = 0;
    std::vector<char> input, output;
    for (DataType type : {DataType::Float32, DataType::Int32, DataType::Bfloat16}) {
      const size_t esize = dtype_size(type);
      for (RedOp op : {RedOp::Sum, RedOp::Avg, RedOp::Max}) {
        for (size_t count : {size_t{1}, size_t{5}, size_t{1009}, ((size_t{1} << 20) + 77) / esize}) {
          input.assign(count * esize + 64, 0);
          output.assign(count * esize + 64, 0);
          for (bool in_place : {false, true}) {
            bench::fill_allreduce_input(input.data(), count, type, op, env.comm.rank(), n);
            char* out = in_place ? input.data() : output.data();
            env.comm.allreduce(input.data(), out, count, type, op, c.algorithm);
            if (!testing::result_is_exact(env.comm.rank(), n, out, count, type, op, in_place)) ++failures;
          }
        }
      }
    }
    return failures == 0 ? 0 : 1;
  }, comm);
  EXPECT_EQ(code, 0) << "see the ranks' messages above";
}

INSTANTIATE_TEST_SUITE_P(
    PretendHosts, TopologyAllreduce,
    ::testing::Values(Case{{"a", "b", "a", "b"}, Algorithm::Hierarchical},
                      Case{{"a", "a", "a", "b", "b", "b"}, Algorithm::Hierarchical},
                      Case{{"a", "b", "c", "a", "b", "c"}, Algorithm::Hierarchical},
                      Case{{"a", "b", "a", "b", "a", "b"}, Algorithm::TopoRing},
                      Case{{"a", "b", "a", "a", "c"}, Algorithm::TopoRing},
                      Case{{"a", "b", "a", "b"}, Algorithm::Auto}),
    case_name);

TEST(TopologyAllreduce, HierRefusedOnUnevenHosts) {
  CommunicatorOptions comm;
  comm.hostnames = {"a", "a", "b"};
  int code = testing::run_ranks(3, [&](testing::RankEnv& env) {
    float x = 1;
    try {
      env.comm.allreduce(&x, &x, 1, DataType::Float32, RedOp::Sum, Algorithm::Hierarchical);
    } catch (const UsageError& e) {
      return std::string(e.what()).find("--algo hier needs the same number of ranks on every host") == 0 ? 0 : 1;
    }
    return 1;
  }, comm);
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace sxcoll
