#include "tuner/trial_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::tune {

nlohmann::json TrialRecord::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : sizes)
    rows.push_back(
        {{"size_bytes", s.bytes}, {"busbw_gbps", s.busbw_gbps}, {"time_us", s.time_us}, {"algorithm", s.algorithm}});
  return {{"config", config},
          {"rep", rep},
          {"status", status},
          {"results", rows},
          {"ranks", ranks},
          {"rails", rails},
          {"engine_detail", engine_detail},
          {"duration_s", duration_s},
          {"started_at", started_at},
          {"error", error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error)},
          {"command", command},
          {"raw", raw}};
}

TrialRecord TrialRecord::from_json(const nlohmann::json& j) {
  TrialRecord r;
  r.config = j.at("config");
  r.rep = j.at("rep").get<int>();
  r.status = j.at("status").get<std::string>();
  for (const auto& row : j.at("results"))
    r.sizes.push_back({row.at("size_bytes").get<size_t>(), row.at("busbw_gbps").get<double>(),
                       row.at("time_us").get<double>(), row.value("algorithm", "")});
  r.ranks = j.value("ranks", 0);
  r.rails = j.value("rails", 0);
  r.engine_detail = j.value("engine_detail", "");
  r.duration_s = j.value("duration_s", 0.0);
  r.started_at = j.value("started_at", "");
  if (j.contains("error") && j["error"].is_string()) r.error = j["error"].get<std::string>();
  r.command = j.value("command", "");
  r.raw = j.value("raw", "");
  return r;
}

TrialStore::TrialStore(std::string path) : path_(std::move(path)) {
  std::string text;
  {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    try {
      if (j.is_discarded()) throw std::runtime_error("not JSON");
      TrialRecord r = TrialRecord::from_json(j);
      r.from_file = true;
      add(std::move(r));
      ++loaded_;
    } catch (const std::exception&) {
      ++bad_lines_;
    }
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UsageError(fmt::format("{}: cannot open for appending: {}", path_, errno_text(errno)));
  // A line cut short by a crash ends without a newline: the next trial starts a line of its own.
  if (!text.empty() && text.back() != '\n' && ::write(fd_, "\n", 1) != 1)
    throw RunError(fmt::format("{}: write failed: {}", path_, errno_text(errno)));
}

TrialStore::~TrialStore() {
  if (fd_ >= 0) ::close(fd_);
}

const TrialRecord& TrialStore::add(TrialRecord record) {
  // Only finished measurements are reused: a failed or timed-out trial runs again on a rerun
  // (the cause may be fixed), and stays in the file as evidence. The first success stands.
  auto key = std::make_pair(record.key(), record.rep);
  const bool reusable = record.ok() && index_.count(key) == 0;
  records_.push_back(std::move(record));
  if (reusable) index_[key] = records_.size() - 1;
  return records_.back();
}

const TrialRecord* TrialStore::find(const std::string& key, int rep) const {
  auto it = index_.find({key, rep});
  return it == index_.end() ? nullptr : &records_[it->second];
}

const TrialRecord& TrialStore::append(const TrialRecord& record) {
  const std::string line = record.to_json().dump() + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw RunError(fmt::format("{}: write failed: {}", path_, errno_text(errno)));
    done += static_cast<size_t>(n);
  }
  ::fsync(fd_);
  return add(record);
}

}  // namespace sxcoll::tune
