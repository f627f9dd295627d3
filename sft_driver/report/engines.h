// The engine comparison: where a sweep ran one shape (model, sequence length, nodes, GPUs)
// with several engines (FSDP, DeepSpeed ZeRO-2/3), their best runs side by side.
#pragma once

#include <string>
#include <vector>

#include "sft_driver/report/results.h"

namespace sxcoll::sft {

struct EngineComparison {
  std::string model;
  int seq_len = 0, nodes = 0, ranks = 0;
  std::vector<const RunRow*> best;  // one per engine, highest tokens/s, in plan order; FSDP first
};

// Only shapes with finished runs of two engines or more; empty when there are none.
std::vector<EngineComparison> compare_engines(const SweepResults& results);

// The report's section (a heading, one table, how to read it), or "" without comparisons.
std::string engine_comparison_markdown(const SweepResults& results);

}  // namespace sxcoll::sft
