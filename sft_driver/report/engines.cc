#include "sft_driver/report/engines.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/core.h>

#include "sft_driver/report/tables.h"

namespace sxcoll::sft {

std::vector<EngineComparison> compare_engines(const SweepResults& s) {
  using Shape = std::tuple<std::string, int, int, int>;
  std::map<Shape, EngineComparison> groups;
  std::vector<Shape> order;
  for (const auto& r : s.runs) {
    if (!r.ok()) continue;
    const Shape key{r.model, r.seq_len, r.nodes, r.ranks};
    auto [it, fresh] = groups.try_emplace(key, EngineComparison{r.model, r.seq_len, r.nodes, r.ranks, {}});
    if (fresh) order.push_back(key);
    auto& best = it->second.best;
    auto same = std::find_if(best.begin(), best.end(), [&](const RunRow* b) { return b->engine == r.engine; });
    if (same == best.end()) best.push_back(&r);
    else if (*r.tokens_per_s > *(*same)->tokens_per_s) *same = &r;
  }
  std::vector<EngineComparison> out;
  for (const auto& key : order) {
    auto g = groups[key];
    if (g.best.size() < 2) continue;
    // FSDP is the reference the others are measured against, wherever the plan put it.
    std::stable_partition(g.best.begin(), g.best.end(), [](const RunRow* r) { return r->engine == "fsdp"; });
    out.push_back(std::move(g));
  }
  return out;
}

namespace {

std::string config_text(const RunRow& r, const char* key) {
  if (!r.metrics.config || !r.metrics.config->contains(key) || !(*r.metrics.config)[key].is_string()) return "—";
  return (*r.metrics.config)[key].get<std::string>();
}

}  // namespace

std::string engine_comparison_markdown(const SweepResults& s) {
  const auto groups = compare_engines(s);
  if (groups.empty()) return "";
  const std::string per = s.any_gpu() ? "GPU" : "rank";
  std::string md = "## Engine comparison\n\n";
  md += fmt::format("The same shape with each engine (per engine its fastest finished micro-batch); \"vs first\" = "
                    "tokens/s/{} ÷ that of the table's first engine (FSDP where it ran). Same data, seed and "
                    "activation checkpointing; the optimizer as each run's worker reported it.\n\n",
                    per);
  md += fmt::format("| model | seq | nodes | {}s | engine | optimizer | micro-batch | tokens/s/{} | MFU | "
                    "peak memory (GiB) | vs first |\n",
                    per, per);
  md += "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& g : groups) {
    const double first = *g.best.front()->tokens_per_s_per_gpu;
    for (const RunRow* r : g.best)
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} % |\n", g.model, g.seq_len, g.nodes,
                        r->gpus > 0 ? r->gpus : r->ranks, r->engine, config_text(*r, "optimizer"), r->micro_batch,
                        fixed(*r->tokens_per_s_per_gpu, 1), r->mfu ? fixed(*r->mfu * 100, 1) + " %" : "n/a",
                        r->peak_mem_bytes ? gib(*r->peak_mem_bytes) : "—",
                        fixed(100 * *r->tokens_per_s_per_gpu / first, 1));
  }
  return md + "\n";
}

}  // namespace sxcoll::sft
