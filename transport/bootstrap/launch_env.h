// Who am I in this run? Rank, world size and rendezvous point, read from the environment
// that the launcher (sxcoll's own, mpirun, srun, torchrun) gives each process.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace sxcoll::bootstrap {

struct LaunchInfo {
  std::string launcher;  // "sxcoll", "mpirun", "mpich", "srun", "torchrun"
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  std::optional<std::string> master;  // "host:port" of the store rank 0 serves
  std::string token;                  // run token: a process of another run is refused
  int store_fd = -1;                  // rank 0 of the local launcher: inherited listening socket
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// The launch this process belongs to, or nullopt when no launcher's variables are set.
// Malformed values (rank not a number, rank >= size, ...) are a UsageError.
std::optional<LaunchInfo> detect_launch(const EnvLookup& env);

// The first host of a Slurm node list: "gpu[007-012,015],login1" -> "gpu007".
std::string first_slurm_host(const std::string& nodelist);

// Names of the variables the local launcher sets for its children.
inline constexpr const char* kEnvRank = "SXCOLL_RANK";
inline constexpr const char* kEnvSize = "SXCOLL_SIZE";
inline constexpr const char* kEnvLocalRank = "SXCOLL_LOCAL_RANK";
inline constexpr const char* kEnvMaster = "SXCOLL_MASTER";
inline constexpr const char* kEnvToken = "SXCOLL_TOKEN";
inline constexpr const char* kEnvStoreFd = "SXCOLL_STORE_FD";

}  // namespace sxcoll::bootstrap
