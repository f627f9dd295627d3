#include "sft_driver/results_dir.h"

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::sft {

namespace fs = std::filesystem;

namespace {

std::string stamp(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string utc_now() { return stamp("%Y-%m-%dT%H:%M:%SZ"); }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  return ss.str();
}

ResultsDir ResultsDir::create(const std::string& base) {
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) throw UsageError(fmt::format("--results {}: cannot create: {}", base, ec.message()));
  const std::string name = stamp("%Y%m%d-%H%M%S");
  for (int k = 1; k < 1000; ++k) {
    std::string path = base + "/" + name + (k > 1 ? fmt::format("-{}", k) : "");
    if (::mkdir(path.c_str(), 0755) == 0) {
      for (const char* sub : {"runs", "metrics", "reports", "inputs"}) fs::create_directory(path + "/" + sub);
      return ResultsDir(path);
    }
    if (errno != EEXIST) throw RunError(fmt::format("cannot create {}: {}", path, errno_text(errno)));
  }
  throw RunError(fmt::format("{}: no free folder name for {}", base, name));
}

ResultsDir ResultsDir::open(const std::string& dir) {
  if (!fs::is_regular_file(dir + "/sweep.json"))
    throw UsageError(fmt::format("{}: not a sweep folder of sxcoll sft (no sweep.json)", dir));
  return ResultsDir(dir);
}

std::optional<nlohmann::json> ResultsDir::read_status(const std::string& run_id) const {
  std::string text = read_text(run_path(run_id) + "/status.json");
  if (text.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

void ResultsDir::write_status(const std::string& run_id, const nlohmann::json& status) const {
  fs::create_directories(run_path(run_id));
  write_file("runs/" + run_id + "/status.json", status.dump(2) + "\n");
}

std::string ResultsDir::make_attempt_dir(const std::string& run_id, int attempt) const {
  fs::create_directories(run_path(run_id));
  std::string dir = fmt::format("{}/attempt-{}", run_path(run_id), attempt);
  if (::mkdir(dir.c_str(), 0755) != 0) throw RunError(fmt::format("cannot create {}: {}", dir, errno_text(errno)));
  return dir;
}

void ResultsDir::write_file(const std::string& relative, const std::string& content) const {
  const std::string target = path_ + "/" + relative;
  fs::create_directories(fs::path(target).parent_path());
  const std::string tmp = target + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    out.flush();
    if (!out) throw RunError(fmt::format("cannot write {}", tmp));
  }
  fs::rename(tmp, target);
}

}  // namespace sxcoll::sft
