// The worker's JSON lines (schema 1, sft_driver/worker/README.md): config, step, summary, error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sxcoll::sft {

struct WorkerMetrics {
  std::optional<nlohmann::json> config;
  std::optional<nlohmann::json> summary;  // steady state: the only numbers the report uses
  std::optional<nlohmann::json> error;
  size_t steps = 0;
  std::vector<std::string> problems;  // lines that were not schema-1 JSON
};

WorkerMetrics parse_worker_metrics(const std::string& text);
WorkerMetrics read_worker_metrics(const std::string& path);  // empty when the file is missing

// A number from a JSON object, nullopt when absent or null.
std::optional<double> number(const nlohmann::json& j, const char* key);

}  // namespace sxcoll::sft
