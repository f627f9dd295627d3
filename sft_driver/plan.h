// The sweep plan: one JSON file, models x node counts x micro-batches, every field checked.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sxcoll::sft {

// One training run of the sweep, fully resolved from the plan's defaults and model entry.
struct RunSpec {
  std::string id;          // "llama2-7b-n2-mb8": the run's folder name
  std::string model;       // the worker's --model
  std::string model_size;  // "7B", "13B", "70B", "tiny"
  int nodes = 1;
  int ranks_per_node = 1;
  int micro_batch = 1;
  int grad_accum = 1;
  int seq_len = 4096;
  int steps = 20;
  int warmup_steps = 5;
  std::string precision = "bf16";
  bool activation_checkpointing = false;
  std::string engine = "fsdp";  // fsdp | ddp | auto | deepspeed
  int zero_stage = 3;              // deepspeed: ZeRO stage 2 or 3
  bool offload_optimizer = false;  // deepspeed: ZeRO-Offload of the optimizer to the CPU
  std::string device = "auto";
  std::string data = "synthetic";
  double timeout_s = 7200;
  std::map<std::string, std::string> env;  // added to every rank's environment
  std::vector<std::string> extra_args;     // appended to the worker's flags

  int world_size() const { return nodes * ranks_per_node; }
  // "fsdp", "ddp", "auto", or "deepspeed ZeRO-3" (+ " + optimizer offload"): what reports show.
  std::string engine_label() const;
};

struct SweepPlan {
  std::string name;
  std::string python = "python3";
  int max_attempts = 2;
  int master_port = 29500;
  std::vector<RunSpec> runs;  // in plan order
  nlohmann::json source;      // the file as read, recorded with the results
};

// Parses and validates; any problem is a UsageError of one line naming the file and field.
SweepPlan parse_plan(const nlohmann::json& j, const std::string& origin);
SweepPlan load_plan(const std::string& path);

// The shipped default: the seeds' Llama-2 matrix (sft_driver/plans/llama2-sweep.json).
const char* default_plan_text();

// The worker's flags for a run (after `python -m sxcoll_worker`).
std::vector<std::string> worker_args(const RunSpec& run, const std::string& metrics_path);

// Where a DeepSpeed run's config lives: ds_config.json beside the attempt's metrics file.
std::string deepspeed_config_path(const std::string& metrics_path);

}  // namespace sxcoll::sft
