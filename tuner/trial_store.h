// The trials file: one JSON line per finished trial, appended and flushed as each ends, so
// that Ctrl-C or a crash loses at most the trial in flight. A rerun with the same folder
// reads it back and reuses every successful trial whose configuration and repetition match;
// failed ones are kept as evidence and run again.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tuner/sample.h"

namespace sxcoll::tune {

struct TrialRecord {
  // What makes two trials the same measurement: engine, transport, knob settings, sizes,
  // ranks (or the launcher's command), iterations, data type. Its dump is the key.
  nlohmann::json config;
  int rep = 0;         // repetition of this configuration, from 0
  std::string status;  // "ok", "failed", "timeout"
  std::vector<SizeSample> sizes;
  int ranks = 0;
  int rails = 0;  // links of rank 0 as the bench JSON names them (0: none named)
  std::string engine_detail;
  double duration_s = 0;
  std::string started_at;  // UTC, ISO 8601
  std::string error;       // status != ok: the trial's last line on stderr, or why it was killed
  std::string command;     // as one could paste it
  std::string raw;         // raw/<name>: the bench JSON, stdout and stderr of the trial
  bool from_file = false;  // read at open (an earlier run), not run by this one; not stored

  std::string key() const { return config.dump(); }
  bool ok() const { return status == "ok"; }
  nlohmann::json to_json() const;
  static TrialRecord from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
};

class TrialStore {
 public:
  // Opens `path` for appending (creating it) and reads the trials already there. A line that
  // does not parse (a crash can cut the last one short) is skipped and counted.
  explicit TrialStore(std::string path);
  ~TrialStore();
  TrialStore(const TrialStore&) = delete;
  TrialStore& operator=(const TrialStore&) = delete;

  // The successful trial of this configuration and repetition, or nullptr. Pointers stay
  // valid for the store's life (appends do not move records).
  const TrialRecord* find(const std::string& key, int rep) const;
  // One write(2) of the whole line, then fsync: the line is in the file when this returns.
  const TrialRecord& append(const TrialRecord& record);

  const std::string& path() const { return path_; }
  size_t loaded() const { return loaded_; }        // lines read at open (any status)
  size_t bad_lines() const { return bad_lines_; }  // lines skipped at open
  size_t reusable() const { return index_.size(); }
  const std::deque<TrialRecord>& records() const { return records_; }

 private:
  const TrialRecord& add(TrialRecord record);
  std::string path_;
  int fd_ = -1;
  size_t loaded_ = 0, bad_lines_ = 0;
  std::deque<TrialRecord> records_;
  std::map<std::pair<std::string, int>, size_t> index_;
};

}  // namespace sxcoll::tune
