#include "bench/validate.h"

#include <cmath>
#include <filesystem>

#include <fmt/core.h>

#include "bench/harness.h"
#include "bench/validate_run.h"
#include "transport/error.h"

namespace sxcoll::bench {

namespace fs = std::filesystem;

double parse_percent(const std::string& text, const std::string& flag) {
  std::string t = text;
  while (!t.empty() && (t.back() == '%' || t.back() == ' ')) t.pop_back();
  size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (t.empty() || used != t.size() || !(v > 0 && v < 100))
    throw UsageError(fmt::format("{} '{}': expected a percentage between 0 and 100, e.g. 10 or 10%", flag, text));
  return v / 100;
}

void validate(const ValidateOptions& v) {
  if (!(v.threshold > 0 && v.threshold < 1))
    throw UsageError(fmt::format("--validate-threshold {}: must be between 0 and 100 %", v.threshold * 100));
  if (!v.out_dir.empty()) {
    fs::path parent = fs::path(v.out_dir).parent_path();
    if (parent.empty()) parent = ".";
    if (!fs::is_directory(parent))
      throw UsageError(fmt::format("--out {}: directory {} does not exist", v.out_dir, parent.string()));
    if (fs::exists(v.out_dir) && !fs::is_directory(v.out_dir))
      throw UsageError(fmt::format("--out {}: exists and is not a directory", v.out_dir));
  }
  if (!v.hosts_out.empty()) {
    if (fs::exists(v.hosts_out))
      throw UsageError(fmt::format("--hosts-out {}: the file exists; results are never overwritten", v.hosts_out));
    fs::path parent = fs::path(v.hosts_out).parent_path();
    if (!parent.empty() && !fs::is_directory(parent))
      throw UsageError(fmt::format("--hosts-out {}: directory {} does not exist", v.hosts_out, parent.string()));
  }
}

int run_validate_rank(const BenchOptions& options, const ValidateOptions& validate, const bootstrap::LaunchInfo& launch) {
  return run_rank(options, launch, [&](bootstrap::Bootstrap& boot) { return Validation(options, validate, boot).run(); });
}

}  // namespace sxcoll::bench
