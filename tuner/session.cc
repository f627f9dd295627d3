#include "tuner/session.h"

#include <cmath>
#include <ctime>
#include <filesystem>

#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

namespace sxcoll::tune {

namespace {

namespace fs = std::filesystem;

const Knob* knob_named(const std::vector<Knob>& knobs, const std::string& name) {
  for (const auto& k : knobs)
    if (k.name == name) return &k;
  return nullptr;
}

// "--nsocks=4 --buffsize=8M", or "defaults": what differs from the defaults.
std::string settings_text(const Settings& s, const Settings& defaults, const std::vector<Knob>& knobs) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : s) {
    auto d = defaults.find(name);
    if (d != defaults.end() && d->second == value) continue;
    const Knob* k = knob_named(knobs, name);
    parts.push_back(fmt::format("{}={}", name, k ? display_value(*k, value) : value));
  }
  return parts.empty() ? "defaults" : fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace

std::string utc_time(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string clock_text(double seconds) {
  const long s = std::lround(seconds);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

TrialSession::TrialSession(const TrialPlan& plan, const Workload& workload, TrialStore& store,
                           const TuneOptions& options, const Settings& defaults, std::string raw_dir, std::ostream& out,
                           const std::atomic<bool>& stop)
    : plan_(plan),
      workload_(workload),
      store_(store),
      options_(options),
      defaults_(defaults),
      raw_dir_(fs::absolute(raw_dir).string()),
      out_(out),
      stop_(stop),
      budget_(options.budget),
      started_(Clock::now()) {
  // Absolute: under a launcher, rank 0 writes the bench JSON from wherever it runs (a shared
  // file system). Raw files are numbered on from the last run's: evidence is never replaced.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(raw_dir_, ec)) {
    const std::string name = e.path().stem().string();
    if (name.rfind("trial-", 0) == 0) next_raw_ = std::max(next_raw_, std::atoi(name.c_str() + 6) + 1);
  }
}

std::optional<Sample> TrialSession::measure(const Settings& settings, int rep) {
  const TrialRecord* r =
      trial(settings, rep, options_.search.repeats, workload_.min_bytes(), workload_.max_bytes(), "");
  if (r == nullptr) return std::nullopt;
  return sample_of(*r);
}

int TrialSession::missing(const Settings& settings, int reps, size_t min_bytes, size_t max_bytes) const {
  const std::string key = config(settings, min_bytes, max_bytes).dump();
  int n = 0;
  for (int rep = 0; rep < reps; ++rep) n += store_.find(key, rep) == nullptr ? 1 : 0;
  return n;
}

bool TrialSession::affordable(const Settings& settings, int reps) {
  const int n = missing(settings, reps, workload_.min_bytes(), workload_.max_bytes());
  return n == 0 || fits(n + reserve_);
}

bool TrialSession::affordable(const Settings& settings, int reps, size_t min_bytes, size_t max_bytes) const {
  const int n = missing(settings, reps, min_bytes, max_bytes);
  return n == 0 || fits(n);
}

bool TrialSession::fits(int trials) const {
  if (budget_.expired()) return false;
  // The mean duration of the trials so far (this run's and the file's) predicts the next ones.
  double sum = 0;
  int n = 0;
  for (const auto& r : store_.records())
    if (r.ok()) {
      sum += r.duration_s;
      ++n;
    }
  if (n == 0) return true;
  return sum / n * trials <= budget_.remaining().count() / 1000.0;
}

nlohmann::json TrialSession::config(const Settings& settings, size_t min_bytes, size_t max_bytes) const {
  nlohmann::json sizes = nlohmann::json::array();
  for (size_t s = min_bytes; s <= max_bytes; s *= 2) sizes.push_back(s);
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [k, v] : plan_.fixed_env) env[k] = v;
  return {{"engine", engine_name(plan_.engine)},
          {"transport", plan_.transport},
          {"memory", plan_.memory},
          {"settings", settings},
          {"sizes", sizes},
          {"ranks", plan_.np},
          {"launch", options_.launch},
          {"iters", plan_.iters},
          {"warmup", plan_.warmup},
          {"check", plan_.check},
          {"dtype", plan_.dtype},
          {"env", env}};
}

std::string TrialSession::progress_prefix() const {
  return fmt::format("[{} / {}]", clock_text(elapsed_s()), clock_text(options_.budget.count() / 1000.0));
}

const TrialRecord* TrialSession::trial(const Settings& settings, int rep, int reps, size_t min_bytes,
                                       size_t max_bytes, const std::string& label) {
  const nlohmann::json cfg = config(settings, min_bytes, max_bytes);
  const std::string what =
      fmt::format("{}{} rep {}/{}", label, settings_text(settings, defaults_, plan_.knobs), rep + 1, reps);
  if (const TrialRecord* r = store_.find(cfg.dump(), rep)) {
    if (r->from_file) reused_.insert(r);
    fmt::print(out_, "{} {}  {}: {}\n", progress_prefix(), r->from_file ? "reused" : "same as above", what,
               result_text(*r));
    out_.flush();
    return r;
  }
  if (stop_.load()) {
    interrupted_ = true;
    return nullptr;
  }
  if (budget_.expired()) {
    budget_spent_ = true;
    return nullptr;
  }
  const auto remaining = budget_.remaining();
  const bool budget_limits = remaining < options_.trial_timeout;
  const std::string raw = fmt::format("trial-{:04}", next_raw_++);
  fmt::print(out_, "{} trial {}  {}: ", progress_prefix(), fresh_ + 1, what);
  out_.flush();
  const std::string started_at = utc_time("%Y-%m-%dT%H:%M:%SZ");
  TrialResult res =
      run_trial(plan_, settings, min_bytes, max_bytes, raw_dir_ + "/" + raw,
                budget_limits ? remaining : options_.trial_timeout, budget_limits, [this] { return stop_.load(); });
  if (res.status == "stopped") {
    fmt::print(out_, "stopped (Ctrl-C), not recorded\n");
    interrupted_ = true;
    return nullptr;
  }
  if (res.status == "cut") {
    fmt::print(out_, "stopped: the budget ran out, not recorded\n");
    budget_spent_ = true;
    return nullptr;
  }
  TrialRecord r;
  r.config = cfg;
  r.rep = rep;
  r.status = res.status;
  r.sizes = res.bench.sizes;
  r.ranks = res.bench.ranks;
  r.rails = res.bench.rails;
  r.engine_detail = res.bench.engine_detail;
  r.duration_s = res.seconds;
  r.started_at = started_at;
  r.error = res.error;
  r.command = res.command;
  r.raw = "raw/" + raw;
  const TrialRecord& stored = store_.append(r);
  ++fresh_;
  fmt::print(out_, "{} ({:.1f} s)\n", result_text(stored), res.seconds);
  out_.flush();
  return &stored;
}

Sample TrialSession::sample_of(const TrialRecord& r) const {
  Sample s;
  s.sizes = r.sizes;
  s.ok = r.ok();
  s.error = r.error;
  if (s.ok) {
    s.score = workload_busbw(workload_, r.sizes);
    if (!(s.score > 0)) {
      s.ok = false;
      s.error = "the bench results miss a size of the workload";
    }
  }
  return s;
}

std::string TrialSession::result_text(const TrialRecord& r) const {
  if (!r.ok()) return fmt::format("{}: {}", r.status == "timeout" ? "TIMEOUT" : "FAILED", r.error);
  const double score = workload_busbw(workload_, r.sizes);
  return score > 0 ? fmt::format("{:.3f} GB/s", score) : fmt::format("{} sizes", r.sizes.size());
}

double TrialSession::elapsed_s() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

}  // namespace sxcoll::tune
