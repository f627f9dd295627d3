// Where the trials meet the search: a trial already in the trials file is reused, a new one
// runs if the budget allows (killed where the budget ends, not recorded then), every one is
// appended to the file and reported on the terminal as it ends.
#pragma once

#include <atomic>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "transport/deadline.h"
#include "tuner/search.h"
#include "tuner/trial_runner.h"
#include "tuner/trial_store.h"
#include "tuner/tuner.h"
#include "tuner/workload.h"

namespace sxcoll::tune {

class TrialSession final : public TrialSource {
 public:
  // `defaults`: what progress lines leave out; `stop`: Ctrl-C, polled during trials.
  TrialSession(const TrialPlan& plan, const Workload& workload, TrialStore& store, const TuneOptions& options,
               const Settings& defaults, std::string raw_dir, std::ostream& out, const std::atomic<bool>& stop);

  std::optional<Sample> measure(const Settings& settings, int rep) override;
  bool affordable(const Settings& settings, int reps) override;

  // The same over another size sweep (the cost model's trials), without the reserve.
  bool affordable(const Settings& settings, int reps, size_t min_bytes, size_t max_bytes) const;
  // Repetitions 0..reps-1 of `settings` over that sweep not yet in the trials file.
  int missing(const Settings& settings, int reps, size_t min_bytes, size_t max_bytes) const;
  // Whether `trials` new trials fit in what is left of the budget.
  bool fits(int trials) const;
  // Trials the search leaves to the budget (for the confirmation run).
  void set_reserve(int trials) { reserve_ = trials; }
  // The record of trial `rep` (of `reps`) of `settings`, from the file or run now; nullptr
  // when the run must stop. `label` prefixes the progress line.
  const TrialRecord* trial(const Settings& settings, int rep, int reps, size_t min_bytes, size_t max_bytes,
                           const std::string& label);

  // What makes two trials the same measurement (its dump is the trials file's key).
  nlohmann::json config(const Settings& settings, size_t min_bytes, size_t max_bytes) const;
  Sample sample_of(const TrialRecord& r) const;

  double elapsed_s() const;
  bool interrupted() const { return interrupted_; }
  bool budget_spent() const { return budget_spent_; }
  size_t fresh() const { return fresh_; }
  size_t reused() const { return reused_.size(); }

 private:
  std::string result_text(const TrialRecord& r) const;
  std::string progress_prefix() const;

  const TrialPlan& plan_;
  const Workload& workload_;
  TrialStore& store_;
  const TuneOptions& options_;
  const Settings& defaults_;
  std::string raw_dir_;
  std::ostream& out_;
  const std::atomic<bool>& stop_;
  Deadline budget_;
  Clock::time_point started_;
  int next_raw_ = 1;
  int reserve_ = 0;
  size_t fresh_ = 0;
  std::set<const TrialRecord*> reused_;  // from the file (a model trial is also the search's)
  bool interrupted_ = false, budget_spent_ = false;
};

// UTC now, through strftime's `format`.
std::string utc_time(const char* format);
// 75.4 -> "1:15".
std::string clock_text(double seconds);

}  // namespace sxcoll::tune
