// The collectives besides allreduce end to end: ranks as processes on loopback TCP (and
// over shared memory), every
// collective, dtype and op (where it reduces), counts that hit the edges (0, 1, odd, several
// pipeline loops of small slots), in and out of place where nccl-tests places them, roots
// other than 0, through the bench's own plug-ins (fill, check, run) and sxcoll's engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench/collective.h"
#include "bench/engine.h"
#include "multiprocess/rank_harness.h"

namespace sxcoll {
namespace {

using bench::CollCounts;

struct Case {
  Collective collective;
  int nranks;
  const char* tcp_io;
  const char* intra = "net";  // "net": TCP between the local ranks; "shm": shared memory
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << collective_name(c.collective) << ", " << c.nranks << " ranks, " << c.intra << ", " << c.tcp_io << " I/O";
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return fmt::format("{}_n{}_{}_{}", collective_name(info.param.collective), info.param.nranks, info.param.intra,
                     info.param.tcp_io);
}

// NCCL's counts for a call of `param` elements (a block, or the message): any count, not
// only the 16-byte multiples the bench sweeps.
CollCounts counts_for(Collective coll, size_t p, int nranks) {
  const auto n = static_cast<size_t>(nranks);
  switch (coll) {
    case Collective::AllGather: return {p, p * n, p, p, 0};
    case Collective::ReduceScatter: return {p * n, p, p, 0, p};
    case Collective::AllToAll: return {p * n, p * n, p, 0, 0};
    default: return {p, p, p, 0, 0};
  }
}

int check_collective(testing::RankEnv& env, Collective coll) {
  const int n = env.comm.size();
  const int rank = env.comm.rank();
  const bench::CollectiveTest& test = bench::collective_test(coll);
  bench::SxcollEngine engine(env.comm, Algorithm::Auto, "tcp");
  const std::vector<RedOp> ops = test.reduces ? std::vector<RedOp>(kAllRedOps.begin(), kAllRedOps.end())
                                              : std::vector<RedOp>{RedOp::Sum};
  int failures = 0;
  int call = 0;
  std::vector<char> send, recv;
  for (DataType type : kAllDataTypes) {
    const size_t esize = dtype_size(type);
    for (RedOp op : ops) {
      // Several loops of the 32 KiB slots in the largest, per rank's block.
      for (size_t param : {size_t{0}, size_t{1}, size_t{1009}, ((size_t{200} << 10) + 7) / esize}) {
        const CollCounts c = counts_for(coll, param, n);
        const size_t bytes = std::max(c.send, c.recv) * esize;
        send.assign(bytes + 64, 0);
        recv.assign(bytes + 64, 0);
        const int root = call++ % n;  // every rank a root in turn
        for (bool in_place : {false, true}) {
          char* in = in_place ? recv.data() + c.send_in_place * static_cast<size_t>(rank) * esize : send.data();
          char* out = recv.data() + (in_place ? c.recv_in_place * static_cast<size_t>(rank) * esize : 0);
          std::fill(recv.begin(), recv.end(), static_cast<char>(0xff));
          test.fill(in, c, type, op, rank, n, root);
          test.run(engine, in, out, c, type, op, root);
          const size_t wrong = test.count_errors(out, c, type, op, rank, n, root);
          if (wrong != 0) {
            std::fprintf(stderr, "rank %d: %s %s %s count %zu root %d %s: %zu wrong\n", rank,
                         std::string(collective_name(coll)).c_str(), std::string(dtype_name(type)).c_str(),
                         std::string(redop_name(op)).c_str(), param, root, in_place ? "in-place" : "out-of-place",
                         wrong);
            ++failures;
          }
        }
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

class CollectiveMatrix : public ::testing::TestWithParam<Case> {};

TEST_P(CollectiveMatrix, EveryTypeOpCountRootAndPlacementIsExact) {
  const Case c = GetParam();
  CommunicatorOptions comm;
  comm.buffsize = 256 << 10;  // 32 KiB slots: the largest count wraps every slot many times
  comm.channels = 2;
  comm.timeout = std::chrono::seconds(60);
  transport::TransportOptions transport = testing::tcp_options();
  transport.tcp_io = c.tcp_io;
  transport.intra = c.intra;
  const int code = testing::run_ranks(
      c.nranks, [&](testing::RankEnv& env) { return check_collective(env, c.collective); }, comm, transport);
  EXPECT_EQ(code, 0) << "see the ranks' messages above";
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (Collective coll : kAllCollectives) {
    if (coll == Collective::AllReduce) continue;  // allreduce_mp_test
    for (int n = 2; n <= 5; ++n) cases.push_back(Case{coll, n, n % 2 == 0 ? "inline" : "threads"});
    // The same engine over shared memory, where local ranks run by default.
    for (int n : {3, 4}) cases.push_back(Case{coll, n, "inline", "shm"});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(WorldSizes, CollectiveMatrix, ::testing::ValuesIn(all_cases()), case_name);

// Plans persist per collective and root: interleaving them keeps every link's counters in
// step (the same links serve several collectives' plans).
TEST(CollectiveSequence, InterleavedCollectivesAndRootsStayCorrect) {
  CommunicatorOptions comm;
  comm.buffsize = 64 << 10;
  comm.channels = 3;
  const int code = testing::run_ranks(4, [&](testing::RankEnv& env) {
    bench::SxcollEngine engine(env.comm, Algorithm::Auto, "tcp");
    const int n = env.comm.size();
    int failures = 0;
    std::vector<char> send, recv;
    for (int iter = 0; iter < 28; ++iter) {
      const Collective coll = kAllCollectives[static_cast<size_t>(iter) % kAllCollectives.size()];
      const bench::CollectiveTest& test = bench::collective_test(coll);
      const CollCounts c = counts_for(coll, (size_t{1} << (iter % 15)) + static_cast<size_t>(iter), n);
      send.assign(std::max(c.send, c.recv) * 4, 0);
      recv.assign(send.size(), 0);
      const int root = iter % n;
      test.fill(send.data(), c, DataType::Float32, RedOp::Sum, env.comm.rank(), n, root);
      test.run(engine, send.data(), recv.data(), c, DataType::Float32, RedOp::Sum, root);
      failures += test.count_errors(recv.data(), c, DataType::Float32, RedOp::Sum, env.comm.rank(), n, root) != 0;
    }
    return failures;
  }, comm, testing::tcp_options());
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace sxcoll
