// `sxcoll bench --validate`: the whole cluster checked in one run, on every node at once.
// Each node's own figures (CPU memory bandwidth; the GPU part where there is one), every
// link in the rounds of a round-robin tournament, the all-nodes allreduce, then a verdict
// per node and per link (bench/validate_analysis.h). A node is a host name; the first rank
// of each host measures for it.
#pragma once

#include <string>

#include "bench/options.h"
#include "transport/bootstrap/launch_env.h"

namespace sxcoll::bench {

struct ValidateOptions {
  double threshold = 0.10;  // --validate-threshold: a figure this far below its baseline fails
  std::string out_dir;      // --out: state.json (finished steps, for a resumed run); made if missing
  std::string hosts_out;    // --hosts-out: hosts.json for `sxcoll sft --hosts`, failed nodes excluded
};

// Throws UsageError: a threshold outside (0, 1), an output folder whose parent is missing,
// a hosts file that exists.
void validate(const ValidateOptions& options);

// "10", "10%" or "7.5 %" -> 0.10, 0.10, 0.075; UsageError otherwise.
double parse_percent(const std::string& text, const std::string& flag);

// Returns 0 when every node passes, 1 when a node fails or the run broke, 2 for bad input.
int run_validate_rank(const BenchOptions& options, const ValidateOptions& validate, const bootstrap::LaunchInfo& launch);

}  // namespace sxcoll::bench
