// The engine's knobs, declared once: flag, variables, default, range and help. sxcoll
// bench's CLI adds its flags from this table and resolves them (the flag, else the
// SXCOLL_* variable, else the NCCL_* one, else the default), its header says where each
// value came from, and sxcoll tune's search space for --engine sxcoll takes default,
// range and variable from here (tuner/knobs.cc).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sxcoll::bench {

enum class KnobKind { Integer, Bytes, Choice, Text };

struct EngineKnob {
  std::string_view flag;        // "--qps"
  std::string_view sxcoll_env;  // what `sxcoll tune --engine sxcoll` exports, or ""
  // NCCL's variable of the same setting, or "": read where neither the flag nor the
  // SXCOLL_* variable is given, for the verbs transport only (NCCL's IB variables).
  std::string_view nccl_env;
  std::string_view default_value;  // as typed: "1", "4M", "auto", "" (Text: none)
  KnobKind kind;
  long long min = 0, max = 0;   // Integer, Bytes
  long long multiple_of = 1;    // Bytes
  std::vector<std::string_view> choices;  // Choice
  std::string_view transport;   // "tcp", "verbs", or "" (any): where the knob does something
  std::string_view help;
};

const std::vector<EngineKnob>& engine_knobs();
// Throws std::out_of_range for a flag not in the table (a programming error).
const EngineKnob& engine_knob(std::string_view flag);

// A knob's value and where it came from.
struct KnobSetting {
  std::string value;
  std::string source;  // "flag", "default", or the assignment: "SXCOLL_QPS=4"
  std::string variable() const;  // "SXCOLL_QPS" of "SXCOLL_QPS=4"; "" for flag and default
};

using EnvLookup = std::function<const char*(const char* name)>;

// flag > SXCOLL_* > NCCL_* (when `read_nccl`) > default. Empty variables count as unset.
KnobSetting resolve_knob(const EngineKnob& knob, const std::string* flag_value, bool read_nccl, const EnvLookup& env);

// "--qps 4 (NCCL_IB_QPS_PER_CONNECTION), --channels 2, ...": the settings not from their
// default name their source; the header's "# knobs:" line.
std::string describe_settings(const std::vector<std::pair<const EngineKnob*, KnobSetting>>& settings);

}  // namespace sxcoll::bench
