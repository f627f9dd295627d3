// `sxcoll tune` as users run it: bad input in one line with exit 2 and nothing created, and a
// real tuning run of sxcoll's engine over TCP on 2 local ranks — interrupted with Ctrl-C,
// killed outright, then resumed to the end: nccl_env.sh sourced by bash, every trial kept.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/shell_run.h"

namespace {

namespace fs = std::filesystem;

using Result = sxcoll::testing::ShellResult;
using sxcoll::testing::slurp;

class TuneCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("sxcoll-tune-cli-{}-{}", ::getpid(),
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result run(const std::string& args) {
    return sxcoll::testing::run_shell(
        fmt::format("env -u SXCOLL_RANK -u OMPI_COMM_WORLD_RANK -u SLURM_PROCID -u PMI_RANK -u RANK {} tune {}",
                    SXCOLL_BINARY, args),
        dir_);
  }

  // Starts `sxcoll tune args` in the background, stdout and stderr to files named after `tag`.
  pid_t start(const std::string& args, const std::string& tag) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::chdir(dir_.c_str());
      ::freopen((tag + ".out").c_str(), "w", stdout);
      ::freopen((tag + ".err").c_str(), "w", stderr);
      ::execl("/bin/sh", "sh", "-c", fmt::format("exec {} tune {}", SXCOLL_BINARY, args).c_str(), nullptr);
      ::_exit(127);
    }
    return pid;
  }

  // Complete trial lines in the trials file (a line being written is not counted).
  size_t trial_lines(const fs::path& file) {
    std::ifstream in(file);
    size_t n = 0;
    for (std::string line; std::getline(in, line);)
      if (!nlohmann::json::parse(line, nullptr, false).is_discarded()) ++n;
    return n;
  }

  // Waits (at most 60 s) until the trials file holds `n` trials; false if the run ended first.
  bool wait_for_trials(pid_t pid, const fs::path& file, size_t n) {
    for (int i = 0; i < 3000; ++i) {
      if (trial_lines(file) >= n) return true;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  fs::path dir_;
};

TEST_F(TuneCli, BadInputIsOneLineAndExitTwo) {
  std::ofstream(dir_ / "a-file") << "x";
  const std::pair<std::string, std::string> cases[] = {
      {"--engine sxcoll --np 2 --knob frobnicate", "sxcoll: --knob frobnicate: unknown knob for --engine sxcoll"},
      {"--engine sxcoll --np 2 --knob nsocks=", "sxcoll: --knob nsocks: empty value list (expected nsocks=V1,V2,...)"},
      {"--engine sxcoll --np 2 --budget 0", "sxcoll: --budget '0': expected a positive duration such as 20m, 90s, 1h"},
      {"--engine sxcoll --np 2 --mem gpu", "sxcoll: --mem 'gpu': expected host or cuda"},
      {"--engine nccl --np 2 --mem host", "sxcoll: --mem host: NCCL reduces GPU buffers"},
      {"--engine sxcoll --np 2 --out a-file/tune", "sxcoll: --out a-file/tune: cannot create a-file/tune/raw:"},
      {"--engine nccl --np 2 --knob NCCL_IB_TC=106 --transport socket",
       "sxcoll: --knob NCCL_IB_TC: does not apply here: RDMA knob; --transport socket"},
      {"--engine sxcoll --np 2 --knob buffsize=4M,12Q", "sxcoll: --knob --buffsize=12Q: expected a size in bytes"},
      {"--engine sxcoll --np 2 --sizes 64K,100K", "sxcoll: --sizes 64K,100K: 100K is not 64K times a power of two"},
      {"--engine sxcoll --np 2 --workload fsdp:8b", "sxcoll: --workload 'fsdp:8b': expected fsdp:MODEL"},
      {"--engine sxcoll --np 1", "sxcoll: --np 1: expected 2..1024 ranks"},
      {"--engine sxcoll", "sxcoll: give --np N (local ranks) or --launch"},
      {"--engine gloo --np 2", "sxcoll: --engine 'gloo': expected nccl or sxcoll"},
      {"--engine sxcoll --np 2 --launch 'mpirun -np 2'", "sxcoll: --np and --launch: pick one"},
      {"--engine sxcoll --np 2 --repeats 1", "sxcoll: --repeats 1: expected 2..100"},
  };
  for (const auto& [args, message] : cases) {
    Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind(message, 0), 0u) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": one line, got:\n" << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
  EXPECT_FALSE(fs::exists(dir_ / "results")) << "nothing is created before the input is checked";
}

TEST_F(TuneCli, ListKnobs) {
  Result r = run("--list-knobs");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"NCCL_IB_QPS_PER_CONNECTION", "NCCL_NSOCKS_PERTHREAD", "NCCL_MIN/MAX_NCHANNELS", "--nsocks"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
}

TEST_F(TuneCli, NcclTrialsAskBenchForNcclWithTheKnobsInTheEnvironment) {
  // The NCCL engine of bench is another issue: whether its trials run or fail here, the
  // recorded command is the contract.
  Result r =
      run("--engine nccl --np 2 --transport socket --sizes 64K..128K -n 2 -w 1 --knob NCCL_BUFFSIZE=8M "
          "--budget 20s --trial-timeout 15s --out nccl");
  EXPECT_TRUE(r.code == 0 || r.code == 1) << r.code << "\n" << r.err;
  std::ifstream in(dir_ / "nccl" / "trials.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line)) << r.out << r.err;
  auto trial = nlohmann::json::parse(line);
  const std::string command = trial["command"];
  EXPECT_NE(command.find(" bench --json "), std::string::npos) << command;
  EXPECT_NE(command.find("--np 2 --engine nccl --mem cuda"), std::string::npos) << command;
  EXPECT_NE(command.find("NCCL_IB_DISABLE=1"), std::string::npos) << command;
  EXPECT_NE(command.find("-u NCCL_BUFFSIZE"), std::string::npos)
      << "the defaults run with NCCL's own value: " << command;
}

TEST_F(TuneCli, SxcollOverTcpInterruptedKilledAndResumed) {
  const std::string args = "--engine sxcoll --np 2 --sizes 64K..1M -n 5 -w 2 --budget 40s --out run";
  const fs::path trials = dir_ / "run" / "trials.jsonl";

  // 1. Ctrl-C after a few trials: the trial in flight is stopped, the file kept, exit 130.
  pid_t pid = start(args, "first");
  ASSERT_TRUE(wait_for_trials(pid, trials, 4)) << slurp(dir_ / "first.out") << slurp(dir_ / "first.err");
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << slurp(dir_ / "first.err");
  EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(dir_ / "first.err");
  EXPECT_NE(slurp(dir_ / "first.err").find("tune interrupted"), std::string::npos) << slurp(dir_ / "first.err");
  EXPECT_FALSE(fs::exists(dir_ / "run" / "nccl_env.sh")) << "an interrupted search writes no verdict";
  const size_t after_first = trial_lines(trials);
  EXPECT_GE(after_first, 4u);

  // 2. Killed outright (a crash): what was appended stays.
  pid = start(args, "second");
  ASSERT_TRUE(wait_for_trials(pid, trials, after_first + 4))
      << slurp(dir_ / "second.out") << slurp(dir_ / "second.err");
  ::kill(pid, SIGKILL);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  const size_t after_second = trial_lines(trials);
  EXPECT_GE(after_second, after_first + 4);
  EXPECT_NE(slurp(dir_ / "second.out").find(fmt::format("trials.jsonl: {} trial(s) from an earlier run", after_first)),
            std::string::npos)
      << slurp(dir_ / "second.out");

  // 3. The same command again runs to the end, reusing every trial in the file.
  Result r = run(args);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find(fmt::format("{} to reuse", after_second)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# default vs tuned: busbw (GB/s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PREDICTION, not a measurement"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# --nsocks: "), std::string::npos) << r.out;

  // nccl_env.sh: bash sources it; every line is a comment or one export.
  const fs::path env = dir_ / "run" / "nccl_env.sh";
  const int sourced = std::system(fmt::format("bash -c 'set -eu; source {}' </dev/null", env.string()).c_str());
  EXPECT_TRUE(WIFEXITED(sourced) && WEXITSTATUS(sourced) == 0) << slurp(env);
  std::istringstream lines(slurp(env));
  int knob_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.rfind("#", 0) == 0 || line.rfind("export ", 0) == 0) << line;
    for (const char* k : {"--nsocks", "--buffsize", "--channels", "--algo"})
      if (line.find(std::string(k) + ": ") != std::string::npos && line.find("skipped") == std::string::npos)
        ++knob_lines;
  }
  EXPECT_EQ(knob_lines, 4) << slurp(env);
  EXPECT_NE(slurp(env).find("# --qps: skipped: RDMA knob; --transport tcp"), std::string::npos) << slurp(env);

  // nccl.conf: what NCCL reads itself (NCCL_CONF_FILE): '#' comments and NAME=value lines,
  // NCCL's variables only (sxcoll's engine knobs are SXCOLL_*: not NCCL's to read).
  std::istringstream conf(slurp(dir_ / "run" / "nccl.conf"));
  int conf_lines = 0;
  for (std::string line; std::getline(conf, line);) {
    ++conf_lines;
    if (line.starts_with("#")) continue;
    EXPECT_TRUE(line.starts_with("NCCL_") && line.find('=') != std::string::npos) << line;
    EXPECT_EQ(line.find(' '), std::string::npos) << line;
  }
  EXPECT_GT(conf_lines, 0);
  EXPECT_FALSE(fs::exists(dir_ / "run" / "nccl_tuner.conf")) << "no NCCL_ALGO / NCCL_PROTO measured";

  // The trials file: every measurement, real ones.
  std::ifstream in(trials);
  size_t ok = 0;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    ASSERT_EQ(j["status"], "ok") << line;
    ++ok;
    EXPECT_EQ(j["ranks"], 2);
    EXPECT_EQ(j["results"].size(), 5u);
    for (const auto& row : j["results"]) EXPECT_GT(row["busbw_gbps"].get<double>(), 0);
    const std::string command = j["command"];
    EXPECT_NE(command.find("bench --json"), std::string::npos);
    EXPECT_EQ(command.find("--engine"), std::string::npos) << "sxcoll trials run on today's bench";
  }
  EXPECT_GT(ok, after_second);

  auto summary = nlohmann::json::parse(slurp(dir_ / "run" / "summary.json"));
  EXPECT_EQ(summary["trials_reused"], after_second);
  ASSERT_EQ(summary["sizes"].size(), 6u);  // 5 sizes and the workload
  for (const auto& row : summary["sizes"]) {
    EXPECT_GT(row["default_busbw_gbps"].get<double>(), 0);
    EXPECT_GT(row["tuned_busbw_gbps"].get<double>(), 0);
  }
  EXPECT_TRUE(summary["model"].contains("ring")) << summary["model"].dump();
}

TEST_F(TuneCli, AHangingTrialIsKilledAtItsTimeoutAndRecorded) {
  Result r = run("--engine sxcoll --np 2 --sizes 64K..1M --trial-timeout 1ms --budget 30s --out hang");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("sxcoll: the default settings failed: no result within 0.001 s, killed", 0), 0u) << r.err;
  std::ifstream in(dir_ / "hang" / "trials.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto trial = nlohmann::json::parse(line);
  EXPECT_EQ(trial["status"], "timeout");
  EXPECT_NE(trial["error"].get<std::string>().find("killed"), std::string::npos);
}

TEST_F(TuneCli, TheBudgetEndsTheSearchAndTheFileSaysWhere) {
  // Trials of a few hundred ms against a 3 s budget: the defaults and the model fit, the
  // knobs do not all. On a machine too loaded for even the defaults, the run says so instead.
  Result r = run("--engine sxcoll --np 2 --sizes 256K..4M -n 20 -w 2 --budget 3s --out budget");
  if (r.code == 1) {
    EXPECT_NE(r.err.find("the budget ran out before the defaults were measured 3 times"), std::string::npos) << r.err;
    return;
  }
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string env = slurp(dir_ / "budget" / "nccl_env.sh");
  EXPECT_NE(env.find("default kept: not measured (the budget ran out first)"), std::string::npos) << env;
  EXPECT_NE(env.find("the budget ran out before"), std::string::npos) << env;
  EXPECT_NE(r.out.find("(ran out: knobs left are at their defaults)"), std::string::npos) << r.out;
  const int sourced =
      std::system(fmt::format("bash -c 'set -eu; source {}/budget/nccl_env.sh'", dir_.string()).c_str());
  EXPECT_EQ(sourced, 0);
}

}  // namespace
