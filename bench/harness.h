// The `sxcoll bench` harness: one rank's part of a sweep (sizes x types x ops, out-of-place
// and in-place), timing, checking, and rank 0's report.
#pragma once

#include <functional>

#include "bench/options.h"
#include "bench/report.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/bootstrap/launch_env.h"
#include "transport/transport.h"

namespace sxcoll::bench {

// Runs the sweep as one rank of `launch`. Returns the process exit code: 0, 1 when a
// check failed or the run broke (after telling the other ranks), 2 for bad input.
int run_bench_rank(const BenchOptions& options, const bootstrap::LaunchInfo& launch);

// Joins the run and runs `body` as one rank, with the error handling every bench mode
// shares: the rank that fails tells the others (bootstrap abort) and prints one line;
// the exit code is rank 0's verdict, 1 for a broken run, 2 for bad input.
int run_rank(const BenchOptions& options, const bootstrap::LaunchInfo& launch,
             const std::function<int(bootstrap::Bootstrap&)>& body);

// Collective: fills `run`'s rails and line rate (the slowest rank's) from the context.
void describe_links(bootstrap::Bootstrap& boot, const transport::Context& context, RunDescription& run);

}  // namespace sxcoll::bench
