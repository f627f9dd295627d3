// Failures in a distributed run: a rank killed mid-collective is named by every survivor,
// well inside the deadline; a rank stopped mid-collective (alive, silent) makes the others
// fail at their deadline naming what they wait for, in both TCP I/O modes and over shared
// memory; a rank that
// never arrives fails the rendezvous by name; a stray process of another run is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "multiprocess/rank_harness.h"
#include "transport/error.h"
#include "transport/socket.h"

namespace sxcoll {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Ranks that allreduce 64 MiB (each call lasts a while, more than the sockets hold) in a
// loop until one fails; `before_call(rank, i)` injects the fault. A failing rank writes its
// message to DIR/rankN.txt and publishes it, as the bench does. Returns the launcher's code.
struct RingUntilFailure {
  int nranks;
  const char* mode;  // "inline" or "threads" (TCP's I/O modes), or "shm"
  std::chrono::milliseconds comm_timeout;
  std::chrono::milliseconds grace;  // the launcher kills stragglers this long after a failure
  fs::path dir;
};

int run_ring_until_failure(const RingUntilFailure& r, const std::function<void(int rank, int call)>& before_call) {
  return bootstrap::launch_local(
      r.nranks,
      [&](const bootstrap::LaunchInfo& info) {
        bootstrap::Bootstrap boot(info, std::chrono::seconds(20));
        transport::TransportOptions transport;
        if (std::string_view(r.mode) == "shm")
          transport.name = "shm";
        else
          transport.tcp_io = r.mode;
        auto context = transport::make_context(boot, transport);
        CommunicatorOptions options;
        options.timeout = r.comm_timeout;
        Communicator comm(boot, *context, options);
        std::vector<float> data(size_t{16} << 20, 1.0f);
        try {
          for (int i = 0; i < 100000; ++i) {
            before_call(info.rank, i);
            comm.allreduce(data.data(), data.data(), data.size(), DataType::Float32, RedOp::Sum, Algorithm::Ring);
          }
        } catch (const std::exception& e) {
          std::ofstream(r.dir / fmt::format("rank{}.txt", info.rank)) << e.what();
          boot.abort(e.what());
          return 1;
        }
        return 0;
      },
      r.grace);
}

// Entries of /dev/shm that a run of ours could have left (shm segments are memfds: none).
size_t dev_shm_leftovers() {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/dev/shm", ec))
    if (e.path().filename().string().rfind("sxcoll", 0) == 0) ++n;
  return n;
}

// The victim, and the transport (TCP driven both ways, shared memory): each must see the loss.
class KilledRank : public ::testing::TestWithParam<std::tuple<int, const char*>> {};

TEST_P(KilledRank, EverySurvivorFailsNamingTheLostRank) {
  const auto [victim, mode] = GetParam();
  const size_t leftovers_before = dev_shm_leftovers();
  const int nranks = 4;
  const auto deadline = std::chrono::seconds(20);
  fs::path dir = fs::temp_directory_path() / fmt::format("sxcoll-fault-{}-{}-{}", ::getpid(), victim, mode);
  fs::create_directories(dir);

  auto start = std::chrono::steady_clock::now();
  int code = run_ring_until_failure({nranks, mode, deadline, deadline + std::chrono::seconds(5), dir},
                                    [victim = victim](int rank, int call) {
                                      // Killed 50 ms into the second allreduce: mid-collective (the loop is
                                      // nothing else), however slow the start.
                                      if (call != 1 || rank != victim) return;
                                      std::thread([] {
                                        std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                        ::raise(SIGKILL);
                                      }).detach();
                                    });
  auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_NE(code, 0);
  EXPECT_LT(elapsed, deadline) << "survivors must report within the deadline, not by timing out";
  for (int rank = 0; rank < nranks; ++rank) {
    fs::path report = dir / fmt::format("rank{}.txt", rank);
    if (rank == victim) {
      EXPECT_FALSE(fs::exists(report));
      continue;
    }
    ASSERT_TRUE(fs::exists(report)) << "rank " << rank << " did not report a failure";
    std::string message = read_file(report);
    EXPECT_THAT(message, HasSubstr(fmt::format("rank {}: allreduce (ring)", rank)));
    EXPECT_THAT(message, HasSubstr(fmt::format("rank {} lost", victim)));
  }
  EXPECT_EQ(dev_shm_leftovers(), leftovers_before) << "a killed run left segments in /dev/shm";
  fs::remove_all(dir);
}

std::string victim_name(const ::testing::TestParamInfo<std::tuple<int, const char*>>& info) {
  const int victim = std::get<0>(info.param);
  return fmt::format("{}_{}", victim == 0 ? std::string("StoreHost") : fmt::format("Rank{}", victim),
                     std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Victims, KilledRank,
                         ::testing::Combine(::testing::Values(2, 0), ::testing::Values("inline", "threads", "shm")),
                         victim_name);

// A stopped rank keeps its sockets open: nothing breaks, nothing arrives. Every other rank
// must give up at its deadline and say what it was waiting for; nobody may hang in a send.
class StoppedRank : public ::testing::TestWithParam<const char*> {};

TEST_P(StoppedRank, TheOthersFailAtTheirDeadlineNamingWhatTheyWaitFor) {
  const char* mode = GetParam();
  const int nranks = 3, victim = 1;
  const auto timeout = std::chrono::seconds(2);
  fs::path dir = fs::temp_directory_path() / fmt::format("sxcoll-stopped-{}-{}", ::getpid(), mode);
  fs::create_directories(dir);

  auto start = std::chrono::steady_clock::now();
  // The launcher kills the stopped rank 3 s after the first failure.
  int code = run_ring_until_failure({nranks, mode, timeout, std::chrono::seconds(3), dir}, [](int rank, int call) {
    if (call == 1 && rank == victim) ::raise(SIGSTOP);
  });
  auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_NE(code, 0);
  EXPECT_LT(elapsed, std::chrono::seconds(15)) << "the others must fail at their 2 s deadline";
  for (int rank = 0; rank < nranks; ++rank) {
    if (rank == victim) continue;
    fs::path report = dir / fmt::format("rank{}.txt", rank);
    ASSERT_TRUE(fs::exists(report)) << "rank " << rank << " did not report a failure";
    // The first to reach its deadline says so; another may first see that one leave, and
    // then names the cause the first published.
    std::string message = read_file(report);
    EXPECT_THAT(message, ::testing::StartsWith(fmt::format("rank {}: allreduce (ring)", rank)));
    EXPECT_THAT(message, HasSubstr(": no progress for 2000 ms, waiting for"));
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Transports, StoppedRank, ::testing::Values("inline", "threads", "shm"),
                         [](const ::testing::TestParamInfo<const char*>& mode) { return std::string(mode.param); });

TEST(Rendezvous, MissingRanksAreNamedAtTheDeadline) {
  bootstrap::LaunchInfo info;
  info.launcher = "test";
  info.rank = 0;
  info.size = 3;
  info.token = "t";
  info.store_fd = net::listen_tcp("127.0.0.1", 0).release();
  auto start = std::chrono::steady_clock::now();
  try {
    bootstrap::Bootstrap boot(info, std::chrono::milliseconds(1000));
    FAIL() << "the rendezvous succeeded without ranks 1 and 2";
  } catch (const RunError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("ranks 1,2 of 3 did not arrive within 1000 ms"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Rendezvous, AProcessOfAnotherRunIsRefused) {
  net::Fd listener = net::listen_tcp("127.0.0.1", 0);
  auto address = net::local_address(listener.get());
  bootstrap::StoreServer server(std::move(listener), "run-a", 2);
  try {
    bootstrap::StoreClient stray(address, "run-b", 1, Deadline(std::chrono::seconds(5)));
    FAIL() << "a client with another run's token was admitted";
  } catch (const UsageError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("run token mismatch"));
  }
}

TEST(Rendezvous, UnreachableMasterIsAUsageErrorAfterTheTimeout) {
  // A port that nobody listens on: bind one, learn its number, close it.
  uint16_t port = net::local_address(net::listen_tcp("127.0.0.1", 0).get()).port;
  bootstrap::LaunchInfo info;
  info.launcher = "test";
  info.rank = 1;
  info.size = 2;
  info.master = fmt::format("127.0.0.1:{}", port);
  try {
    bootstrap::Bootstrap boot(info, std::chrono::milliseconds(500));
    FAIL() << "joined a store that does not exist";
  } catch (const UsageError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr(fmt::format("cannot connect to 127.0.0.1:{}", port)));
  }
}

}  // namespace
}  // namespace sxcoll
