// The search space, in one table: every knob `sxcoll tune` may change, for NCCL (environment
// variables, as NCCL spells them) and for sxcoll's own engine (sxcoll bench's flags), the
// values tried against the default, and the fabric the knob needs. Per engine, the table is
// ordered by expected importance: coordinate descent visits knobs in this order.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sxcoll::tune {

enum class Engine { Sxcoll, Nccl };
std::string_view engine_name(Engine engine);

// What a knob needs from the fabric: RDMA (IB verbs, RoCE) or sockets; Any applies to both.
enum class Fabric { Any, Rdma, Socket };
std::string_view fabric_name(Fabric fabric);

enum class ValueKind { Integer, Bytes, Choice };

struct Knob {
  std::string name;  // NCCL's variable, or sxcoll bench's flag ("--nsocks")
  Engine engine;
  Fabric fabric;
  // The variables a value is exported as in nccl_env.sh (NCCL's channel knob sets two;
  // sxcoll's knobs are recorded as SXCOLL_<FLAG>, which NCCL ignores).
  std::vector<std::string> env;
  std::string default_value;        // NCCL: "" (unset: NCCL decides); sxcoll: bench's default
  std::vector<std::string> values;  // candidates, tried against the current setting in order
  ValueKind kind = ValueKind::Integer;
  long long min = 0, max = 0;        // Integer, Bytes
  long long multiple_of = 1;         // Bytes
  std::vector<std::string> choices;  // Choice, spelled as the engine spells them
  std::string what;                  // one line, for --list-knobs
};

// The whole table, both engines.
const std::vector<Knob>& knob_table();
std::vector<Knob> knobs_of(Engine engine);

// Settings of one trial: knob name -> value ("" = NCCL's default, the variable unset).
using Settings = std::map<std::string, std::string>;
Settings default_settings(const std::vector<Knob>& knobs);

// A value as typed ("8M", "ring") in the engine's spelling (bytes as a number, "Ring");
// throws UsageError naming `flag` when the knob cannot take it.
std::string normalize_value(const Knob& knob, const std::string& text, std::string_view flag);
// For people: "4M", "NCCL default", "ring".
std::string display_value(const Knob& knob, const std::string& value);

// Which knobs a run searches, and why the others are not.
struct KnobSelection {
  std::vector<Knob> searched;
  std::vector<std::pair<std::string, std::string>> skipped;  // knob, reason
};

// `requests`: the --knob flags, "NAME" or "NAME=V1,V2,..." (none: every knob of the engine
// that applies). `fabric` is what the trials run on (Rdma or Socket); `fabric_note` says how
// that was decided, for the skipped knobs' reason. Unknown knobs, empty value lists, bad
// values, and a requested knob the fabric cannot use are UsageErrors.
KnobSelection select_knobs(Engine engine, Fabric fabric, const std::string& fabric_note,
                           const std::vector<std::string>& requests);

}  // namespace sxcoll::tune
