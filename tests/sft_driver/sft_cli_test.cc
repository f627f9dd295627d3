// `sxcoll sft` as users run it: bad input in one line with exit 2, --dry-run, and the whole
// sweep on the tiny CPU plan with the local launcher — killed, resumed, reported, PDF checked.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/shell_run.h"

namespace {

namespace fs = std::filesystem;

using Result = sxcoll::testing::ShellResult;
using sxcoll::testing::slurp;

std::string temp_dir(const std::string& name) {
  auto p = fs::temp_directory_path() / ("sft_cli_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

Result sh(const std::string& line, const std::string& dir) { return sxcoll::testing::run_shell(line, dir); }

std::string sxcoll() { return SXCOLL_BINARY; }

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(SftCli, BadInputIsOneLineAndExitTwo) {
  const std::string d = temp_dir("usage");
  write(d + "/plan.json", R"({"models":[{"model":"llama2-7b","micro_batch":[8,0],"nodes":2}]})");
  write(d + "/hosts.json", R"({"hosts":[{"name":"a","address":"10.0.0.1"}]})");
  write(d + "/nccl_env.sh", "export NCCL_IB_HCA=mlx5_0:1\nNCCL_DEBUG=INFO\n");
  const std::pair<std::string, std::string> cases[] = {
      {"--plan plan.json", "sxcoll: plan plan.json: models[0].micro_batch: expected an integer of at least 1, got 0\n"},
      {"--launcher slurm --hosts hosts.json", "sxcoll: hosts hosts.json: hosts[0]: a: gpus: expected an integer 0..1024\n"},
      {"--nccl-env nccl_env.sh",
       "sxcoll: --nccl-env nccl_env.sh:2: expected 'export NAME=value' or a comment: 'NCCL_DEBUG=INFO'\n"},
      {"--launcher slurm", "sxcoll: --launcher slurm needs --hosts FILE (the inventory of nodes), or to run inside an "
                           "allocation (SLURM_JOB_NODELIST)\n"},
      {"--launcher ssh", "sxcoll: --launcher 'ssh': expected local, slurm, pdsh or mpirun\n"},
  };
  for (const auto& [flags, message] : cases) {
    auto r = sh(sxcoll() + " sft --dry-run " + flags, d);
    EXPECT_EQ(r.code, 2) << flags;
    EXPECT_EQ(r.err, message) << flags;
    EXPECT_EQ(r.out, "") << flags;
  }
  auto r = sh(sxcoll() + " sft --resume nowhere", d);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "sxcoll: nowhere: not a sweep folder of sxcoll sft (no sweep.json)\n");
  EXPECT_FALSE(fs::exists(d + "/results"));
}

TEST(SftCli, DryRunPrintsTheSlurmStepsAndSkipsExcludedHosts) {
  const std::string d = temp_dir("dry");
  write(d + "/hosts.json", R"({"hosts":[{"name":"gpu-a01","address":"10.0.0.11","gpus":8},
      {"name":"gpu-a03","address":"10.0.0.13","gpus":8},{"name":"gpu-b07","address":"10.0.0.17","gpus":8,"exclude":"half speed"}]})");
  write(d + "/nccl_env.sh", "export NCCL_IB_HCA=mlx5_0:1,mlx5_1:1\n");
  auto r = sh(sxcoll() + " sft --dry-run --launcher slurm --hosts hosts.json --nccl-env nccl_env.sh", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("# host gpu-b07 (10.0.0.17, 8 GPUs): excluded — half speed\n"), std::string::npos) << r.out;
  const std::string src = SXCOLL_SOURCE_DIR;
  EXPECT_NE(r.out.find("NCCL_IB_HCA=mlx5_0:1,mlx5_1:1 PYTHONPATH=" + src + "/sft_driver/worker PYTHONUNBUFFERED=1 "
                       "MASTER_ADDR=10.0.0.11 MASTER_PORT=29500 srun --nodes=2 --ntasks-per-node=8 --gpus-per-node=8 "
                       "--nodelist=gpu-a01,gpu-a03 --kill-on-bad-exit=1 --export=ALL " + src +
                       "/sft_driver/launch/rank_env.sh python3 -m sxcoll_worker --model llama2-7b --seq-len 4096 "
                       "--micro-batch 8 --grad-accum 16 --steps 700 --warmup-steps 200 --precision bf16 --parallel fsdp "
                       "--device auto --data synthetic --activation-checkpointing --metrics "
                       "RESULTS_DIR/runs/llama2-7b-n2-mb8-ga16/attempt-1/metrics.jsonl\n"),
            std::string::npos)
      << r.out;
  // Two usable hosts: the 4- and 8-node runs cannot be placed, and say so.
  EXPECT_NE(r.out.find("# run llama2-70b-n8-mb1-ga32: 8 nodes x 8 ranks, micro-batch 1, grad-accum 32, timeout 7200 s\n"
                       "# skipped: needs 8 hosts with 8 GPUs, 2 usable\n"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(d + "/results"));
}

// Debian's python3 has PyTorch but no DeepSpeed: the sweep refuses before any work, in one line
// that says how to provide it; the dry run shows the config file the worker hands DeepSpeed.
TEST(SftCli, DeepSpeedNotImportableIsOneLineBeforeAnyWork) {
  const std::string d = temp_dir("deepspeed");
  write(d + "/plan.json", R"({"python": "/usr/bin/python3", "defaults": {"engine": "deepspeed", "zero_stage": 2,
      "device": "cpu", "seq_len": 32, "steps": 2, "warmup_steps": 1, "env": {"PYTHONPATH": "/nonexistent-vendor"}},
      "models": [{"model": "tiny", "micro_batch": 2, "nodes": 1}]})");
  auto r = sh(sxcoll() + " sft --plan plan.json --results res", d);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("sxcoll: run tiny-n1-mb2-ga1-zero2: engine deepspeed: --parallel deepspeed: DeepSpeed is not "
                        "importable by /usr/bin/python3 (",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("PYTHONPATH=DIR"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(d + "/res"));

  r = sh(sxcoll() + " sft --dry-run --plan plan.json", d);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string attempt = "RESULTS_DIR/runs/tiny-n1-mb2-ga1-zero2/attempt-1/";
  EXPECT_NE(r.out.find("# DeepSpeed config (" + attempt + "ds_config.json): {"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PYTHONPATH=" + std::string(SXCOLL_SOURCE_DIR) + "/sft_driver/worker:/nonexistent-vendor "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--parallel deepspeed --device cpu --data synthetic --deepspeed-config " + attempt +
                       "ds_config.json --metrics " + attempt + "metrics.jsonl\n"),
            std::string::npos)
      << r.out;
}

nlohmann::json summary_of(const std::string& metrics) {
  std::ifstream in(metrics);
  nlohmann::json last;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "summary") last = j;
  }
  return last;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

TEST(SftCli, TinyCpuSweepKilledResumedAndReported) {
  const std::string d = temp_dir("e2e");
  // The shipped tiny CPU plan, with a longer 2-rank run so that the sweep can be killed in it.
  auto plan = nlohmann::json::parse(slurp(std::string(SXCOLL_SOURCE_DIR) + "/sft_driver/plans/tiny-cpu.json"));
  plan["models"] = {{{"model", "tiny"}, {"micro_batch", 2}, {"grad_accum", 1}, {"nodes", 1}},
                    {{"model", "tiny"}, {"micro_batch", 4}, {"grad_accum", 1}, {"nodes", 2}, {"steps", 400}}};
  plan["models"][1]["warmup_steps"] = 2;
  write(d + "/plan.json", plan.dump());
  write(d + "/nccl_env.sh", "export NCCL_DEBUG=WARN\n");

  // 1. Start, and stop it (SIGTERM) once the first run is written.
  pid_t pid = ::fork();
  if (pid == 0) {
    ::chdir(d.c_str());
    ::freopen("sweep1.out", "w", stdout);
    ::freopen("sweep1.err", "w", stderr);
    ::execl(SXCOLL_BINARY, SXCOLL_BINARY, "sft", "--plan", "plan.json", "--nccl-env", "nccl_env.sh", "--results",
            "results", nullptr);
    ::_exit(127);
  }
  std::string dir;
  const std::string first = "tiny-n1-mb2-ga1", second = "tiny-n2-mb4-ga1";
  for (int i = 0; i < 1200 && dir.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(d + "/results")) continue;
    for (const auto& e : fs::directory_iterator(d + "/results"))
      if (fs::exists(e.path() / "runs" / second / "attempt-1" / "rank1.log")) dir = e.path().string();
  }
  ASSERT_FALSE(dir.empty()) << slurp(d + "/sweep1.out") << slurp(d + "/sweep1.err");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(d + "/sweep1.out") << slurp(d + "/sweep1.err");
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/runs/" + first + "/status.json"))["status"], "ok");
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/runs/" + second + "/status.json"))["status"], "interrupted");
  EXPECT_TRUE(fs::exists(dir + "/runs/" + second + "/attempt-1/rank0.log"));

  // 2. Resume: the finished run is skipped, the interrupted one runs again as attempt 2.
  auto r = sh(sxcoll() + " sft --resume " + dir, d);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(first + ": finished before, skipped\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(second + ": attempt 2 (2 processes) ...\n" + second + ": ok\n"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/runs/" + first + "/attempt-2"));
  auto st = nlohmann::json::parse(slurp(dir + "/runs/" + second + "/status.json"));
  EXPECT_EQ(st["attempts"], 2);
  EXPECT_NE(slurp(dir + "/runs/" + second + "/attempt-2/command.txt").find("NCCL_DEBUG=WARN "), std::string::npos);

  // 3. The numbers: each output agrees with the worker's steady-state summaries.
  auto s1 = summary_of(dir + "/runs/" + first + "/attempt-1/metrics.jsonl");
  auto s2 = summary_of(dir + "/runs/" + second + "/attempt-2/metrics.jsonl");
  const double tps1 = s1["tokens_per_s"], tps2 = s2["tokens_per_s"];
  const std::string csv = slurp(dir + "/metrics/performance_summary.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "model_size,nodes,samples_per_sec,gpu_utilization,tokens_per_sec,tokens_per_sec_per_gpu,mfu_pct,"
            "peak_memory_gib,memory_headroom_gib,gpu_memory_used_max_mib,gpu_power_mean_w,model,gpus,ranks,micro_batch,"
            "grad_accum,seq_len,status,run_id,engine");
  EXPECT_NE(csv.find("\ntiny,1," + fixed(s1["samples_per_s"], 3) + ",not available (no NVIDIA GPU)," + fixed(tps1, 1) +
                     "," + fixed(tps1, 1) + ","),
            std::string::npos) << csv;
  EXPECT_NE(csv.find("\ntiny,2," + fixed(s2["samples_per_s"], 3) + ",not available (no NVIDIA GPU)," + fixed(tps2, 1) +
                     "," + fixed(tps2 / 2, 1) + ","),
            std::string::npos) << csv;
  auto scaling = nlohmann::json::parse(slurp(dir + "/reports/scaling_analysis.json"));
  auto& n2 = scaling["models"]["tiny"]["nodes"]["2"];
  EXPECT_EQ(scaling["models"]["tiny"]["baseline_nodes"], 1);
  EXPECT_DOUBLE_EQ(n2["efficiency"].get<double>(), (tps2 / 2) / tps1);
  EXPECT_DOUBLE_EQ(n2["ideal_tokens_per_sec"].get<double>(), 2 * tps1);
  const std::string md = slurp(dir + "/reports/report.md");
  const std::string eff = fixed(100 * (tps2 / 2) / tps1, 1) + " %";
  for (const auto& needle : {fixed(tps1, 1), fixed(tps2, 1), eff, std::string("NCCL_DEBUG=WARN"),
                             std::string("not available (no NVIDIA GPU)"), std::string("torch_version: 1.13")})
    EXPECT_NE(md.find(needle), std::string::npos) << needle << "\n" << md;
  const std::string html = slurp(dir + "/reports/report.html");
  EXPECT_NE(html.find("<img alt=\"Throughput vs nodes"), std::string::npos);
  EXPECT_NE(html.find(eff), std::string::npos);
  EXPECT_GT(fs::file_size(dir + "/reports/charts/throughput.png"), 1000u);

  // 4. The PDF: a page renders, and its text holds the numbers.
  ASSERT_TRUE(fs::exists(dir + "/reports/report.pdf"));
  auto txt = sh("pdftotext -layout " + dir + "/reports/report.pdf - && pdftoppm -png -r 40 -f 1 -l 1 " + dir +
                    "/reports/report.pdf " + d + "/page",
                d);
  ASSERT_EQ(txt.code, 0) << txt.err;
  EXPECT_NE(txt.out.find("SFT throughput report"), std::string::npos);
  EXPECT_NE(txt.out.find(fixed(tps2, 1)), std::string::npos) << txt.out;
  EXPECT_NE(txt.out.find(eff), std::string::npos) << txt.out;
  bool png = false;
  for (const auto& e : fs::directory_iterator(d))
    png = png || (e.path().filename().string().rfind("page", 0) == 0 && e.path().extension() == ".png" &&
                  fs::file_size(e.path()) > 1000);
  EXPECT_TRUE(png);

  // 5. --report-only remakes the same numbers from the folder alone.
  fs::remove(dir + "/metrics/performance_summary.csv");
  auto again = sh(sxcoll() + " sft --report-only " + dir, d);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(slurp(dir + "/metrics/performance_summary.csv"), csv);
}

}  // namespace
