// Runs that hang, crash or run out of memory are stopped and recorded as such.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "sft_driver/deepspeed_config.h"
#include "process/process_group.h"
#include "sft_driver/launcher.h"
#include "sft_driver/results_dir.h"
#include "sft_driver/run_outcome.h"

namespace sxcoll::sft {
namespace {

std::string temp_dir() {
  auto p = std::filesystem::temp_directory_path() /
           ("sft_runs_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

TEST(ProcessGroup, AHangingRunIsKilledAtItsTimeoutWithItsChildrenAndLogKept) {
  const std::string dir = temp_dir();
  // The shell leaves a grandchild behind: killing the group must end it too.
  Command c{{"sh", "-c", "echo started; sleep 60 & echo $! > " + dir + "/child.pid; wait"}, {}, "rank0.log"};
  std::atomic<bool> stop{false};
  auto t0 = std::chrono::steady_clock::now();
  process::ProcessGroup group(process_specs({c}, dir));
  auto r = group.wait(std::chrono::milliseconds(700), std::chrono::seconds(5), [&] { return stop.load(); });
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(read_text(dir + "/rank0.log"), "started\n");
  const pid_t child = std::stoi(read_text(dir + "/child.pid"));
  for (int i = 0; i < 50 && ::kill(child, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(::kill(child, 0), 0) << "the grandchild survived";
  EXPECT_EQ(classify(r, {}, 0.7).status, "timeout");
}

TEST(ProcessGroup, OneFailedRankStopsThePeersAfterTheGrace) {
  const std::string dir = temp_dir();
  std::atomic<bool> stop{false};
  process::ProcessGroup group(
      process_specs({{{"sh", "-c", "exit 3"}, {}, "rank0.log"}, {{"sleep", "60"}, {}, "rank1.log"}}, dir));
  auto r = group.wait(std::chrono::seconds(60), std::chrono::milliseconds(300), [&] { return stop.load(); });
  EXPECT_FALSE(r.timed_out);
  ASSERT_EQ(r.exits.size(), 2u);
  EXPECT_EQ(r.exits[0].code, 3);
  EXPECT_EQ(r.exits[1].signal, SIGTERM);
  EXPECT_EQ(classify(r, {}, 60).status, "oom");
}

TEST(RunOutcome, ExitCodesAndMetricsDecideTheStatus) {
  process::GroupResult r;
  r.exits = {{0, 0}, {0, 0}};
  WorkerMetrics m;
  EXPECT_EQ(classify(r, m, 1).status, "failed");  // no summary line
  m.summary = nlohmann::json::object();
  EXPECT_EQ(classify(r, m, 1).status, "ok");
  r.exits[1] = {2, 0};
  EXPECT_EQ(classify(r, m, 1).status, "bad-input");
  r.exits[1] = {1, 0};
  m.error = nlohmann::json{{"kind", "oom"}, {"message", "CUDA out of memory"}};
  EXPECT_EQ(classify(r, m, 1).status, "oom");
  r.interrupted = true;
  EXPECT_EQ(classify(r, m, 1).status, "interrupted");
}

TEST(ResultsDir, EverySweepGetsItsOwnFolder) {
  const std::string base = temp_dir();
  auto a = ResultsDir::create(base), b = ResultsDir::create(base);
  EXPECT_NE(a.path(), b.path());
  a.write_status("r", {{"status", "ok"}});
  EXPECT_EQ(a.read_status("r")->value("status", ""), "ok");
  EXPECT_FALSE(b.read_status("r"));
  a.make_attempt_dir("r", 1);
  EXPECT_THROW(a.make_attempt_dir("r", 1), std::exception);
}

TEST(DeepSpeed, ConfigComesFromThePlan) {
  RunSpec r;
  r.nodes = 2;
  r.ranks_per_node = 8;
  r.micro_batch = 8;
  r.grad_accum = 16;
  r.warmup_steps = 200;
  auto j = deepspeed_config(r);
  EXPECT_EQ(j["train_batch_size"], 8 * 16 * 16);
  EXPECT_EQ(j["train_micro_batch_size_per_gpu"], 8);
  EXPECT_EQ(j["gradient_accumulation_steps"], 16);
  EXPECT_EQ(j["zero_optimization"]["stage"], 3);
  EXPECT_TRUE(j["zero_optimization"].contains("stage3_prefetch_bucket_size"));
  EXPECT_FALSE(j["zero_optimization"].contains("offload_optimizer"));
  EXPECT_EQ(j["bf16"]["enabled"], true);
  EXPECT_EQ(j["optimizer"]["type"], "AdamW");
  // The worker sets the learning rate itself (as for FSDP) and refuses a scheduler block.
  EXPECT_FALSE(j.contains("scheduler"));
}

TEST(DeepSpeed, StageTwoHasNoStageThreeKeysAndOffloadIsThePlans) {
  RunSpec r;
  r.engine = "deepspeed";
  r.zero_stage = 2;
  r.offload_optimizer = true;
  r.precision = "fp32";
  auto z = deepspeed_config(r)["zero_optimization"];
  EXPECT_EQ(z["stage"], 2);
  for (const auto& [k, v] : z.items()) EXPECT_EQ(k.rfind("stage3_", 0), std::string::npos) << k;
  EXPECT_EQ(z["reduce_scatter"], true);
  EXPECT_EQ(z["offload_optimizer"]["device"], "cpu");
  EXPECT_EQ(deepspeed_config(r)["bf16"]["enabled"], false);
}

TEST(DeepSpeed, ConfigFileBesideTheMetricsAndPassedToTheWorker) {
  EXPECT_EQ(deepspeed_config_path("RES/runs/x/attempt-1/metrics.jsonl"), "RES/runs/x/attempt-1/ds_config.json");
  RunSpec r;
  r.engine = "deepspeed";
  auto a = worker_args(r, "/r/attempt-2/metrics.jsonl");
  auto at = [&](const std::string& flag) { return *(std::find(a.begin(), a.end(), flag) + 1); };
  EXPECT_EQ(at("--parallel"), "deepspeed");
  EXPECT_EQ(at("--deepspeed-config"), "/r/attempt-2/ds_config.json");
  r.engine = "fsdp";
  a = worker_args(r, "/r/attempt-2/metrics.jsonl");
  EXPECT_EQ(std::find(a.begin(), a.end(), "--deepspeed-config"), a.end());
}

}  // namespace
}  // namespace sxcoll::sft
