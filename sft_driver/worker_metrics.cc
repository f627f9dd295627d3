#include "sft_driver/worker_metrics.h"

#include <fstream>
#include <sstream>

namespace sxcoll::sft {

WorkerMetrics parse_worker_metrics(const std::string& text) {
  WorkerMetrics m;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("schema", 0) != 1 || !j.contains("type")) {
      m.problems.push_back("line " + std::to_string(n) + ": not a schema-1 metrics line");
      continue;
    }
    const std::string type = j["type"].is_string() ? j["type"].get<std::string>() : "";
    if (type == "config") m.config = j;
    else if (type == "summary") m.summary = j;
    else if (type == "error") m.error = j;
    else if (type == "step") ++m.steps;
  }
  return m;
}

WorkerMetrics read_worker_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_worker_metrics(ss.str());
}

std::optional<double> number(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

}  // namespace sxcoll::sft
