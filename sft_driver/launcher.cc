#include "sft_driver/launcher.h"

#include <signal.h>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::sft {

std::unique_ptr<Launcher> make_local_launcher();
std::unique_ptr<Launcher> make_slurm_launcher();
std::unique_ptr<Launcher> make_pdsh_launcher();
std::unique_ptr<Launcher> make_mpirun_launcher();

std::unique_ptr<Launcher> make_launcher(const std::string& name) {
  if (name == "local") return make_local_launcher();
  if (name == "slurm") return make_slurm_launcher();
  if (name == "pdsh") return make_pdsh_launcher();
  if (name == "mpirun") return make_mpirun_launcher();
  throw UsageError(fmt::format("--launcher '{}': expected local, slurm, pdsh or mpirun", name));
}

// The NCCL settings first, then the plan's own variables, then what the worker needs: later wins.
std::vector<std::pair<std::string, std::string>> run_env(const RunSpec& run, const LaunchContext& ctx) {
  std::vector<std::pair<std::string, std::string>> env = ctx.nccl.vars;
  for (const auto& kv : run.env)
    if (kv.first != "PYTHONPATH") env.push_back(kv);
  env.emplace_back("PYTHONPATH", worker_pythonpath(run, ctx.worker_dir));
  env.emplace_back("PYTHONUNBUFFERED", "1");
  env.emplace_back("MASTER_ADDR", ctx.master_addr);
  env.emplace_back("MASTER_PORT", std::to_string(ctx.master_port));
  return env;
}

// The worker first, then the plan's own PYTHONPATH (where DeepSpeed may live).
std::string worker_pythonpath(const RunSpec& run, const std::string& worker_dir) {
  auto it = run.env.find("PYTHONPATH");
  return it == run.env.end() || it->second.empty() ? worker_dir : worker_dir + ":" + it->second;
}

std::vector<std::string> worker_command(const RunSpec& run, const LaunchContext& ctx) {
  std::vector<std::string> argv = {ctx.python};
  for (auto& a : worker_args(run, ctx.metrics_path)) argv.push_back(a);
  return argv;
}

std::string shell_line(const Command& c) {
  std::string out;
  for (const auto& [k, v] : c.env) out += k + "=" + shell_quote(v) + " ";
  for (size_t i = 0; i < c.argv.size(); ++i) out += (i ? " " : "") + shell_quote(c.argv[i]);
  return out;
}

std::vector<process::Spec> process_specs(const std::vector<Command>& commands, const std::string& dir) {
  std::vector<process::Spec> specs;
  for (const auto& c : commands) {
    process::Spec s;
    s.argv = c.argv;
    s.set_env = c.env;
    s.stdout_path = dir + "/" + c.log_name;  // stderr too
    s.death_signal = SIGTERM;
    s.exec_failure = "sxcoll sft: exec failed: ";
    s.exec_failure_says_why = false;
    specs.push_back(std::move(s));
  }
  return specs;
}

std::string host_list(const std::vector<Host>& hosts, bool by_address, int slots) {
  std::string out;
  for (const auto& h : hosts) {
    out += (out.empty() ? "" : ",") + (by_address ? h.address : h.name);
    if (slots > 0) out += ":" + std::to_string(slots);
  }
  return out;
}

}  // namespace sxcoll::sft
