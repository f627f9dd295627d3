// Local: one process per rank on this host with torchrun's variables (Debian's torch 1.13
// torchrun crashes under Python 3.11, so sxcoll starts the ranks itself, as torchrun would).
// A plan's "nodes" become groups of ranks_per_node processes on this one host.
#include <fmt/core.h>

#include "sft_driver/launcher.h"

namespace sxcoll::sft {

namespace {

class LocalLauncher : public Launcher {
 public:
  std::string name() const override { return "local"; }
  bool is_local() const override { return true; }

  std::vector<Command> commands(const RunSpec& run, const LaunchContext& ctx) const override {
    std::vector<Command> out;
    const int world = run.world_size();
    for (int rank = 0; rank < world; ++rank) {
      Command c;
      c.env = run_env(run, ctx);
      c.env.emplace_back("RANK", std::to_string(rank));
      c.env.emplace_back("LOCAL_RANK", std::to_string(rank));
      c.env.emplace_back("WORLD_SIZE", std::to_string(world));
      c.env.emplace_back("LOCAL_WORLD_SIZE", std::to_string(world));
      c.argv = worker_command(run, ctx);
      c.log_name = fmt::format("rank{}.log", rank);
      out.push_back(std::move(c));
    }
    return out;
  }

  std::optional<Command> host_check(const Host&) const override { return std::nullopt; }

  Command gpu_sampler(const std::vector<Host>&) const override {
    return {{"nvidia-smi", std::string("--query-gpu=") + kGpuQuery, "--format=csv,noheader,nounits", "-l", "1"},
            {},
            "gpu_samples.csv"};
  }
};

}  // namespace

std::unique_ptr<Launcher> make_local_launcher() { return std::make_unique<LocalLauncher>(); }

}  // namespace sxcoll::sft
