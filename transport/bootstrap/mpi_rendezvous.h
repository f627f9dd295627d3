// Under mpirun, with no SXCOLL_MASTER given, rank 0's store address reaches the others
// through MPI itself: `mpirun -np 16 -H a,b sxcoll bench` then needs nothing more.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "transport/bootstrap/launch_env.h"

namespace sxcoll::bootstrap {

// True when this build can ask MPI (it was built with MPI) and `info` came from an MPI launcher.
bool mpi_rendezvous_available(const LaunchInfo& info);

// Collective over MPI_COMM_WORLD: rank 0 calls `serve()`, which starts the store and
// returns its "host:port"; every rank gets that address. Initialises MPI if needed; it
// is finalised at exit.
std::string mpi_share_master(const LaunchInfo& info, const std::function<std::string()>& serve);

}  // namespace sxcoll::bootstrap
