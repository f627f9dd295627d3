// `sxcoll bench --p2p`: the per-link check. RDMA write bandwidth one way and both ways, and
// ping-pong latency, between every pair of ranks on every rail, one pair at a time, the
// way perftest's ib_write_bw and ib_write_lat measure one link; links well below the
// median of their rail are flagged (a port at half speed, a bad cable, a wrong setting).
#pragma once

#include <cstdint>

#include "bench/options.h"
#include "transport/bootstrap/launch_env.h"

namespace sxcoll::bench {

struct P2pOptions {
  double threshold = 0.8;  // --p2p-threshold: flag a link below this fraction of its rail's median
  uint32_t window = 64;    // writes in flight during a bandwidth test (perftest's tx depth)
};

// Throws UsageError for a threshold outside (0, 1].
void validate(const P2pOptions& options);

// Runs the check as one rank of `launch` over the sizes of `options` (-b, -e, -f, -n, -w, -c).
// Returns 0, 1 when data arrived wrong or the run broke, 2 for bad input. A flagged link
// is reported, not an error: the numbers are the result.
int run_p2p_rank(const BenchOptions& options, const P2pOptions& p2p, const bootstrap::LaunchInfo& launch);

}  // namespace sxcoll::bench
