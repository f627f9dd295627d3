#include "sft_driver/report/results.h"

#include "sft_driver/formulas.h"
#include "sft_driver/plan.h"
#include "sft_driver/stragglers.h"

namespace sxcoll::sft {

bool SweepResults::any_gpu() const {
  for (const auto& r : runs)
    if (r.gpus > 0) return true;
  return false;
}

SweepResults load_results(const ResultsDir& dir) {
  SweepResults s;
  s.dir = dir.path();
  s.sweep = nlohmann::json::parse(read_text(dir.path() + "/sweep.json"));
  for (const auto& id : s.sweep.value("run_ids", std::vector<std::string>{})) {
    RunRow r;
    r.id = id;
    auto status = dir.read_status(id);
    if (!status) {
      r.status = "not run";
      r.message = "the sweep stopped before this run";
      s.runs.push_back(r);
      continue;
    }
    const auto& st = *status;
    const auto spec = st.value("spec", nlohmann::json::object());
    r.status = st.value("status", "unknown");
    r.message = st.value("message", "");
    r.attempts = st.value("attempts", 0);
    r.attempt_dir = st.value("attempt_dir", "");
    r.model = spec.value("model", "");
    r.model_size = spec.value("model_size", "");
    r.nodes = spec.value("nodes", 0);
    r.ranks = spec.value("world_size", 0);
    r.micro_batch = spec.value("micro_batch", 0);
    r.grad_accum = spec.value("grad_accum", 0);
    r.seq_len = spec.value("seq_len", 0);
    RunSpec engine;  // the label from the spec's fields, as the plan named them
    engine.engine = spec.value("engine", "fsdp");
    engine.zero_stage = spec.value("zero_stage", nlohmann::json(3)).is_number() ? spec["zero_stage"].get<int>() : 3;
    engine.offload_optimizer = spec.value("offload_optimizer", false);
    r.engine = engine.engine_label();
    r.gpu_sampling = st.value("gpu_sampling", kNoGpu);
    if (!r.attempt_dir.empty()) {
      const std::string attempt = dir.path() + "/" + r.attempt_dir;
      r.metrics = read_worker_metrics(attempt + "/metrics.jsonl");
      r.gpu = read_gpu_samples(attempt + "/gpu_samples.csv");
    }
    if (r.metrics.summary && r.status == "ok") {
      const auto& sum = *r.metrics.summary;
      r.gpus = static_cast<int>(number(sum, "n_gpus").value_or(0));
      r.samples_per_s = number(sum, "samples_per_s");
      r.tokens_per_s = number(sum, "tokens_per_s");
      if (r.tokens_per_s) r.tokens_per_s_per_gpu = *r.tokens_per_s / r.divisor();
      r.mfu = mfu(number(sum, "flops_per_token").value_or(0), r.tokens_per_s.value_or(0), r.gpus,
                  number(sum, "peak_flops_per_gpu"));
      r.peak_mem_bytes = number(sum, "peak_mem_bytes");
      r.mem_total_bytes = number(sum, "mem_total_bytes");
      r.headroom_bytes = number(sum, "headroom_bytes");
      if (r.metrics.config) r.stragglers = find_stragglers(*r.metrics.config, sum);
    }
    s.runs.push_back(std::move(r));
  }
  return s;
}

}  // namespace sxcoll::sft
