// mpirun (Open MPI): one process per GPU on the listed hosts, each variable passed with -x;
// rank_env.sh maps OMPI_COMM_WORLD_* to torchrun's variables.
#include <fmt/core.h>

#include "sft_driver/launcher.h"

namespace sxcoll::sft {

namespace {

class MpirunLauncher : public Launcher {
 public:
  std::string name() const override { return "mpirun"; }

  std::vector<Command> commands(const RunSpec& run, const LaunchContext& ctx) const override {
    Command c;
    c.argv = {"mpirun", "-np", std::to_string(run.world_size()), "-H", host_list(ctx.hosts, true, run.ranks_per_node),
              "--map-by", fmt::format("ppr:{}:node", run.ranks_per_node), "--bind-to", "none"};
    for (const auto& [k, v] : run_env(run, ctx)) {
      c.argv.push_back("-x");
      c.argv.push_back(k + "=" + v);
    }
    c.argv.push_back(ctx.rank_env_script);
    for (auto& a : worker_command(run, ctx)) c.argv.push_back(a);
    c.log_name = "launcher.log";
    return {c};
  }

  std::optional<Command> host_check(const Host& h) const override {
    return Command{{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", h.address, "true"}, {}, ""};
  }

  Command gpu_sampler(const std::vector<Host>& hosts) const override {
    return {{"mpirun", "-np", std::to_string(hosts.size()), "-H", host_list(hosts, true, 1), "--map-by", "ppr:1:node",
             "--tag-output", "nvidia-smi", std::string("--query-gpu=") + kGpuQuery, "--format=csv,noheader,nounits",
             "-l", "1"},
            {},
            "gpu_samples.csv"};
  }
};

}  // namespace

std::unique_ptr<Launcher> make_mpirun_launcher() { return std::make_unique<MpirunLauncher>(); }

}  // namespace sxcoll::sft
