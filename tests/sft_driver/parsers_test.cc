#include <gtest/gtest.h>

#include "sft_driver/gpu_samples.h"
#include "sft_driver/inventory.h"
#include "sft_driver/nccl_env.h"
#include "sft_driver/plan.h"
#include "sft_driver/stragglers.h"
#include "sft_driver/worker_metrics.h"
#include "transport/error.h"

namespace sxcoll::sft {
namespace {

std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Plan, ShippedDefaultIsTheSeedsMatrix) {
  auto plan = parse_plan(nlohmann::json::parse(default_plan_text()), "default");
  std::vector<std::string> ids;
  for (const auto& r : plan.runs) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"llama2-7b-n2-mb8-ga16", "llama2-7b-n2-mb16-ga16", "llama2-7b-n4-mb8-ga16",
                                           "llama2-7b-n4-mb16-ga16", "llama2-13b-n4-mb4-ga16", "llama2-13b-n4-mb8-ga16",
                                           "llama2-70b-n8-mb1-ga32", "llama2-70b-n8-mb2-ga32"}));
  for (const auto& r : plan.runs) {
    EXPECT_EQ(r.seq_len, 4096);
    EXPECT_EQ(r.steps, 700);
    EXPECT_EQ(r.warmup_steps, 200);
    EXPECT_EQ(r.precision, "bf16");
    EXPECT_TRUE(r.activation_checkpointing);
    EXPECT_EQ(r.engine, "fsdp");
  }
  EXPECT_EQ(plan.runs[6].model_size, "70B");
}

TEST(Plan, DeepSpeedRunsNameTheirStageAndSitBesideFsdpRuns) {
  auto plan = parse_plan(nlohmann::json::parse(R"({"defaults": {"nodes": 1, "micro_batch": 8},
      "models": [{"model": "llama2-7b"}, {"model": "llama2-7b", "engine": "deepspeed"},
                 {"model": "llama2-7b", "engine": "deepspeed", "zero_stage": 2, "offload_optimizer": true}]})"),
                         "p.json");
  ASSERT_EQ(plan.runs.size(), 3u);
  EXPECT_EQ(plan.runs[0].id, "llama2-7b-n1-mb8-ga1");
  EXPECT_EQ(plan.runs[1].id, "llama2-7b-n1-mb8-ga1-zero3");
  EXPECT_EQ(plan.runs[2].id, "llama2-7b-n1-mb8-ga1-zero2-offload");
  EXPECT_EQ(plan.runs[1].engine_label(), "deepspeed ZeRO-3");
  EXPECT_EQ(plan.runs[2].engine_label(), "deepspeed ZeRO-2 + optimizer offload");
  EXPECT_EQ(plan.runs[0].engine_label(), "fsdp");
  auto parse = [](const char* text) { return [=] { parse_plan(nlohmann::json::parse(text), "p.json"); }; };
  EXPECT_EQ(usage_error(parse(R"({"models":[{"model":"tiny","micro_batch":1,"nodes":1,"zero_stage":1}]})")),
            "plan p.json: models[0].zero_stage: expected 2 or 3 (DeepSpeed ZeRO stage), got 1");
  EXPECT_EQ(usage_error(parse(R"({"models":[{"model":"tiny","micro_batch":1,"nodes":1,"offload_optimizer":"cpu"}]})")),
            "plan p.json: models[0].offload_optimizer: expected true or false, got \"cpu\"");
}

TEST(Plan, ShippedTinyCpuPlanParses) {
  auto plan = load_plan(std::string(SXCOLL_SOURCE_DIR) + "/sft_driver/plans/tiny-cpu.json");
  ASSERT_EQ(plan.runs.size(), 2u);
  EXPECT_EQ(plan.runs[1].world_size(), 2);
}

TEST(Plan, BadFieldsGetOneLineNamingThem) {
  auto parse = [](const char* text) { return [=] { parse_plan(nlohmann::json::parse(text), "p.json"); }; };
  EXPECT_EQ(usage_error(parse(R"({"models":[{"model":"llama2-7b","micro_batch":0,"nodes":2}]})")),
            "plan p.json: models[0].micro_batch: expected an integer of at least 1, got 0");
  EXPECT_EQ(usage_error(parse(R"({"models":[{"model":"gpt","micro_batch":1,"nodes":2}]})")),
            "plan p.json: models[0].model: expected one of llama2-13b, llama2-70b, llama2-7b, tiny, tiny-gqa, got \"gpt\"");
  EXPECT_EQ(usage_error(parse(R"({"defaults":{"stepz":3},"models":[]})")),
            "plan p.json: defaults.stepz: unknown key (known: activation_checkpointing, data, device, engine, env, "
            "extra_args, grad_accum, micro_batch, nodes, offload_optimizer, precision, ranks_per_node, seq_len, "
            "steps, timeout_s, warmup_steps, zero_stage)");
  EXPECT_EQ(usage_error(parse(R"({"models":[{"model":"tiny","micro_batch":1,"nodes":1,"steps":5,"warmup_steps":5}]})")),
            "plan p.json: models[0].warmup_steps: must be less than steps (5), got 5");
  EXPECT_EQ(usage_error(parse(R"({"models":[]})")), "plan p.json: models: expected a non-empty list of model entries");
  EXPECT_EQ(usage_error(parse(R"({"models":[{"model":"tiny","micro_batch":1,"nodes":1,"engine":"megatron"}]})")),
            "plan p.json: models[0].engine: expected one of auto, ddp, deepspeed, fsdp, got \"megatron\"");
}

TEST(Inventory, ParsesHostsTagsAndExclusions) {
  auto inv = parse_inventory(R"({"hosts":[{"name":"a","address":"10.0.0.1","gpus":8,"tags":["h200"]},
      {"name":"b","address":"10.0.0.2","gpus":8,"exclude":"half speed"}]})", "h.json");
  ASSERT_EQ(inv.hosts.size(), 2u);
  EXPECT_EQ(inv.hosts[0].tags, std::vector<std::string>{"h200"});
  EXPECT_TRUE(inv.hosts[1].exclude);
  EXPECT_EQ(inv.hosts[1].exclude_reason, "half speed");
}

TEST(Inventory, RejectsBadEntriesInOneLine) {
  auto parse = [](const char* text) { return [=] { parse_inventory(text, "h.json"); }; };
  EXPECT_EQ(usage_error(parse(R"({"hosts":[{"name":"a","address":"x","gpus":-1}]})")),
            "hosts h.json: hosts[0]: a: gpus: expected an integer 0..1024");
  EXPECT_EQ(usage_error(parse(R"({"hosts":[{"name":"a","address":"x","gpus":1},{"name":"a","address":"y","gpus":1}]})")),
            "hosts h.json: hosts[1]: name 'a' appears twice");
  EXPECT_EQ(usage_error(parse(R"({"hosts":[{"name":"a b","address":"x","gpus":1}]})")),
            "hosts h.json: hosts[0]: name 'a b': no spaces, commas, quotes or shell characters");
  EXPECT_EQ(usage_error(parse(R"({"hosts":[{"name":"a","address":"x","gpus":1,"rack":3}]})")),
            "hosts h.json: hosts[0]: unknown key 'rack' (known: name, address, gpus, tags, exclude)");
  EXPECT_EQ(usage_error(parse(R"([])")),
            "hosts h.json: expected {\"hosts\": [{\"name\", \"address\", \"gpus\"}, ...]}");
}

TEST(NcclEnv, ParsesExportLinesCommentsAndQuotes) {
  auto env = parse_nccl_env("# from sxcoll tune\n\nexport NCCL_IB_HCA=mlx5_0:1,mlx5_1:1\n"
                            "export NCCL_SOCKET_IFNAME='eth0'  # the rail\nexport NCCL_DEBUG=\"WARN\"\n",
                            "n.sh");
  ASSERT_EQ(env.vars.size(), 3u);
  EXPECT_EQ(env.vars[0], (std::pair<std::string, std::string>{"NCCL_IB_HCA", "mlx5_0:1,mlx5_1:1"}));
  EXPECT_EQ(env.vars[1].second, "eth0");
  EXPECT_EQ(env.vars[2].second, "WARN");
}

TEST(NcclEnv, RejectsAnythingElse) {
  auto parse = [](const char* text) { return [=] { parse_nccl_env(text, "n.sh"); }; };
  EXPECT_EQ(usage_error(parse("NCCL_IB_HCA=mlx5_0\n")),
            "--nccl-env n.sh:1: expected 'export NAME=value' or a comment: 'NCCL_IB_HCA=mlx5_0'");
  EXPECT_EQ(usage_error(parse("export A=1\nrm -rf /\n")),
            "--nccl-env n.sh:2: expected 'export NAME=value' or a comment: 'rm -rf /'");
  EXPECT_EQ(usage_error(parse("export A=$HOME\n")),
            "--nccl-env n.sh:1: a bare value holds no spaces, quotes or shell characters; quote it, and nothing is "
            "expanded: 'export A=$HOME'");
  EXPECT_EQ(usage_error(parse("export A=1\nexport A=2\n")), "--nccl-env n.sh:2: A is set twice: 'export A=2'");
}

TEST(WorkerMetrics, ReadsConfigSummaryAndError) {
  auto m = parse_worker_metrics(
      "{\"schema\": 1, \"type\": \"config\", \"model\": \"tiny\"}\n"
      "{\"schema\": 1, \"type\": \"step\", \"step\": 1}\nnot json\n"
      "{\"schema\": 1, \"type\": \"summary\", \"tokens_per_s\": 100.5, \"mfu\": null}\n");
  ASSERT_TRUE(m.config && m.summary);
  EXPECT_EQ(m.steps, 1u);
  EXPECT_EQ(m.problems.size(), 1u);
  EXPECT_EQ(number(*m.summary, "tokens_per_s"), 100.5);
  EXPECT_FALSE(number(*m.summary, "mfu"));
}

TEST(GpuSamples, ParsesNvidiaSmiCsvWithLauncherLabels) {
  auto s = parse_gpu_samples("0, 90, 1000, 143771, 500.5\ngpu-a01: 1, 70, 3000, 143771, [N/A]\n"
                             "[1,0]<stdout>:0, 80, 2000, 143771, 400.5\ngarbage\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->samples, 3u);
  EXPECT_DOUBLE_EQ(s->utilization_mean_pct, 80.0);
  EXPECT_DOUBLE_EQ(s->memory_used_max_mib, 3000.0);
  EXPECT_DOUBLE_EQ(s->power_mean_w, 450.5);
  EXPECT_FALSE(parse_gpu_samples("No devices were found\n"));
}

TEST(Stragglers, NamesTheSlowRankAndItsHost) {
  auto config = nlohmann::json{{"device_type", "cuda"},
                               {"rank_hosts", {"a", "a", "b", "b"}},
                               {"rank_matmul_tflops", {800.0, 798.0, 401.0, 801.0}}};
  auto summary = nlohmann::json{{"rank_step_time_mean_s", {1.0, 1.0, 1.0, 1.2}}};
  auto found = find_stragglers(config, summary);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], "rank 3 on b: mean step 1.200 s, 20 % above the median 1.000 s");
  EXPECT_EQ(found[1], "rank 2 on b: matmul probe 401.0 TFLOP/s, 50 % below the median 799.0");
}

}  // namespace
}  // namespace sxcoll::sft
