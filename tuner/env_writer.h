// nccl_env.sh: sourceable, one `export NAME=value` per line, each with its evidence as a
// comment: how a fixed fact was found, or the measured gain of a tuned value and its
// interval; a knob left at its default says why, without an export. `sxcoll sft --nccl-env`
// reads the same file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tuner/fabric.h"
#include "tuner/search.h"

namespace sxcoll::tune {

// "+12.3 % [97.5 % interval +8.1, +16.5]", the gain of a Comparison at its level.
std::string format_gain(const Comparison& c);

// The verdict on one knob in words ("default kept: no significant difference (best 8M: ...)").
std::string verdict_text(const KnobOutcome& k);

struct EnvFile {
  std::vector<std::string> header;  // comment lines, without the "# "
  std::vector<FixedFact> facts;     // exported when they have a value
  // Variables the trials ran with that are not exported (--transport socket's switches).
  std::vector<std::pair<std::string, std::string>> conditions;
  const SearchResult* result = nullptr;
  std::vector<std::pair<std::string, std::string>> skipped;  // knob, why
  double confidence = 0.95;
  int repeats = 3;
};

std::string nccl_env_text(const EnvFile& file);

}  // namespace sxcoll::tune
