#include "bench/validate_state.h"

#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench {

namespace fs = std::filesystem;

StateFile::StateFile(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) return;
  fs::create_directories(dir_);
  std::ifstream in(path());
  if (!in) return;
  try {
    state_ = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("--out {}: state.json is not valid JSON ({}); remove it to start afresh", dir_, e.what()));
  }
}

void StateFile::save() {
  if (dir_.empty()) return;
  const std::string tmp = path() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state_.dump(1) << '\n';
    if (!out) throw RunError(fmt::format("cannot write {}", tmp));
  }
  fs::rename(tmp, path());
}

std::string link_key(const std::string& rail, const std::string& a, const std::string& b) {
  return a < b ? fmt::format("{} {} {}", rail, a, b) : fmt::format("{} {} {}", rail, b, a);
}

}  // namespace sxcoll::bench
