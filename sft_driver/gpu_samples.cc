#include "sft_driver/gpu_samples.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace sxcoll::sft {

namespace {

std::optional<double> to_number(std::string s) {
  size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  if (b == std::string::npos) return std::nullopt;
  s = s.substr(b, e - b + 1);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') return std::nullopt;  // "[N/A]", "[Not Supported]"
  return v;
}

}  // namespace

std::optional<GpuSampleStats> parse_gpu_samples(const std::string& text) {
  GpuSampleStats s;
  double util_sum = 0, power_sum = 0;
  size_t power_n = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // mpirun --tag-output writes "[job,rank]<stdout>:", whose comma is not a CSV field's.
    if (!line.empty() && line[0] == '[' && line.find(">:") != std::string::npos) line = line.substr(line.find(">:") + 2);
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string item; std::getline(ls, item, ',');) f.push_back(item);
    if (f.size() != 5) continue;
    // The first field is "[label: ]index": drop the launcher's label.
    size_t colon = f[0].rfind(':');
    if (colon != std::string::npos) f[0] = f[0].substr(colon + 1);
    auto index = to_number(f[0]), util = to_number(f[1]), used = to_number(f[2]), total = to_number(f[3]);
    if (!index || !util || !used || !total) continue;
    ++s.samples;
    util_sum += *util;
    s.memory_used_max_mib = std::max(s.memory_used_max_mib, *used);
    s.memory_total_mib = std::max(s.memory_total_mib, *total);
    if (auto p = to_number(f[4])) {
      power_sum += *p;
      ++power_n;
    }
  }
  if (s.samples == 0) return std::nullopt;
  s.utilization_mean_pct = util_sum / static_cast<double>(s.samples);
  s.power_mean_w = power_n ? power_sum / static_cast<double>(power_n) : 0;
  return s;
}

std::optional<GpuSampleStats> read_gpu_samples(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_gpu_samples(ss.str());
}

}  // namespace sxcoll::sft
