// sxcoll's own launcher: `--np N` with no launcher around forks N ranks on this host.
#pragma once

#include <chrono>
#include <functional>

#include "transport/bootstrap/launch_env.h"

namespace sxcoll::bootstrap {

// Runs `rank_main` in `nranks` forked processes, each with its LaunchInfo (rank 0 also
// inherits the store's listening socket, bound before the fork so no port can be taken
// in between). Returns the exit code for the launcher: 0 when every rank succeeded, else
// the first failing rank's code. After the first failure the others get `grace` to finish
// reporting before they are killed. Ctrl-C and SIGTERM are passed on to the ranks.
int launch_local(int nranks, const std::function<int(const LaunchInfo&)>& rank_main, std::chrono::milliseconds grace);

}  // namespace sxcoll::bootstrap
