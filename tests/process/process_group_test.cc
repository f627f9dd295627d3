// The contract that `sxcoll sft` and `sxcoll tune` share: environment, output files, failed
// starts, and how a group is stopped; sft's runs (tests/sft_driver/runs_test.cc) and tune's
// trials (tests/tuner/trial_runner_test.cc) are tested through their own callers.
#include "process/process_group.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "transport/error.h"

namespace sxcoll::process {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ProcessGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sxcoll_process_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Polls for up to 10 s until the file has something in it.
  static bool appears(const std::string& p) {
    for (int i = 0; i < 500 && slurp(p).empty(); ++i) std::this_thread::sleep_for(milliseconds(20));
    return !slurp(p).empty();
  }
  Spec shell(const std::string& script, const std::string& log) const {
    Spec s;
    s.argv = {"/bin/sh", "-c", script};
    s.stdout_path = path(log);
    return s;
  }

  fs::path dir_;
};

TEST_F(ProcessGroupTest, TheEnvironmentIsInheritedWithVariablesSetReplacedAndUnset) {
  ::setenv("SXCOLL_PG_KEPT", "kept", 1);
  ::setenv("SXCOLL_PG_REPLACED", "old", 1);
  ::setenv("SXCOLL_PG_UNSET", "there", 1);
  Spec s = shell("echo \"$SXCOLL_PG_KEPT $SXCOLL_PG_REPLACED ${SXCOLL_PG_UNSET-gone} $SXCOLL_PG_NEW\"", "env.log");
  s.set_env = {{"SXCOLL_PG_REPLACED", "new"}, {"SXCOLL_PG_NEW", "added"}};
  s.unset_env = {"SXCOLL_PG_UNSET"};
  ProcessGroup group({s});
  const GroupResult r = group.wait(seconds(10), seconds(1), nullptr);
  ASSERT_EQ(r.exits.size(), 1u);
  EXPECT_EQ(r.exits[0].code, 0);
  EXPECT_EQ(slurp(path("env.log")), "kept new gone added\n");
}

TEST_F(ProcessGroupTest, StderrSharesTheLogOfStdoutOrHasAFileOfItsOwn) {
  Spec one = shell("echo out; echo err >&2", "both.log");
  Spec two = shell("echo out; echo err >&2", "two.out");
  two.stderr_path = path("two.err");
  ProcessGroup group({one, two});
  const GroupResult r = group.wait(seconds(10), seconds(1), nullptr);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(slurp(path("both.log")), "out\nerr\n");
  EXPECT_EQ(slurp(path("two.out")), "out\n");
  EXPECT_EQ(slurp(path("two.err")), "err\n");
}

TEST_F(ProcessGroupTest, AnExistingFileIsKeptAndThoseStartedAreStoppedUnlessReplacingIsAsked) {
  std::ofstream(path("old.log")) << "a log of before\n";
  const Spec first = shell("sleep 60", "first.log");
  Spec second = shell("echo again", "old.log");
  try {
    ProcessGroup group({first, second});
    ADD_FAILURE() << "an existing file was overwritten";
  } catch (const RunError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot create " + path("old.log") + ": " + errno_text(EEXIST));
  }
  EXPECT_EQ(slurp(path("old.log")), "a log of before\n");
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "the first process was left running";
  EXPECT_EQ(errno, ECHILD);

  second.replace_existing = true;
  ProcessGroup group({second});
  EXPECT_EQ(group.wait(seconds(10), seconds(1), nullptr).exits[0].code, 0);
  EXPECT_EQ(slurp(path("old.log")), "again\n");
}

TEST_F(ProcessGroupTest, AFailedExecNamesTheProgramAndExits127) {
  Spec why;
  why.argv = {"/nonexistent/sxcoll-worker", "--flag"};
  why.stdout_path = path("why.log");
  why.exec_failure = "sxcoll test: cannot start ";
  Spec plain = why;
  plain.stdout_path = path("plain.log");
  plain.exec_failure = "sxcoll test: exec failed: ";
  plain.exec_failure_says_why = false;
  ProcessGroup group({why, plain});
  const GroupResult r = group.wait(seconds(10), seconds(1), nullptr);
  EXPECT_EQ(r.exits[0].code, 127);
  EXPECT_EQ(r.exits[1].code, 127);
  EXPECT_EQ(slurp(path("why.log")),
            "sxcoll test: cannot start /nonexistent/sxcoll-worker: No such file or directory\n");
  EXPECT_EQ(slurp(path("plain.log")), "sxcoll test: exec failed: /nonexistent/sxcoll-worker\n");
}

TEST_F(ProcessGroupTest, AStopRequestEndsTheGroupWithSigterm) {
  ProcessGroup group({shell("exec sleep 60", "a.log"), shell("exec sleep 60", "b.log")});
  const auto t0 = std::chrono::steady_clock::now();
  const GroupResult r = group.wait(seconds(60), seconds(1), [] { return true; });
  EXPECT_TRUE(r.interrupted);
  EXPECT_FALSE(r.timed_out);
  ASSERT_EQ(r.exits.size(), 2u);
  EXPECT_EQ(r.exits[0].signal, SIGTERM);
  EXPECT_EQ(r.exits[1].signal, SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));
}

TEST_F(ProcessGroupTest, AProcessThatIgnoresSigtermIsKilledAfterTheGrace) {
  ProcessGroup group({shell("trap '' TERM; echo ready; sleep 60", "deaf.log")});
  ASSERT_TRUE(appears(path("deaf.log")));  // the trap is set
  const auto t0 = std::chrono::steady_clock::now();
  const GroupResult r = group.wait(milliseconds(200), seconds(1), nullptr, milliseconds(300));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exits[0].signal, SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));
}

TEST_F(ProcessGroupTest, TheDeathSignalReachesTheProcessesOfAStarterKilledOutright) {
  Spec s = shell("trap 'echo TERM > " + path("term") + "; exit 0' TERM; echo $$ > " + path("pid") +
                     "; while :; do sleep 0.1; done",
                 "child.log");
  s.death_signal = SIGTERM;
  const pid_t starter = ::fork();
  ASSERT_GE(starter, 0);
  if (starter == 0) {
    try {
      ProcessGroup group({s});
      ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  ASSERT_TRUE(appears(path("pid"))) << slurp(path("child.log"));
  ::kill(starter, SIGKILL);
  ::waitpid(starter, nullptr, 0);
  ASSERT_TRUE(appears(path("term"))) << "the process outlived its starter";
  EXPECT_EQ(slurp(path("term")), "TERM\n");
}

}  // namespace
}  // namespace sxcoll::process
