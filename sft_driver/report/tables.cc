#include "sft_driver/report/tables.h"

#include <map>
#include <set>

#include <fmt/core.h>

#include "sft_driver/formulas.h"

namespace sxcoll::sft {

std::string fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }
std::string gib(double bytes) { return fmt::format("{:.2f}", bytes / (1024.0 * 1024 * 1024)); }

namespace {

std::string opt(const std::optional<double>& v, int decimals, const std::string& missing = "") {
  return v ? fixed(*v, decimals) : missing;
}

}  // namespace

std::string performance_csv(const SweepResults& s) {
  std::string out =
      "model_size,nodes,samples_per_sec,gpu_utilization,tokens_per_sec,tokens_per_sec_per_gpu,mfu_pct,"
      "peak_memory_gib,memory_headroom_gib,gpu_memory_used_max_mib,gpu_power_mean_w,model,gpus,ranks,micro_batch,"
      "grad_accum,seq_len,status,run_id,engine\n";
  for (const auto& r : s.runs) {
    std::string util = r.gpu ? fixed(r.gpu->utilization_mean_pct, 1) : r.gpu_sampling;
    std::string mfu_text = r.ok() ? (r.mfu ? fixed(*r.mfu * 100, 2) : "not available (no GPU peak: CPU run)") : "";
    if (!r.ok()) util = "";
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.model_size, r.nodes,
                       opt(r.samples_per_s, 3), util, opt(r.tokens_per_s, 1), opt(r.tokens_per_s_per_gpu, 1),
                       mfu_text, r.peak_mem_bytes ? gib(*r.peak_mem_bytes) : "",
                       r.headroom_bytes ? gib(*r.headroom_bytes) : "",
                       r.gpu ? fixed(r.gpu->memory_used_max_mib, 0) : "",
                       r.gpu ? fixed(r.gpu->power_mean_w, 1) : "", r.model, r.gpus, r.ranks, r.micro_batch,
                       r.grad_accum, r.seq_len, r.status, r.id, r.engine);
  }
  return out;
}

nlohmann::json scaling_analysis(const SweepResults& s) {
  nlohmann::json j;
  j["schema"] = 1;
  j["efficiency"] = "per-GPU tokens/s at N nodes / per-GPU tokens/s at the model's smallest node count";
  j["per_gpu_basis"] = s.any_gpu() ? "GPU" : "rank (CPU run: no GPU)";
  j["selection"] =
      "per model (and sequence length and engine, where a model runs with several) and node count, the finished "
      "run with the highest tokens/s (over micro-batches)";
  j["models"] = nlohmann::json::object();
  // A series is a model at one sequence length: tokens/s at 2048 and at 4096 are not one curve.
  // Nor are two engines' runs: each engine is its own series where a model runs with several.
  std::map<std::string, std::set<int>> seq_lens;
  std::map<std::string, std::set<std::string>> engines;
  for (const auto& r : s.runs) {
    seq_lens[r.model].insert(r.seq_len);
    engines[r.model].insert(r.engine);
  }
  auto series_of = [&](const RunRow& r) {
    std::string series = seq_lens[r.model].size() > 1 ? fmt::format("{} (seq {})", r.model, r.seq_len) : r.model;
    return engines[r.model].size() > 1 ? series + ", " + r.engine : series;
  };
  std::map<std::string, std::map<int, const RunRow*>> best;
  std::vector<std::string> order;
  for (const auto& r : s.runs) {
    const std::string series = series_of(r);
    if (!best.count(series)) order.push_back(series);
    auto& slot = best[series][r.nodes];
    if (r.ok() && (!slot || *r.tokens_per_s > *slot->tokens_per_s)) slot = &r;
  }
  for (const auto& model : order) {
    nlohmann::json m;
    const RunRow* base = nullptr;
    for (const auto& [nodes, row] : best[model])
      if (row && !base) base = row;
    m["baseline_nodes"] = base ? nlohmann::json(base->nodes) : nlohmann::json(nullptr);
    m["nodes"] = nlohmann::json::object();
    for (const auto& [nodes, row] : best[model]) {
      if (!row) {
        m["nodes"][std::to_string(nodes)] = {{"status", "no finished run"}};
        continue;
      }
      const double per = *row->tokens_per_s_per_gpu, base_per = *base->tokens_per_s_per_gpu;
      nlohmann::json n{{"run_id", row->id},
                       {"seq_len", row->seq_len},
                       {"micro_batch", row->micro_batch},
                       {"gpus", row->gpus},
                       {"ranks", row->ranks},
                       {"tokens_per_sec", *row->tokens_per_s},
                       {"samples_per_sec", row->samples_per_s.value_or(0)},
                       {"tokens_per_sec_per_gpu", per},
                       {"ideal_tokens_per_sec", ideal_throughput(base_per, row->divisor())},
                       {"efficiency", scaling_efficiency(per, base_per)}};
      n["mfu"] = row->mfu ? nlohmann::json(*row->mfu) : nlohmann::json(nullptr);
      m["nodes"][std::to_string(nodes)] = n;
    }
    j["models"][model] = m;
  }
  return j;
}

}  // namespace sxcoll::sft
