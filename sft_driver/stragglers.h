// Names the slow rank (and its host): per-rank step-time spread, and the per-rank matmul
// probe that the worker runs before training (FSDP makes every rank wait for the slowest,
// so the probe is what names a slow GPU).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sxcoll::sft {

struct StragglerRule {
  double step_spread = 0.05;   // a rank's mean step time this far above the median
  double probe_deficit = 0.10;  // a rank's matmul rate this far below the median
};

std::vector<std::string> find_stragglers(const nlohmann::json& config, const nlohmann::json& summary,
                                         StragglerRule rule = {});

}  // namespace sxcoll::sft
