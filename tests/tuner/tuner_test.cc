// The whole tuner against a fake `sxcoll bench` whose busbw depends on its flags: --nsocks 4
// moves bytes 50 % faster (23 % over the sizes, latency included), everything else only noise. The tuner must export SXCOLL_NSOCKS=4 with its
// evidence, keep the other defaults, confirm the result in a fresh alternating run, and fit
// the cost model.
#include "tuner/tuner.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sxcoll::tune {
namespace {

namespace fs = std::filesystem;

// argv: bench --json F -b MIN -e MAX ... --nsocks N ...; t = 20 us + bytes / (10 GB/s x speed),
// with +-0.5 % noise; busbw = algbw on 2 ranks.
const char* kFakeBench = R"(#!/bin/bash
json= b= e= nsocks=1
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json=$2; shift ;;
    -b) b=$2; shift ;;
    -e) e=$2; shift ;;
    --nsocks) nsocks=$2; shift ;;
  esac
  shift
done
awk -v b="$b" -v e="$e" -v nsocks="$nsocks" -v seed="$RANDOM$$" 'BEGIN {
  srand(seed); speed = nsocks == 4 ? 1.5 : 1.0
  printf "{\"tool\": \"sxcoll bench\", \"engine\": \"sxcoll\", \"engine_detail\": \"fake\", \"ranks\": 2, \"results\": ["
  for (s = b; s <= e; s *= 2) {
    t = (20 + s / (10e3 * speed)) * (1 + (rand() - 0.5) / 100); bw = s / t / 1e3
    printf "%s{\"size_bytes\": %d, \"algorithm\": \"ring\", \"out_of_place\": {\"time_us\": %f, \"busbw_gbps\": %f}, \"in_place\": {\"time_us\": %f, \"busbw_gbps\": %f}}", (s == b ? "" : ","), s, t, bw, t, bw
  }
  print "]}"
}' > "$json"
)";

class TunerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sxcoll-tuner-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "bench.sh") << kFakeBench;
    fs::permissions(dir_ / "bench.sh", fs::perms::owner_all);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TuneOptions options() {
    TuneOptions o;
    o.engine = Engine::Sxcoll;
    o.np = 2;
    o.sizes = "64K..1M";
    o.knobs = {"nsocks", "channels"};
    o.budget = std::chrono::minutes(2);
    o.exe = (dir_ / "bench.sh").string();
    o.out_dir = (dir_ / "out").string();
    o.sysfs_root = (dir_ / "no-sysfs").string();
    return o;
  }
  fs::path dir_;
};

TEST_F(TunerTest, FindsTheKnobThatHelpsAndConfirmsIt) {
  std::ostringstream out;
  Tuner tuner(options());
  ASSERT_EQ(tuner.run(out), 0) << out.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("# --nsocks: 1 -> 4: +2"), std::string::npos) << text;
  EXPECT_NE(text.find("# --channels: default kept: no significant difference"), std::string::npos) << text;
  EXPECT_NE(text.find("confirm: --nsocks=4 rep 6/6"), std::string::npos) << text;
  EXPECT_NE(text.find("3 more processes each, default and tuned alternating after the search"), std::string::npos);

  std::ifstream env_file(dir_ / "out" / "nccl_env.sh");
  std::stringstream env;
  env << env_file.rdbuf();
  EXPECT_NE(env.str().find("\nexport SXCOLL_NSOCKS=4  # --nsocks: +2"), std::string::npos) << env.str();
  EXPECT_EQ(env.str().find("export SXCOLL_CHANNELS"), std::string::npos) << env.str();

  std::ifstream summary_file(dir_ / "out" / "summary.json");
  auto summary = nlohmann::json::parse(summary_file);
  EXPECT_EQ(summary["tuned"]["--nsocks"], "4");
  EXPECT_EQ(summary["tuned"]["--channels"], "2");
  const auto& workload = summary["sizes"].back();
  EXPECT_EQ(workload["size_bytes"], "workload");
  EXPECT_GT(workload["ratio_low"].get<double>(), 1.2);
  EXPECT_LT(workload["ratio_high"].get<double>(), 1.26);
  // t = 20 us + bytes / 10 GB/s on 2 ranks: ring alpha = 20 / 2 steps, beta = 0.1 ns/B.
  EXPECT_NEAR(summary["model"]["ring"]["alpha_us"].get<double>(), 10, 1);
  EXPECT_NEAR(summary["model"]["ring"]["beta_ns_per_byte"].get<double>(), 0.1, 0.005);
  EXPECT_EQ(summary["model"]["prediction"]["note"], "a prediction from the fitted model, not a measurement");

  // A rerun reuses every trial and comes to the same verdict.
  std::ostringstream again;
  Tuner rerun(options());
  ASSERT_EQ(rerun.run(again), 0) << again.str();
  EXPECT_NE(again.str().find("# 0 trial(s) run,"), std::string::npos) << again.str();
  EXPECT_NE(again.str().find("# --nsocks: 1 -> 4"), std::string::npos);
}

}  // namespace
}  // namespace sxcoll::tune
