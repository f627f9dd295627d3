#include "transport/bootstrap/launch_env.h"

#include <charconv>
#include <cstdlib>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bootstrap {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

int parse_int(const std::string& name, const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw UsageError(fmt::format("{}='{}' is not a number", name, text));
  return value;
}

// One launcher's variable names, in the order they are tried.
struct LauncherVars {
  const char* launcher;
  const char* rank;
  const char* size;
  const char* local_rank;
  const char* job_id;  // makes the default run token unique to this job
};

// Innermost launcher first: `srun torchrun ...` and MPICH's mpiexec (which starts its
// proxies with srun) leave Slurm's variables describing the outer step, not this process.
constexpr LauncherVars kLaunchers[] = {
    {"sxcoll", kEnvRank, kEnvSize, kEnvLocalRank, kEnvToken},
    {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCHELASTIC_RUN_ID"},
    {"mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "PMIX_NAMESPACE"},
    {"mpich", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "PMI_JOBID"},
    {"srun", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_JOB_ID"},
};

std::optional<std::string> master_from(const EnvLookup& env, const LauncherVars& vars) {
  if (auto master = env(kEnvMaster)) return master;
  auto addr = env("MASTER_ADDR");
  auto port = env("MASTER_PORT");
  if (addr && port) return *addr + ":" + *port;
  if (addr || port) throw UsageError("MASTER_ADDR and MASTER_PORT must be set together");
  // Under Slurm every task can compute rank 0's host from the step's node list, and a
  // port from the job id, as torch's Slurm integration does.
  if (std::string_view(vars.launcher) == "srun") {
    auto nodes = env("SLURM_STEP_NODELIST");
    if (!nodes) nodes = env("SLURM_JOB_NODELIST");
    auto job = env("SLURM_JOB_ID");
    if (nodes && job) {
      int job_port = 20000 + parse_int("SLURM_JOB_ID", *job) % 20000;
      return first_slurm_host(*nodes) + ":" + std::to_string(job_port);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  std::string first = nodelist.substr(0, nodelist.find_first_of(",["));
  auto bracket = nodelist.find('[');
  auto comma = nodelist.find(',');
  if (bracket == std::string::npos || (comma != std::string::npos && comma < bracket)) return first;
  // "prefix[007-012,015]suffix": the first number of the range keeps its zero padding.
  auto close = nodelist.find(']', bracket);
  std::string range = nodelist.substr(bracket + 1, close - bracket - 1);
  std::string number = range.substr(0, range.find_first_of("-,"));
  std::string suffix;
  if (close != std::string::npos) {
    suffix = nodelist.substr(close + 1);
    suffix = suffix.substr(0, suffix.find(','));
  }
  return first + number + suffix;
}

std::optional<LaunchInfo> detect_launch(const EnvLookup& env) {
  for (const auto& vars : kLaunchers) {
    auto rank = env(vars.rank);
    auto size = env(vars.size);
    if (!rank && !size) continue;
    if (!rank || !size)
      throw UsageError(fmt::format("{} and {} must be set together", vars.rank, vars.size));
    LaunchInfo info;
    info.launcher = vars.launcher;
    info.rank = parse_int(vars.rank, *rank);
    info.size = parse_int(vars.size, *size);
    if (info.size < 1) throw UsageError(fmt::format("{}={}: the world size must be at least 1", vars.size, info.size));
    if (info.rank < 0 || info.rank >= info.size)
      throw UsageError(fmt::format("{}={} is outside 0..{}", vars.rank, info.rank, info.size - 1));
    if (auto local = env(vars.local_rank)) info.local_rank = parse_int(vars.local_rank, *local);
    info.master = master_from(env, vars);
    if (auto token = env(kEnvToken)) {
      info.token = *token;
    } else if (auto job = env(vars.job_id)) {
      info.token = std::string(vars.launcher) + ":" + *job;
    } else {
      info.token = vars.launcher;
    }
    if (auto fd = env(kEnvStoreFd)) info.store_fd = parse_int(kEnvStoreFd, *fd);
    return info;
  }
  return std::nullopt;
}

}  // namespace sxcoll::bootstrap
