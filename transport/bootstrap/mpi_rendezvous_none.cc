// Built without MPI: the launcher's ranks must be told where rank 0 is (SXCOLL_MASTER).
#include "transport/bootstrap/mpi_rendezvous.h"

#include "transport/error.h"

namespace sxcoll::bootstrap {

bool mpi_rendezvous_available(const LaunchInfo&) { return false; }

std::string mpi_share_master(const LaunchInfo&, const std::function<std::string()>&) {
  throw UsageError("this build of sxcoll has no MPI: set SXCOLL_MASTER=host:port");
}

}  // namespace sxcoll::bootstrap
