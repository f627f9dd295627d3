#include "tuner/search.h"

#include <algorithm>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::tune {

std::vector<double> scores(const std::vector<Sample>& samples) {
  std::vector<double> out;
  for (const auto& s : samples)
    if (s.ok) out.push_back(s.score);
  return out;
}

bool CoordinateDescent::measure(const Settings& settings, Candidate& c) {
  for (int rep = 0; rep < options_.repeats; ++rep) {
    auto sample = source_.measure(settings, rep);
    if (!sample) {
      result_.stopped = true;
      return false;
    }
    c.samples.push_back(*sample);
    if (!sample->ok) {
      c.failure = sample->error.empty() ? "the trial failed" : sample->error;
      break;
    }
  }
  return true;
}

bool CoordinateDescent::measure_baseline(const Settings& defaults) {
  result_.defaults = result_.tuned = current_ = defaults;
  Candidate base;
  if (!measure(defaults, base)) return false;
  if (!base.failure.empty()) throw RunError(fmt::format("the default settings failed: {}", base.failure));
  result_.baseline = result_.final = base.samples;
  result_.baseline_done = true;
  return true;
}

KnobOutcome CoordinateDescent::search_knob(const Knob& knob) {
  KnobOutcome out;
  out.knob = knob;
  out.from = out.to = current_.at(knob.name);
  if (result_.stopped) return out;
  const auto current_scores = scores(result_.final);
  size_t to_try = 0;
  for (const auto& value : knob.values) to_try += value != out.from ? 1 : 0;
  // The best of several values is taken: Bonferroni's correction keeps the chance that noise
  // alone changes the knob at 1 - confidence, however many values it has.
  const double level = 1 - (1 - options_.confidence) / static_cast<double>(std::max<size_t>(to_try, 1));
  for (const auto& value : knob.values) {
    if (value == out.from) continue;
    Settings trial = current_;
    trial[knob.name] = value;
    if (!source_.affordable(trial, options_.repeats)) {
      result_.stopped = true;
      break;
    }
    Candidate c;
    c.value = value;
    if (!measure(trial, c)) break;  // interrupted mid-way: an incomplete value is not judged
    if (c.failure.empty()) c.vs_current = compare(current_scores, scores(c.samples), level, options_.min_gain);
    out.candidates.push_back(std::move(c));
  }
  size_t tried = out.candidates.size();
  out.partial = result_.stopped && tried < to_try;

  // The significant value with the largest gain; when none is, the largest gain (reported only).
  std::optional<size_t> best;
  bool all_failed = tried > 0, all_slower = tried > 0;
  auto better = [&](size_t i) {
    if (!best) return true;
    const Comparison &a = out.candidates[i].vs_current, &b = out.candidates[*best].vs_current;
    if (a.significant != b.significant) return a.significant;
    return a.gain > b.gain;
  };
  for (size_t i = 0; i < tried; ++i) {
    const Candidate& c = out.candidates[i];
    if (!c.failure.empty()) continue;
    all_failed = false;
    if (!(c.vs_current.measurable && c.vs_current.gain_high < 0)) all_slower = false;
    if (better(i)) best = i;
  }
  out.best = best;
  if (tried == 0) {
    out.verdict = Verdict::NotTried;
  } else if (best && out.candidates[*best].vs_current.significant) {
    out.verdict = Verdict::Changed;
    out.to = out.candidates[*best].value;
    current_[knob.name] = out.to;
    result_.tuned = current_;
    result_.final = out.candidates[*best].samples;
  } else if (all_failed) {
    out.verdict = Verdict::KeptFailed;
  } else if (all_slower) {
    out.verdict = Verdict::KeptSlower;
  } else {
    out.verdict = Verdict::KeptNoDifference;
  }
  return out;
}

void CoordinateDescent::run(const std::vector<Knob>& knobs) {
  if (!result_.baseline_done) throw std::logic_error("CoordinateDescent::run before the baseline");
  for (const auto& knob : knobs) {
    result_.knobs.push_back(search_knob(knob));
    if (on_decision) on_decision(result_.knobs.back());
  }
}

}  // namespace sxcoll::tune
