// results/<timestamp>/: one folder per sweep, never reused; per-run status written at once.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sxcoll::sft {

class ResultsDir {
 public:
  // base/<YYYYmmdd-HHMMSS>[-k], created fresh: an existing folder is never written into.
  static ResultsDir create(const std::string& base);
  // An existing sweep folder (it holds sweep.json), for --resume and --report-only.
  static ResultsDir open(const std::string& dir);

  const std::string& path() const { return path_; }
  std::string run_path(const std::string& run_id) const { return path_ + "/runs/" + run_id; }

  std::optional<nlohmann::json> read_status(const std::string& run_id) const;
  void write_status(const std::string& run_id, const nlohmann::json& status) const;
  // runs/<id>/attempt-<k>, created fresh.
  std::string make_attempt_dir(const std::string& run_id, int attempt) const;

  // Writes through a temporary file and rename: a reader sees the old or the new file, whole.
  void write_file(const std::string& relative, const std::string& content) const;

 private:
  explicit ResultsDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

std::string read_text(const std::string& path);  // "" when missing
std::string utc_now();                          // ISO 8601

}  // namespace sxcoll::sft
