// `sxcoll` as a user runs it: bad input gets one line naming the problem and exit code 2,
// before any work; a good run prints nccl-tests' table and writes JSON and CSV.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "collectives/gpu.h"
#include "tests/support/shell_run.h"
#include "transport/socket.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

using Result = sxcoll::testing::ShellResult;
using sxcoll::testing::slurp;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("sxcoll-cli-{}-{}", ::getpid(), counter_++);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs sxcoll with `args` (shell words) and optional environment assignments.
  Result run(const std::string& args, const std::string& env = "") {
    return sxcoll::testing::run_shell(
        fmt::format("env -u SXCOLL_RANK -u OMPI_COMM_WORLD_RANK -u SLURM_PROCID -u PMI_RANK -u RANK {} {} {}", env,
                    SXCOLL_BINARY, args),
        dir_);
  }

  // Bad input: exit 2, one line on stderr that mentions `needle`, nothing on stdout.
  void expect_usage_error(const std::string& args, const std::string& needle, const std::string& env = "") {
    Result r = run(args, env);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(needle)) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line, got:\n" << r.err;
    EXPECT_EQ(r.out, "") << "no work may start before the input is checked";
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

TEST_F(Cli, UnknownDataType) { expect_usage_error("bench -d float17", "-d 'float17': unknown"); }
TEST_F(Cli, UnknownOp) { expect_usage_error("bench -o mean", "-o 'mean': unknown"); }
TEST_F(Cli, MinLargerThanMax) { expect_usage_error("bench -b 1M -e 1K", "-b 1048576 is larger than -e 1024"); }
TEST_F(Cli, MalformedSize) { expect_usage_error("bench -e 12Q", "-e '12Q': unknown suffix"); }
TEST_F(Cli, NegativeSize) { expect_usage_error("bench -b -5", "-b"); }
TEST_F(Cli, ZeroRanks) { expect_usage_error("bench --np 0", "--np 0"); }
TEST_F(Cli, NegativeRanks) { expect_usage_error("bench --np -3", "--np -3"); }
TEST_F(Cli, UnknownAlgorithm) { expect_usage_error("bench --algo star", "--algo 'star'"); }
TEST_F(Cli, RecursiveDoublingNeedsAPowerOfTwo) {
  expect_usage_error("bench --np 3 --algo rd", "--algo rd needs a power-of-two number of ranks, not 3");
}
TEST_F(Cli, UnknownTransport) { expect_usage_error("bench --transport carrier-pigeon", "--transport carrier-pigeon"); }
TEST_F(Cli, BadTimeout) { expect_usage_error("bench --timeout soon", "--timeout 'soon'"); }
TEST_F(Cli, UnknownMemory) { expect_usage_error("bench --mem gpu", "--mem 'gpu': expected host or cuda"); }
TEST_F(Cli, UnknownEngine) { expect_usage_error("bench --engine mpi", "--engine 'mpi': expected sxcoll, nccl or both"); }
TEST_F(Cli, NcclNeedsGpuBuffers) { expect_usage_error("bench --engine both", "need --mem cuda"); }
TEST_F(Cli, P2pTakesNoGpuBuffers) { expect_usage_error("bench --p2p --mem cuda", "--p2p measures the transport"); }
TEST_F(Cli, GpuBuffersWithoutAGpu) {
  // CI has no GPU; where one is present this case has nothing to refuse.
  if (sxcoll::gpu::probe_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  expect_usage_error("bench --np 2 --mem cuda", "--mem cuda: ");
}
TEST_F(Cli, TcpIoModeIsChosenAndNamedInTheHeader) {
  Result r = run("bench --np 2 -b 1K -e 1K -n 1 -w 0 --tcp-io threads --nsocks 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tcp, 2 sockets per peer, a sender and a receiver thread per socket"));
  r = run("bench --np 2 -b 1K -e 1K -n 1 -w 0", "SXCOLL_TCP_IO=inline");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tcp, 1 socket per peer, I/O on the caller's thread"));
  expect_usage_error("bench --tcp-io many", "--tcp-io 'many': expected auto, threads or inline");
}

TEST_F(Cli, EngineKnobsComeFromTheEnvironmentWhereNoFlagIsGiven) {
  // What a sourced nccl_env.sh of `sxcoll tune --engine sxcoll` sets.
  Result r = run("bench --np 2 -b 1K -e 1K -n 1 -w 0", "SXCOLL_NSOCKS=3 SXCOLL_BUFFSIZE=2M SXCOLL_CHANNELS=3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tcp, 3 sockets per peer"));
  EXPECT_THAT(r.out, HasSubstr("channels: 3  buffsize: 2097152"));
  // A flag wins over the variable.
  r = run("bench --np 2 -b 1K -e 1K -n 1 -w 0 --nsocks 2", "SXCOLL_NSOCKS=3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tcp, 2 sockets per peer"));
  // A bad value names the variable it came from: that is what the user has to fix.
  expect_usage_error("bench", "--nsocks (set by SXCOLL_NSOCKS=many) 'many': expected a whole number",
                     "SXCOLL_NSOCKS=many");
  expect_usage_error("bench", "--channels (set by SXCOLL_CHANNELS=99) 99: must be 1..32", "SXCOLL_CHANNELS=99");
  expect_usage_error("bench --nsocks 0", "--nsocks 0: must be 1..64", "SXCOLL_NSOCKS=3");
}

// One knob table (bench/knob_table.h): flag > SXCOLL_* > NCCL_* (verbs only) > default,
// the header's "# knobs:" line says where each value came from, errors name the variable.
TEST_F(Cli, KnobPrecedenceAndTheVariableNamedInErrors) {
  const std::string bench = "bench --np 2 -b 1K -e 1K -n 1 -w 0";
  Result r = run(bench, "SXCOLL_QPS=3 NCCL_IB_QPS_PER_CONNECTION=5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("--qps 3 (SXCOLL_QPS)"));
  r = run(bench + " --qps 2", "SXCOLL_QPS=3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("# knobs: --algo auto, --intra auto, --cuda-ipc write, --nsocks 1, --tcp-io auto, --rails auto, --qps 2, --tc 0, --gid-index -1, "
                               "--channels 2, --buffsize 4M\n"));
  // NCCL's IB variables are for the verbs transport: over tcp they are not read at all.
  r = run(bench, "NCCL_IB_QPS_PER_CONNECTION=5 NCCL_IB_TC=abc NCCL_IB_HCA=x:y");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("--qps 1, --tc 0,"));
  // With verbs they are, after the flag and the SXCOLL_* variable, named where bad.
  expect_usage_error("bench --transport verbs", "--tc (set by NCCL_IB_TC=abc) 'abc': expected a whole number",
                     "NCCL_IB_TC=abc");
  expect_usage_error("bench --transport verbs", "--gid-index (set by NCCL_IB_GID_INDEX=x) 'x': expected a whole number",
                     "NCCL_IB_GID_INDEX=x");
  expect_usage_error("bench --transport verbs", "--qps (set by SXCOLL_QPS=zz) 'zz'",
                     "SXCOLL_QPS=zz NCCL_IB_QPS_PER_CONNECTION=4");
  expect_usage_error("bench --transport verbs", "--qps (set by NCCL_IB_QPS_PER_CONNECTION=four) 'four'",
                     "NCCL_IB_QPS_PER_CONNECTION=four");
  // The flag wins: the bad variable is never read.
  Result flag = run("bench --transport verbs --tc 0 --gid-index -1", "NCCL_IB_TC=abc NCCL_IB_GID_INDEX=x");
  EXPECT_THAT(flag.err, ::testing::Not(HasSubstr("NCCL_IB_TC"))) << flag.err;
  EXPECT_THAT(flag.err, ::testing::Not(HasSubstr("NCCL_IB_GID_INDEX"))) << flag.err;
}

TEST_F(Cli, UnknownFlag) { expect_usage_error("bench --frobnicate", "frobnicate"); }
TEST_F(Cli, NoSubcommand) { expect_usage_error("", "subcommand"); }

TEST_F(Cli, ExistingResultFileIsNeverOverwritten) {
  std::ofstream(dir_ / "taken.json") << "{}";
  expect_usage_error(fmt::format("bench --json {}", (dir_ / "taken.json").string()), "never overwritten");
  EXPECT_EQ(slurp(dir_ / "taken.json"), "{}");
}

TEST_F(Cli, MalformedMaster) {
  expect_usage_error("bench --timeout 1s", "is not host:port", "SXCOLL_RANK=1 SXCOLL_SIZE=2 SXCOLL_MASTER=nohostport");
}

TEST_F(Cli, MalformedLauncherRank) {
  expect_usage_error("bench", "OMPI_COMM_WORLD_RANK='x' is not a number", "OMPI_COMM_WORLD_RANK=x OMPI_COMM_WORLD_SIZE=2");
}

TEST_F(Cli, UnreachableMaster) {
  uint16_t port = sxcoll::net::local_address(sxcoll::net::listen_tcp("127.0.0.1", 0).get()).port;
  expect_usage_error("bench --timeout 1s", fmt::format("cannot connect to 127.0.0.1:{}", port),
                     fmt::format("SXCOLL_RANK=1 SXCOLL_SIZE=2 SXCOLL_MASTER=127.0.0.1:{}", port));
}

TEST_F(Cli, LauncherWithoutRendezvousAddress) {
  expect_usage_error("bench", "no rendezvous address", "PMI_RANK=1 PMI_SIZE=4");
}

TEST_F(Cli, BenchPrintsTheTableAndWritesJsonAndCsv) {
  auto json = dir_ / "r.json", csv = dir_ / "r.csv";
  Result r = run(fmt::format("bench --np 3 -b 1K -e 64K -f 4 -n 2 -w 1 -d int32,bfloat16 -o sum,max --json {} --csv {}",
                             json.string(), csv.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("# engine: sxcoll"));
  EXPECT_THAT(r.out, HasSubstr("# ranks: 3"));
  EXPECT_THAT(r.out, HasSubstr("# Out of bounds values : 0 OK"));
  EXPECT_THAT(r.out, HasSubstr("# Avg bus bandwidth    : "));
  // 4 sizes (1K, 4K, 16K, 64K) x 2 types x 2 ops, each a row with both placements.
  int rows = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') {
      ++rows;
      EXPECT_THAT(line, MatchesRegex(" *[0-9]+ +[0-9]+ +(int32|bfloat16) +(sum|max) +-1( +[0-9.]+ +[0-9.]+ +[0-9.]+ +0){2}"));
    }
  EXPECT_EQ(rows, 16);

  auto j = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(j["ranks"], 3);
  ASSERT_EQ(j["results"].size(), 16u);
  for (const auto& row : j["results"]) {
    EXPECT_EQ(row["out_of_place"]["wrong"], 0);
    EXPECT_EQ(row["in_place"]["wrong"], 0);
    EXPECT_GT(row["out_of_place"]["time_us"].get<double>(), 0);
  }
  std::string csv_text = slurp(csv);
  EXPECT_EQ(std::count(csv_text.begin(), csv_text.end(), '\n'), 1 + 32);
}

std::vector<std::string> fields_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

// What a tool written for nccl-tests' all_reduce_perf reads: 13 fields per data row, taken
// from either end (out-of-place busbw is the 6th from the end), the same column header and
// footer; whatever sxcoll adds (the algorithm per size) only on '#' lines.
TEST_F(Cli, TableRowsAreNcclTestsFieldForField) {
  for (const std::string algo : {"auto", "ring"}) {
    for (int check : {0, 1}) {
      const std::string args = fmt::format("bench --np 2 -b 8 -e 64K -f 8 -n 2 -w 1 -c {} --algo {}", check, algo);
      Result r = run(args);
      ASSERT_EQ(r.code, 0) << args << "\n" << r.err;
      int rows = 0;
      std::string algorithms;
      std::istringstream lines(r.out);
      for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("# algorithm per size: ")) algorithms = line;
        if (line.empty() || line[0] == '#') continue;
        ++rows;
        const auto f = fields_of(line);
        ASSERT_EQ(f.size(), 13u) << args << ": " << line;
        EXPECT_THAT(f[0], MatchesRegex("[0-9]+"));
        EXPECT_EQ(std::stoull(f[1]) * 4, std::stoull(f[0])) << line;  // count of floats
        EXPECT_EQ(f[2], "float");
        EXPECT_EQ(f[3], "sum");
        EXPECT_EQ(f[4], "-1");
        const std::string wrong = check ? "0" : "N/A";
        for (size_t end : {size_t{5}, size_t{1}}) {  // from the end: out-of-place, then in-place
          const size_t at = f.size() - end;          // #wrong
          EXPECT_EQ(f[at], wrong) << line;
          for (size_t k = at - 3; k < at; ++k) EXPECT_THAT(f[k], MatchesRegex("[0-9]+\\.?[0-9]*")) << line;
        }
      }
      EXPECT_EQ(rows, 5) << args;  // 8, 64, 512, 4K, 32K
      EXPECT_THAT(r.out, HasSubstr("\n#       size         count      type   redop    root     time   algbw   busbw "
                                   " #wrong     time   algbw   busbw  #wrong \n"));
      EXPECT_THAT(r.out, HasSubstr("\n# Out of bounds values : 0 OK\n# Avg bus bandwidth    : "));
      // "8 rd, 64..32K ring": the sizes 8 .. 32K, each in one span.
      EXPECT_THAT(algorithms, MatchesRegex("# algorithm per size: 8(\\.\\.[0-9]+K?)? [a-z_]+(, [0-9]+K?(\\.\\.[0-9]+K?)? [a-z_]+)*"))
          << r.out;
      EXPECT_NE(algorithms.find("32K "), std::string::npos) << algorithms;
      if (algo == "ring") {
        EXPECT_EQ(algorithms, "# algorithm per size: 8..32K ring");
      }
    }
  }
}

// -J: nccl-tests' own JSON (JSON_FILE_VERSION 2), key for key; -I 1: per-iteration times
// with percentiles, in a '#' block after the table and in both JSON files.
TEST_F(Cli, NcclTestsJsonAndPerIterationTimes) {
  auto nj = dir_ / "nccl-tests.json", sj = dir_ / "sxcoll.json";
  Result r = run(fmt::format("bench --np 2 -b 1K -e 4K -f 4 -n 5 -w 1 -I 1 -J {} --json {}", nj.string(), sj.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("# per-iteration time (us), each iteration's slowest rank: 5 iterations"));
  int iteration_lines = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const bool stats_row = line.find(" float ") != std::string::npos && line.find("place ") != std::string::npos;
    if (line.starts_with("# ") && stats_row) {
      ++iteration_lines;
      EXPECT_EQ(fields_of(line).size(), 10u) << line;  // '#', size, type, redop, placement, min p50 p90 p99 max
    }
  }
  EXPECT_EQ(iteration_lines, 4);  // 1K, 4K x 2 placements

  auto j = nlohmann::json::parse(slurp(nj));
  EXPECT_EQ(j["version"], 2);
  for (const char* key : {"start_time", "args", "env", "nccl_version", "config", "results", "out_of_bounds",
                          "average_bus_bandwidth", "errors", "end_time"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["config"]["minimum_bytes"], 1024);
  EXPECT_EQ(j["config"]["maximum_bytes"], 4096);
  EXPECT_EQ(j["config"]["step_factor"], 4);
  EXPECT_EQ(j["config"]["iterations"], 5);
  EXPECT_EQ(j["config"]["validation"], 1);
  EXPECT_EQ(j["config"]["per_iter_timing"], "true");  // nccl-tests writes booleans as strings
  EXPECT_EQ(j["config"]["devices"].size(), 2u);
  ASSERT_EQ(j["results"].size(), 2u);
  for (const auto& row : j["results"]) {
    for (const char* key : {"size", "count", "type", "redop", "root", "out_of_place", "in_place", "actual_iterations"})
      EXPECT_TRUE(row.contains(key)) << key;
    EXPECT_EQ(row["root"], "    -1");
    EXPECT_EQ(row["type"], "float");
    for (const char* place : {"out_of_place", "in_place"}) {
      EXPECT_GT(row[place]["time"].get<double>(), 0);
      EXPECT_GT(row[place]["bus_bw"].get<double>(), 0);
      EXPECT_TRUE(row[place].contains("alg_bw"));
      EXPECT_EQ(row[place]["nwrong"], 0.0);
      const auto& it = row[std::string(place) + "_per_iter"];
      EXPECT_EQ(it["times_us"].size(), 5u);
      EXPECT_LE(it["p50_us"].get<double>(), it["p99_us"].get<double>());
      EXPECT_LE(it["p99_us"].get<double>(), it["max_us"].get<double>());
    }
  }
  EXPECT_EQ(j["out_of_bounds"]["count"], 0);
  EXPECT_EQ(j["out_of_bounds"]["okay"], "true");
  EXPECT_GT(j["average_bus_bandwidth"]["bandwidth"].get<double>(), 0);

  auto own = nlohmann::json::parse(slurp(sj));
  EXPECT_EQ(own["results"][0]["out_of_place"]["per_iteration"]["times_us"].size(), 5u);
  EXPECT_TRUE(own["results"][0]["out_of_place"]["per_iteration"].contains("p90_us"));

  // Never overwritten, like --json; -I takes 0 or 1; -J is one engine's table.
  expect_usage_error(fmt::format("bench -J {}", nj.string()), "never overwritten");
  expect_usage_error("bench -I 2", "-I 2: expected 0 or 1");
  expect_usage_error(fmt::format("bench -J {} --json {}", (dir_ / "x").string(), (dir_ / "x").string()),
                     "same file");
}

// --coll: nccl-tests' collective set, each its own table of nccl-tests' 13 fields with the
// collective's counts, redop and root; bad names and roots are refused before any work.
TEST_F(Cli, EveryCollectiveIsATableOfNcclTestsFields) {
  auto sj = dir_ / "all.json", nj = dir_ / "nt.json";
  Result r = run(fmt::format("bench --np 3 --coll all -r 2 -b 1K -e 4K -f 4 -n 2 -w 1 -o sum,max --json {} -J {}",
                             sj.string(), nj.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  struct Want {
    const char* name;
    const char* program;
    const char* redop;  // the ops run, or "none"
    const char* root;
    double count_per_byte;  // count column per size column byte (floats; per rank where it is a block)
  };
  const Want wants[] = {{"allreduce", "all_reduce_perf", "sum|max", "-1", 0.25},
                        {"allgather", "all_gather_perf", "none", "-1", 0.25 / 3},
                        {"reduce_scatter", "reduce_scatter_perf", "sum|max", "-1", 0.25 / 3},
                        {"broadcast", "broadcast_perf", "none", "2", 0.25},
                        {"reduce", "reduce_perf", "sum|max", "2", 0.25},
                        {"alltoall", "alltoall_perf", "none", "-1", 0.25 / 3},
                        {"sendrecv", "sendrecv_perf", "none", "-1", 0.25}};
  std::map<std::string, int> rows;
  std::string current;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# sxcoll bench: ")) current = line.substr(16);
    if (line.empty() || line[0] == '#') continue;
    const auto f = fields_of(line);
    ASSERT_EQ(f.size(), 13u) << current << ": " << line;
    const Want* want = nullptr;
    for (const Want& w : wants)
      if (current == w.name) want = &w;
    ASSERT_NE(want, nullptr) << current;
    ++rows[current];
    EXPECT_THAT(f[3], MatchesRegex(want->redop)) << current << ": " << line;
    EXPECT_EQ(f[4], want->root) << current << ": " << line;
    EXPECT_NEAR(std::stod(f[1]), std::stod(f[0]) * want->count_per_byte, 0.5) << current << ": " << line;
    EXPECT_EQ(f[8], "0") << current << ": " << line;
    EXPECT_EQ(f[12], "0") << current << ": " << line;
  }
  for (const Want& w : wants) {
    // 1K and 4K, times two ops where the collective reduces.
    EXPECT_EQ(rows[w.name], std::string(w.redop) == "none" ? 2 : 4) << w.name;
    EXPECT_THAT(r.out, HasSubstr(fmt::format("# Collective test starting: {}\n", w.program)));
    EXPECT_THAT(r.out, HasSubstr(fmt::format("# Collective test concluded: {}\n", w.program)));
    // -J with several collectives: one nccl-tests file each, named after it.
    std::string program = w.program;
    const fs::path file = dir_ / fmt::format("nt.{}.json", program.substr(0, program.size() - 5));
    ASSERT_TRUE(fs::exists(file)) << file;
    auto j = nlohmann::json::parse(slurp(file));
    EXPECT_EQ(j["collective"], w.program);
    for (const auto& row : j["results"]) EXPECT_EQ(row["root"], fmt::format("{:>6}", w.root));
  }
  auto own = nlohmann::json::parse(slurp(sj));
  ASSERT_EQ(own["engines"].size(), 7u);
  EXPECT_EQ(own["engines"][1]["collective"], "allgather");
  EXPECT_EQ(own["engines"][1]["results"][0]["redop"], "none");
  EXPECT_EQ(own["engines"][3]["results"][0]["root"], 2);

  // nccl-tests' spelling is taken too; a list runs in its order.
  Result two = run("bench --np 2 --coll all_gather,sendrecv -b 1K -e 1K -n 1 -w 0");
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_LT(two.out.find("# sxcoll bench: allgather"), two.out.find("# sxcoll bench: sendrecv"));

  expect_usage_error("bench --coll allgahter", "--coll 'allgahter': unknown");
  expect_usage_error("bench --coll allgather,,", "--coll");
  expect_usage_error("bench -r -1 --coll broadcast", "-r -1");
  expect_usage_error("bench --p2p --coll alltoall", "--coll and -r choose the collectives");
  expect_usage_error("bench --np 2 --coll reduce -r 5", "-r 5: the root is a rank, and this run has 2");
}

// Multi-host launchers, on one host: the same binary under mpirun (rank 0's address
// travels through MPI) and under Slurm's variables (rank 0's host from the node list).
TEST_F(Cli, RunsUnderMpirunWithoutAnyAddress) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun is not installed";
  std::string cmd = fmt::format(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 3 {} bench -b 1K -e 64K "
      "-f 8 -n 2 -w 1 -d int64 >{} 2>{}",
      SXCOLL_BINARY, (dir_ / "out").string(), (dir_ / "err").string());
  int status = std::system(cmd.c_str());
  std::string out = slurp(dir_ / "out");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir_ / "err");
  EXPECT_THAT(out, HasSubstr("# ranks: 3"));
  EXPECT_THAT(out, HasSubstr("launcher: mpirun"));
  EXPECT_THAT(out, HasSubstr("# Out of bounds values : 0 OK"));
}

TEST_F(Cli, RunsUnderSlurmVariables) {
  // Two tasks of a pretend Slurm step on this host; the port follows from the job id.
  int job = 1000 + ::getpid() % 15000;
  std::string env = fmt::format("SLURM_NTASKS=2 SLURM_JOB_ID={} SLURM_STEP_NODELIST=localhost", job);
  std::string base = fmt::format("{} bench -b 4K -e 4K -n 2 -w 1", SXCOLL_BINARY);
  std::string cmd = fmt::format("(env {} SLURM_PROCID=1 SLURM_LOCALID=1 {} >/dev/null 2>{} & env {} SLURM_PROCID=0 {} >{} 2>>{}; "
                                "r0=$?; wait $!; r1=$?; exit $((r0 + r1)))",
                                env, base, (dir_ / "err").string(), env, base, (dir_ / "out").string(),
                                (dir_ / "err").string());
  int status = std::system(("bash -c '" + cmd + "'").c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir_ / "err");
  std::string out = slurp(dir_ / "out");
  EXPECT_THAT(out, HasSubstr("# ranks: 2"));
  EXPECT_THAT(out, HasSubstr("launcher: srun"));
  EXPECT_THAT(out, HasSubstr("# Out of bounds values : 0 OK"));
}

}  // namespace
