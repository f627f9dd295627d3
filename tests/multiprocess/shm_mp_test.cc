// Allreduce end to end over shared memory: ranks as processes of this host, every dtype
// and op, counts at the edges (0, 1, a prime, a few MiB that divide by nothing), in and out
// of place, ring and tree for 2, 3 and 4 ranks and recursive doubling where it applies; and
// the backend's own refusals (a write into memory no peer can map, device memory).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "bench/check_values.h"
#include "multiprocess/rank_harness.h"
#include "transport/error.h"
#include "transport/shm/context.h"

namespace sxcoll {
namespace {

using ::testing::HasSubstr;

struct Case {
  int nranks;
  Algorithm algorithm;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.nranks << " ranks, " << algorithm_name(c.algorithm); }

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return fmt::format("n{}_{}", info.param.nranks, algorithm_name(info.param.algorithm));
}

// The links between ranks of this host over shm (--intra shm), through the routing context.
transport::TransportOptions shm_transport() {
  transport::TransportOptions t;
  t.intra = "shm";
  return t;
}


class ShmAllreduce : public ::testing::TestWithParam<Case> {};

TEST_P(ShmAllreduce, EveryTypeOpCountAndPlacementIsExact) {
  const Case c = GetParam();
  CommunicatorOptions comm;
  comm.buffsize = 256 << 10;  // small slots: the few-MiB case wraps every slot many times
  comm.channels = 2;
  comm.timeout = std::chrono::seconds(60);
  int code = testing::run_ranks(
      c.nranks, [&](testing::RankEnv& env) { return testing::check_every_type_op_and_count(env, c.algorithm); }, comm,
                                shm_transport());
  EXPECT_EQ(code, 0) << "see the ranks' messages above";
}

INSTANTIATE_TEST_SUITE_P(WorldSizes, ShmAllreduce,
                         ::testing::Values(Case{2, Algorithm::Ring}, Case{2, Algorithm::Tree},
                                           Case{2, Algorithm::RecursiveDoubling}, Case{3, Algorithm::Ring},
                                           Case{3, Algorithm::Tree}, Case{4, Algorithm::Ring},
                                           Case{4, Algorithm::Tree}, Case{4, Algorithm::RecursiveDoubling}),
                         case_name);

// Many channels of deep windows: more records in flight towards one peer than its ring
// holds, so that senders queue locally and the receivers' drains must wake them.
TEST(ShmAllreduceBacklog, MoreRecordsInFlightThanARingHoldsStayInOrder) {
  CommunicatorOptions comm;
  comm.channels = 32;
  comm.slots = 64;
  comm.buffsize = 64 * 4096;
  comm.timeout = std::chrono::seconds(60);
  int code = testing::run_ranks(2, [&](testing::RankEnv& env) {
    std::vector<float> in, out;
    int failures = 0;
    for (size_t count : {size_t{2} << 20, size_t{8} << 20, (size_t{5} << 20) + 7}) {
      in.assign(count, 0);
      out.assign(count, 0);
      bench::fill_allreduce_input(in.data(), count, DataType::Float32, RedOp::Sum, env.comm.rank(), env.comm.size());
      env.comm.allreduce(in.data(), out.data(), count, DataType::Float32, RedOp::Sum, Algorithm::Ring);
      failures += !testing::result_is_exact(env.comm.rank(), env.comm.size(), out.data(), count, DataType::Float32,
                                            RedOp::Sum, false);
    }
    return failures;
  }, comm, shm_transport());
  EXPECT_EQ(code, 0);
}

// Writes go only into memory from Context::allocate_host; device memory is not this backend's.
TEST(ShmContext, WritesIntoUnsharedMemoryAndDeviceRegistrationsAreRefusedClearly) {
  int code = bootstrap::launch_local(
      2,
      [](const bootstrap::LaunchInfo& info) {
        bootstrap::Bootstrap boot(info, std::chrono::seconds(20));
        // The backend itself, without the routing context over it.
        auto context = std::make_unique<transport::shm::Context>(boot);
        const int peer = 1 - boot.rank();
        context->connect({peer});
        int failures = 0;
        auto expect_error = [&](auto&& f, const std::string& want, const char* what) {
          try {
            f();
            std::fprintf(stderr, "rank %d: %s was accepted\n", boot.rank(), what);
            ++failures;
          } catch (const std::exception& e) {
            if (std::string(e.what()).find(want) == std::string::npos) {
              std::fprintf(stderr, "rank %d: %s: '%s' lacks '%s'\n", boot.rank(), what, e.what(), want.c_str());
              ++failures;
            }
          }
        };
        std::vector<char> plain(8192, 1);
        auto source = context->register_memory(plain.data(), plain.size(), transport::MemoryKind::Host);
        if (!source->remote.ipc.empty()) ++failures;
        auto shared = context->allocate_host(8192);
        auto slots = context->register_memory(shared.get(), 8192, transport::MemoryKind::Host);
        if (slots->remote.ipc.rfind("shm:", 0) != 0) ++failures;
        auto words = boot.allgather(source->remote.encode() + " " + slots->remote.encode());
        const std::string& theirs = words[static_cast<size_t>(peer)];
        const auto plain_remote = transport::RemoteRegion::decode(theirs.substr(0, theirs.find(' ')));
        const auto slot_remote = transport::RemoteRegion::decode(theirs.substr(theirs.find(' ') + 1));
        expect_error([&] { context->pair(peer).write(*source, 0, 64, plain_remote, 0, 1, 1); },
                     fmt::format("rank {}: shm: write to rank {}: its region", boot.rank(), peer), "a write into plain memory");
        expect_error([&] { context->pair(peer).write(*source, 0, 64, slot_remote, 8192 - 32, 1, 1); },
                     "runs past rank", "a write past the region");
        expect_error([&] { context->register_memory(plain.data(), 64, transport::MemoryKind::Cuda); },
                     "shm: device memory cannot be registered", "a device registration");
        // And a write that fits lands, with its immediate and size.
        context->pair(peer).write(*source, 0, 100, slot_remote, 4000, 42, 7);
        std::vector<transport::Completion> done;
        int arrived = 0, sent = 0;
        for (int i = 0; i < 200 && (arrived == 0 || sent == 0); ++i) {
          done.clear();
          context->progress(done, 20);
          for (const auto& c : done) {
            if (c.type == transport::Completion::Type::Sent && c.cookie == 7) ++sent;
            if (c.type == transport::Completion::Type::Arrived && c.imm == 42 && c.bytes == 100 && c.peer == peer)
              ++arrived;
          }
        }
        if (arrived != 1 || sent != 1) ++failures;
        boot.barrier();
        if (shared.get()[4000] != 1 || shared.get()[4099] != 1 || shared.get()[4100] != 0 || shared.get()[3999] != 0)
          ++failures;
        const auto counters = context->counters();
        if (counters.size() != 1 || counters[0].rail != "shm" || counters[0].bytes_sent != 100 ||
            counters[0].bytes_received != 100)
          ++failures;
        if (context->pair(peer).transport() != "shm") ++failures;
        boot.barrier();
        return failures;
      },
      std::chrono::seconds(30));
  EXPECT_EQ(code, 0) << "see the ranks' messages above";
}

}  // namespace
}  // namespace sxcoll
