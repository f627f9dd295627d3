// Launchers: how one run of the sweep becomes processes. Each is an existing engine
// (local processes with torchrun's variables, srun, pdsh + torchrun, mpirun); sxcoll only
// writes their command lines.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process/process_group.h"
#include "process/shell_quote.h"
#include "sft_driver/inventory.h"
#include "sft_driver/nccl_env.h"
#include "sft_driver/plan.h"

namespace sxcoll::sft {

// One process to start: argv, plus variables added to (or replacing in) the inherited environment.
struct Command {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::string log_name;  // file in the attempt folder that gets its stdout and stderr
};

// Everything a launcher needs to know about one attempt of one run.
struct LaunchContext {
  std::vector<Host> hosts;  // the nodes of this run, first = rank 0's (ignored by local)
  std::string python;
  std::string worker_dir;       // put on PYTHONPATH
  std::string rank_env_script;  // sft_driver/launch/rank_env.sh
  std::string metrics_path;
  std::string master_addr;  // local: 127.0.0.1; others: the first host's address
  int master_port = 29500;
  NcclEnv nccl;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  virtual std::string name() const = 0;
  // True when every run executes on this host (no inventory needed).
  virtual bool is_local() const { return false; }
  virtual std::vector<Command> commands(const RunSpec& run, const LaunchContext& ctx) const = 0;
  // Reachability check through the launcher's own tool; nullopt for the local launcher.
  virtual std::optional<Command> host_check(const Host& host) const = 0;
  // nvidia-smi sampling once a second on every node of the run, writing CSV to stdout.
  virtual Command gpu_sampler(const std::vector<Host>& hosts) const = 0;
};

// "local", "slurm", "pdsh" or "mpirun"; anything else is a UsageError.
std::unique_ptr<Launcher> make_launcher(const std::string& name);

// The fields sampled, as nvidia-smi spells them (the CSV columns after an optional "host: ").
inline constexpr const char* kGpuQuery = "index,utilization.gpu,memory.used,memory.total,power.draw";

// Shared pieces of the launchers.
std::vector<std::pair<std::string, std::string>> run_env(const RunSpec& run, const LaunchContext& ctx);
std::vector<std::string> worker_command(const RunSpec& run, const LaunchContext& ctx);
std::string worker_pythonpath(const RunSpec& run, const std::string& worker_dir);
using process::shell_quote;
std::string shell_line(const Command& c);  // "NAME=value ... argv" as one could paste it
// The processes of an attempt, logs in its folder `dir`: never overwritten, and the processes
// get SIGTERM if the driver is killed outright.
std::vector<process::Spec> process_specs(const std::vector<Command>& commands, const std::string& dir);
std::string host_list(const std::vector<Host>& hosts, bool by_address, int slots = 0);

}  // namespace sxcoll::sft
