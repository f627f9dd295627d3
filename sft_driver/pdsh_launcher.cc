// pdsh: the same command on every node over ssh; PyTorch's own launcher (torch.distributed.run
// with the c10d rendezvous at the first host) starts the ranks there and numbers the nodes.
// pdsh does not carry the environment, so it travels in the remote command line.
#include <fmt/core.h>

#include "sft_driver/launcher.h"

namespace sxcoll::sft {

namespace {

class PdshLauncher : public Launcher {
 public:
  std::string name() const override { return "pdsh"; }

  std::vector<Command> commands(const RunSpec& run, const LaunchContext& ctx) const override {
    std::string remote = "env";
    for (const auto& [k, v] : run_env(run, ctx)) remote += " " + k + "=" + shell_quote(v);
    remote += " " + shell_quote(ctx.python) + " -m torch.distributed.run";
    remote += fmt::format(" --nnodes={} --nproc_per_node={} --rdzv_backend=c10d --rdzv_endpoint={}:{} --rdzv_id={}",
                          run.nodes, run.ranks_per_node, ctx.master_addr, ctx.master_port, run.id);
    auto args = worker_args(run, ctx.metrics_path);
    for (auto& a : args) remote += " " + shell_quote(a);
    Command c;
    c.argv = {"pdsh", "-R", "ssh", "-S", "-w", host_list(ctx.hosts, true), remote};
    c.log_name = "launcher.log";
    return {c};
  }

  std::optional<Command> host_check(const Host& h) const override {
    return Command{{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", h.address, "true"}, {}, ""};
  }

  Command gpu_sampler(const std::vector<Host>& hosts) const override {
    return {{"pdsh", "-R", "ssh", "-w", host_list(hosts, true),
             std::string("nvidia-smi --query-gpu=") + kGpuQuery + " --format=csv,noheader,nounits -l 1"},
            {},
            "gpu_samples.csv"};
  }
};

}  // namespace

std::unique_ptr<Launcher> make_pdsh_launcher() { return std::make_unique<PdshLauncher>(); }

}  // namespace sxcoll::sft
