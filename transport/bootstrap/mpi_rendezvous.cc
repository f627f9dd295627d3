#include "transport/bootstrap/mpi_rendezvous.h"

#include <mpi.h>

#include <cstdlib>
#include <vector>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bootstrap {

// Only OpenMPI's mpirun: the MPI this build links (Debian's OpenMPI) cannot join an MPICH job.
bool mpi_rendezvous_available(const LaunchInfo& info) { return info.launcher == "mpirun"; }

std::string mpi_share_master(const LaunchInfo& info, const std::function<std::string()>& serve) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    if (MPI_Init(nullptr, nullptr) != MPI_SUCCESS) throw RunError(fmt::format("rank {}: bootstrap: MPI_Init failed", info.rank));
    std::atexit([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized) MPI_Finalize();
    });
  }
  std::vector<char> address(256, '\0');
  if (info.rank == 0) {
    std::string mine = serve();
    if (mine.size() >= address.size()) throw RunError("bootstrap: store address too long for the MPI broadcast");
    std::copy(mine.begin(), mine.end(), address.begin());
  }
  if (MPI_Bcast(address.data(), static_cast<int>(address.size()), MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
    throw RunError(fmt::format("rank {}: bootstrap: MPI_Bcast of the store address failed", info.rank));
  return std::string(address.data());
}

}  // namespace sxcoll::bootstrap
