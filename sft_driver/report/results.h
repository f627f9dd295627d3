// A sweep folder read back: what every run's status, metrics and GPU samples say. The report
// is a function of the folder alone, so `sxcoll sft --report-only DIR` can remake it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sft_driver/gpu_samples.h"
#include "sft_driver/results_dir.h"
#include "sft_driver/worker_metrics.h"

namespace sxcoll::sft {

struct RunRow {
  std::string id, status, message, model, model_size, attempt_dir;
  std::string engine = "fsdp";  // RunSpec::engine_label(): "fsdp", "deepspeed ZeRO-3", ...
  int nodes = 0, ranks = 0, micro_batch = 0, grad_accum = 0, seq_len = 0, attempts = 0;
  int gpus = 0;  // the worker's n_gpus: 0 on a CPU run
  WorkerMetrics metrics;
  std::string gpu_sampling;  // "nvidia-smi" or why not
  std::optional<GpuSampleStats> gpu;
  std::optional<double> samples_per_s, tokens_per_s, tokens_per_s_per_gpu, mfu;
  std::optional<double> peak_mem_bytes, mem_total_bytes, headroom_bytes;
  std::vector<std::string> stragglers;

  bool ok() const { return status == "ok" && tokens_per_s.has_value(); }
  // GPUs, or ranks when the run had none: the divisor of "per GPU".
  int divisor() const { return gpus > 0 ? gpus : ranks; }
};

struct SweepResults {
  std::string dir;
  nlohmann::json sweep;  // sweep.json: plan, launcher, NCCL settings, hosts, fabric
  std::vector<RunRow> runs;  // in plan order
  bool any_gpu() const;
};

SweepResults load_results(const ResultsDir& dir);

}  // namespace sxcoll::sft
