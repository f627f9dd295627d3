#include "sft_driver/stragglers.h"

#include <algorithm>

#include <fmt/core.h>

namespace sxcoll::sft {

namespace {

std::vector<double> numbers(const nlohmann::json& j, const char* key) {
  std::vector<double> out;
  if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return out;
  for (const auto& v : j[key]) {
    if (!v.is_number()) return {};
    out.push_back(v.get<double>());
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string host_of(const nlohmann::json& config, size_t rank) {
  if (config.contains("rank_hosts") && config["rank_hosts"].is_array() && rank < config["rank_hosts"].size() &&
      config["rank_hosts"][rank].is_string())
    return config["rank_hosts"][rank].get<std::string>();
  return "?";
}

}  // namespace

std::vector<std::string> find_stragglers(const nlohmann::json& config, const nlohmann::json& summary,
                                         StragglerRule rule) {
  std::vector<std::string> out;
  auto steps = numbers(summary, "rank_step_time_mean_s");
  if (steps.size() > 1) {
    const double med = median(steps);
    for (size_t r = 0; r < steps.size(); ++r)
      if (med > 0 && steps[r] > med * (1 + rule.step_spread))
        out.push_back(fmt::format("rank {} on {}: mean step {:.3f} s, {:.0f} % above the median {:.3f} s", r,
                                  host_of(config, r), steps[r], 100 * (steps[r] / med - 1), med));
  }
  // The probe is a bf16 GPU matmul: on a CPU run its rates are noise.
  auto probe = numbers(config, "rank_matmul_tflops");
  if (probe.size() > 1 && config.value("device_type", "") == "cuda") {
    const double med = median(probe);
    for (size_t r = 0; r < probe.size(); ++r)
      if (med > 0 && probe[r] < med * (1 - rule.probe_deficit))
        out.push_back(fmt::format("rank {} on {}: matmul probe {:.1f} TFLOP/s, {:.0f} % below the median {:.1f}", r,
                                  host_of(config, r), probe[r], 100 * (1 - probe[r] / med), med));
  }
  return out;
}

}  // namespace sxcoll::sft
