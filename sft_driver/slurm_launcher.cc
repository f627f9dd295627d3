// Slurm: one srun step, one task per GPU; rank_env.sh maps SLURM_PROCID & co. to torchrun's
// variables. srun hands its whole environment (NCCL settings included) to every task.
#include <fmt/core.h>

#include "sft_driver/launcher.h"

namespace sxcoll::sft {

namespace {

class SlurmLauncher : public Launcher {
 public:
  std::string name() const override { return "slurm"; }

  std::vector<Command> commands(const RunSpec& run, const LaunchContext& ctx) const override {
    Command c;
    c.env = run_env(run, ctx);
    c.argv = {"srun", fmt::format("--nodes={}", run.nodes), fmt::format("--ntasks-per-node={}", run.ranks_per_node)};
    // A CPU run asks for no GPUs: a cluster without GPU GRES refuses any --gpus request.
    if (run.device != "cpu") c.argv.push_back(fmt::format("--gpus-per-node={}", run.ranks_per_node));
    for (std::string a : {"--nodelist=" + host_list(ctx.hosts, false), std::string("--kill-on-bad-exit=1"),
                          std::string("--export=ALL"), ctx.rank_env_script})
      c.argv.push_back(a);
    for (auto& a : worker_command(run, ctx)) c.argv.push_back(a);
    c.log_name = "launcher.log";
    return {c};
  }

  std::optional<Command> host_check(const Host& h) const override {
    return Command{{"srun", "--nodes=1", "--ntasks=1", "--nodelist=" + h.name, "--time=1", "true"}, {}, ""};
  }

  Command gpu_sampler(const std::vector<Host>& hosts) const override {
    return {{"srun", "--overlap", fmt::format("--nodes={}", hosts.size()), "--ntasks-per-node=1",
             "--nodelist=" + host_list(hosts, false), "--label", "nvidia-smi",
             std::string("--query-gpu=") + kGpuQuery, "--format=csv,noheader,nounits", "-l", "1"},
            {},
            "gpu_samples.csv"};
  }
};

}  // namespace

std::unique_ptr<Launcher> make_slurm_launcher() { return std::make_unique<SlurmLauncher>(); }

}  // namespace sxcoll::sft
