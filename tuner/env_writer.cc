#include "tuner/env_writer.h"

#include <cmath>

#include <fmt/core.h>
#include <fmt/format.h>

namespace sxcoll::tune {

namespace {

std::string percent(double x) { return fmt::format("{:+.1f}", 100 * x); }

std::string value_list(const KnobOutcome& k, bool with_failures) {
  std::vector<std::string> items;
  for (const auto& c : k.candidates) {
    if (!c.failure.empty()) {
      if (with_failures) items.push_back(fmt::format("{}: failed: {}", display_value(k.knob, c.value), c.failure));
      continue;
    }
    items.push_back(fmt::format("{}: {}", display_value(k.knob, c.value), format_gain(c.vs_current)));
  }
  return fmt::format("{}", fmt::join(items, "; "));
}

}  // namespace

std::string format_gain(const Comparison& c) {
  if (!c.measurable) return fmt::format("{} % (one measurement a side: no interval)", percent(c.gain));
  return fmt::format("{} % [{:g} % interval {}, {}]", percent(c.gain), std::round(1000 * c.level) / 10,
                     percent(c.gain_low), percent(c.gain_high));
}

std::string verdict_text(const KnobOutcome& k) {
  const std::string from = display_value(k.knob, k.from);
  const std::string partial =
      k.partial ? fmt::format(" ({} value(s) measured before the budget ran out)", k.candidates.size()) : "";
  switch (k.verdict) {
    case Verdict::Changed: {
      const Candidate& c = k.candidates[*k.best];
      return fmt::format("{} busbw over {} (measured {}){}", format_gain(c.vs_current), from, value_list(k, true),
                         partial);
    }
    case Verdict::KeptNoDifference:
      return fmt::format("default kept: no significant difference ({}){}", value_list(k, true), partial);
    case Verdict::KeptSlower:
      return fmt::format("default kept: every value was slower ({}){}", value_list(k, true), partial);
    case Verdict::KeptFailed:
      return fmt::format("default kept: every value failed ({}){}", value_list(k, true), partial);
    case Verdict::NotTried:
      return "default kept: not measured (the budget ran out first)";
  }
  return "";
}

std::string nccl_env_text(const EnvFile& f) {
  std::string out;
  for (const auto& line : f.header) out += "# " + line + "\n";
  out += "#\n# Fixed facts (detected, not tuned):\n";
  for (const auto& fact : f.facts) {
    if (fact.value.empty())
      out += fmt::format("# {}: {}\n", fact.name, fact.how);
    else
      out += fmt::format("export {}={}  # detected: {}\n", fact.name, fact.value, fact.how);
  }
  if (!f.conditions.empty()) {
    std::vector<std::string> c;
    for (const auto& [k, v] : f.conditions) c.push_back(k + "=" + v);
    out += fmt::format("# The trials ran with {} (measurement conditions, not exported).\n", fmt::join(c, " "));
  }
  out += fmt::format(
      "#\n# Tuned: gain = busbw ratio - 1 against the value before it, {} fresh processes per value; "
      "the interval's level is {:g} % over all the values of a knob (Bonferroni):\n",
      f.repeats, 100 * f.confidence);
  if (f.result != nullptr)
    for (const auto& k : f.result->knobs) {
      if (k.verdict == Verdict::Changed) {
        for (const auto& var : k.knob.env)
          out += fmt::format("export {}={}  # {}: {}\n", var, k.to, k.knob.name, verdict_text(k));
      } else {
        out += fmt::format("# {}: {}\n", k.knob.name, verdict_text(k));
      }
    }
  for (const auto& [knob, why] : f.skipped) out += fmt::format("# {}: skipped: {}\n", knob, why);
  return out;
}

}  // namespace sxcoll::tune
