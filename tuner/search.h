// Coordinate descent from the defaults: one knob at a time, in the table's order, every
// value measured `repeats` times in fresh processes and compared with the current setting;
// a value replaces the current one only when the interval says it is faster by more than
// the noise (and by at least the minimum gain). The interval's level is corrected for the
// number of values of the knob (Bonferroni), since the best of them is the one taken. No full grid: the cost is the sum
// of the knobs' value counts, not their product. Stops when the trial source says so (budget, Ctrl-C).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tuner/knobs.h"
#include "tuner/sample.h"
#include "tuner/stats.h"

namespace sxcoll::tune {

// Where measurements come from: real trials (tuner.h), or a synthetic surface in tests.
class TrialSource {
 public:
  virtual ~TrialSource() = default;
  // Measurement number `rep` (from 0) of `settings`. nullopt: stop, nothing more will be
  // measured (the budget is spent or the run was interrupted).
  virtual std::optional<Sample> measure(const Settings& settings, int rep) = 0;
  // Whether measurements 0..reps-1 of `settings` fit in what is left of the budget
  // (those recorded already cost nothing).
  virtual bool affordable(const Settings& settings, int reps) = 0;
};

struct SearchOptions {
  int repeats = 3;           // fresh processes per setting
  double confidence = 0.95;  // of the interval on the gain, over all the values of one knob
  double min_gain = 0.02;    // smallest gain worth changing a default for
};

struct Candidate {
  std::string value;
  std::vector<Sample> samples;  // in order; a failed one ends the list
  Comparison vs_current;
  std::string failure;  // set when a trial of this value failed: the value is out
};

enum class Verdict {
  Changed,           // a value beat the current one by more than the noise and the minimum gain
  KeptNoDifference,  // no value did
  KeptSlower,        // every value measured was slower, beyond the noise
  KeptFailed,        // every value tried failed
  NotTried,          // the budget ran out (or the run stopped) first
};

struct KnobOutcome {
  Knob knob;
  std::string from;  // the value before this knob was searched
  std::string to;    // after it (== from unless Changed)
  Verdict verdict = Verdict::NotTried;
  std::vector<Candidate> candidates;  // the values measured
  std::optional<size_t> best;         // the candidate with the largest gain (the one taken when Changed)
  bool partial = false;               // the budget ran out before every value was measured
};

struct SearchResult {
  Settings defaults, tuned;
  std::vector<Sample> baseline;  // the defaults' samples
  std::vector<Sample> final;     // the tuned settings' samples (the baseline's when nothing changed)
  std::vector<KnobOutcome> knobs;
  bool baseline_done = false;
  bool stopped = false;  // the source stopped before the search ended
};

std::vector<double> scores(const std::vector<Sample>& samples);

class CoordinateDescent {
 public:
  CoordinateDescent(TrialSource& source, SearchOptions options) : source_(source), options_(options) {}

  // Measures the defaults `repeats` times. False when the source stopped first; RunError
  // when a trial of the defaults fails (there is nothing to tune against).
  bool measure_baseline(const Settings& defaults);
  // Searches the knobs in the given order from the current settings.
  void run(const std::vector<Knob>& knobs);
  const SearchResult& result() const { return result_; }

  // Called after each knob's verdict (progress output).
  std::function<void(const KnobOutcome&)> on_decision;

 private:
  // Measures `repeats` samples of `settings` into `c`; false when the source stopped.
  bool measure(const Settings& settings, Candidate& c);
  KnobOutcome search_knob(const Knob& knob);

  TrialSource& source_;
  SearchOptions options_;
  SearchResult result_;
  Settings current_;
};

}  // namespace sxcoll::tune
