#include "sft_driver/sweep.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <ostream>
#include <set>

#include <fmt/core.h>
#include <fmt/ostream.h>

#include "process/process_group.h"
#include "sft_driver/command_output.h"
#include "sft_driver/deepspeed_config.h"
#include "sft_driver/gpu_samples.h"
#include "sft_driver/host_check.h"
#include "sft_driver/results_dir.h"
#include "sft_driver/run_outcome.h"
#include "transport/error.h"

namespace sxcoll::sft {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 29500;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

// The hosts of one run: the first `nodes` usable ones of the inventory (none for local);
// a GPU run's need a GPU per rank, a CPU run's none.
std::optional<std::vector<Host>> pick_hosts(const SweepSetup& s, const HostReport& report, const RunSpec& run,
                                            std::string& why) {
  if (s.launcher->is_local()) return std::vector<Host>{};
  auto usable = report.usable();
  const int gpus = run.device == "cpu" ? 0 : run.ranks_per_node;
  std::vector<Host> hosts;
  for (const auto& h : usable)
    if (static_cast<int>(hosts.size()) < run.nodes && h.gpus >= gpus) hosts.push_back(h);
  if (static_cast<int>(hosts.size()) < run.nodes) {
    why = fmt::format("needs {} hosts with {} GPUs, {} usable", run.nodes, gpus, hosts.size());
    return std::nullopt;
  }
  return hosts;
}

LaunchContext context(const SweepSetup& s, const std::vector<Host>& hosts, const std::string& metrics, int port) {
  LaunchContext ctx;
  ctx.hosts = hosts;
  ctx.python = s.plan.python;
  ctx.worker_dir = s.worker_dir;
  ctx.rank_env_script = s.rank_env_script;
  ctx.metrics_path = metrics;
  ctx.master_addr = hosts.empty() ? "127.0.0.1" : hosts.front().address;
  ctx.master_port = port;
  ctx.nccl = s.nccl;
  return ctx;
}

void print_hosts(const HostReport& r, std::ostream& out) {
  fmt::print(out, "# this host {}: {}\n", r.local_host, r.local_gpu_text);
  for (const auto& h : r.hosts)
    fmt::print(out, "# host {} ({}, {} GPUs): {}{}\n", h.host.name, h.host.address, h.host.gpus, h.state,
               h.detail.empty() ? "" : " — " + h.detail);
}

// DeepSpeed runs on this host need the package importable the way the worker imports it,
// with the run's own PYTHONPATH; else one line and exit 2 before any work. (Remote hosts'
// interpreters are their own: there the worker refuses the same way, exit 2, in the run's log.)
void check_deepspeed(const SweepSetup& s) {
  if (!s.launcher->is_local()) return;
  std::set<std::string> checked;
  for (const auto& r : s.plan.runs) {
    const std::string pythonpath = worker_pythonpath(r, s.worker_dir);
    if (r.engine != "deepspeed" || !checked.insert(pythonpath).second) continue;
    auto probe = run_command({"env", "PYTHONPATH=" + pythonpath, s.plan.python, "-m", "sxcoll_worker.deepspeed_probe"},
                             180);
    if (probe.exit_code != 0) {
      std::string why = probe.output;
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      if (why.rfind('\n') != std::string::npos) why = why.substr(why.rfind('\n') + 1);
      throw UsageError(fmt::format("run {}: engine deepspeed: {}", r.id,
                                   why.empty() ? fmt::format("{} -m sxcoll_worker.deepspeed_probe exited {}",
                                                             s.plan.python, probe.exit_code)
                                               : why));
    }
  }
}

}  // namespace

nlohmann::json spec_json(const RunSpec& r) {
  return {{"model", r.model}, {"model_size", r.model_size}, {"nodes", r.nodes}, {"ranks_per_node", r.ranks_per_node},
          {"world_size", r.world_size()}, {"micro_batch", r.micro_batch}, {"grad_accum", r.grad_accum},
          {"seq_len", r.seq_len}, {"steps", r.steps}, {"warmup_steps", r.warmup_steps}, {"precision", r.precision},
          {"activation_checkpointing", r.activation_checkpointing}, {"engine", r.engine},
          {"zero_stage", r.engine == "deepspeed" ? nlohmann::json(r.zero_stage) : nlohmann::json(nullptr)},
          {"offload_optimizer", r.engine == "deepspeed" && r.offload_optimizer}, {"device", r.device},
          {"data", r.data}, {"timeout_s", r.timeout_s}};
}

void print_dry_run(const SweepSetup& s, std::ostream& out) {
  HostReport report = check_hosts(*s.launcher, s.inventory, true);
  fmt::print(out, "# sxcoll sft --dry-run: plan {}, launcher {}, {} runs; nothing is run\n", s.plan.name,
             s.launcher->name(), s.plan.runs.size());
  print_hosts(report, out);
  for (const auto& h : report.hosts)
    if (h.state != "excluded")
      if (auto check = s.launcher->host_check(h.host)) fmt::print(out, "# check: {}\n", shell_line(*check));
  if (s.launcher->is_local()) fmt::print(out, "# MASTER_PORT=0 below: a free port is picked when the run starts\n");
  fmt::print(out, "# NCCL settings: {}\n", s.nccl.origin.empty() ? "none (NCCL's defaults)" : s.nccl.origin);
  for (const auto& run : s.plan.runs) {
    fmt::print(out, "\n# run {}: {} nodes x {} ranks, micro-batch {}, grad-accum {}, timeout {:.0f} s\n", run.id,
               run.nodes, run.ranks_per_node, run.micro_batch, run.grad_accum, run.timeout_s);
    std::string why;
    auto hosts = pick_hosts(s, report, run, why);
    if (!hosts) {
      fmt::print(out, "# skipped: {}\n", why);
      continue;
    }
    auto ctx = context(s, *hosts, fmt::format("RESULTS_DIR/runs/{}/attempt-1/metrics.jsonl", run.id),
                       s.launcher->is_local() ? 0 : s.plan.master_port);
    if (s.launcher->is_local()) ctx.master_port = 0;
    if (run.engine == "deepspeed")
      fmt::print(out, "# DeepSpeed config ({}): {}\n", deepspeed_config_path(ctx.metrics_path),
                 deepspeed_config(run).dump());
    for (const auto& c : s.launcher->commands(run, ctx)) fmt::print(out, "{}\n", shell_line(c));
    fmt::print(out, "# GPU sampling: {}\n", shell_line(s.launcher->gpu_sampler(*hosts)));
  }
}

SweepOutcome run_sweep(const SweepSetup& s, const std::string& results_base, const std::string& resume_dir,
                       std::ostream& out) {
  HostReport report = check_hosts(*s.launcher, s.inventory, false);
  print_hosts(report, out);
  check_deepspeed(s);
  ResultsDir dir = resume_dir.empty() ? ResultsDir::create(results_base) : ResultsDir::open(resume_dir);
  nlohmann::json sweep = resume_dir.empty() ? nlohmann::json::object()
                                            : nlohmann::json::parse(read_text(dir.path() + "/sweep.json"));
  if (resume_dir.empty()) {
    sweep["schema"] = 1;
    sweep["started"] = utc_now();
    sweep["plan"] = s.plan.source;
    sweep["launcher"] = s.launcher->name();
    sweep["nccl_env"] = {{"file", s.nccl.origin}, {"vars", s.nccl.vars}};
    sweep["fabric"] = s.fabric ? *s.fabric : nlohmann::json(nullptr);
    sweep["fabric_file"] = s.fabric_file;
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& r : s.plan.runs) ids.push_back(r.id);
    sweep["run_ids"] = ids;
    dir.write_file("inputs/plan.json", s.plan.source.dump(2) + "\n");
    if (!s.nccl_text.empty()) dir.write_file("inputs/nccl_env.sh", s.nccl_text);
    if (!s.inventory_text.empty()) dir.write_file("inputs/hosts.json", s.inventory_text);
    if (s.fabric) dir.write_file("inputs/fabric.json", s.fabric->dump(2) + "\n");
  } else {
    sweep["resumed"].push_back(utc_now());
  }
  sweep["hosts"] = report.to_json();
  dir.write_file("sweep.json", sweep.dump(2) + "\n");
  fmt::print(out, "# results: {}\n", dir.path());

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const bool local_gpu = s.launcher->is_local() && report.local_gpus > 0 && on_path("nvidia-smi");
  SweepOutcome outcome{dir.path(), false, 0};
  for (const auto& run : s.plan.runs) {
    if (g_stop.load()) break;
    auto previous = dir.read_status(run.id);
    const int attempts = previous ? previous->value("attempts", 0) : 0;
    if (previous && is_finished(previous->value("status", ""))) {
      fmt::print(out, "{}: finished before, skipped\n", run.id);
      continue;
    }
    if (attempts >= s.plan.max_attempts) {
      fmt::print(out, "{}: {} {} times (max_attempts {}), not retried\n", run.id, previous->value("status", ""),
                 attempts, s.plan.max_attempts);
      ++outcome.failed_runs;
      continue;
    }
    nlohmann::json status{{"id", run.id}, {"spec", spec_json(run)}, {"attempts", attempts}};
    std::string why;
    auto hosts = pick_hosts(s, report, run, why);
    if (!hosts) {
      status.update({{"status", "skipped"}, {"message", why}, {"finished_at", utc_now()}});
      dir.write_status(run.id, status);
      fmt::print(out, "{}: skipped: {}\n", run.id, why);
      ++outcome.failed_runs;
      continue;
    }
    const int attempt = attempts + 1;
    const std::string adir = dir.make_attempt_dir(run.id, attempt);
    auto ctx = context(s, *hosts, adir + "/metrics.jsonl", s.launcher->is_local() ? free_port() : s.plan.master_port);
    auto commands = s.launcher->commands(run, ctx);
    if (run.engine == "deepspeed")  // the file DeepSpeed itself reads (--deepspeed-config)
      dir.write_file(deepspeed_config_path(adir.substr(dir.path().size() + 1) + "/metrics.jsonl"),
                     deepspeed_config(run).dump(2) + "\n");
    std::string lines;
    for (const auto& c : commands) lines += shell_line(c) + "\n";
    dir.write_file(adir.substr(dir.path().size() + 1) + "/command.txt", lines);
    std::string sampling = kNoGpu;
    std::optional<process::ProcessGroup> sampler;
    if (local_gpu || !s.launcher->is_local()) {
      sampling = "nvidia-smi via " + s.launcher->name();
      sampler.emplace(process_specs({s.launcher->gpu_sampler(*hosts)}, adir));
    }
    fmt::print(out, "{}: attempt {} ({} processes) ...\n", run.id, attempt, run.world_size());
    out.flush();
    process::GroupResult result;
    {
      process::ProcessGroup group(process_specs(commands, adir));
      result = group.wait(std::chrono::milliseconds(static_cast<long long>(run.timeout_s * 1000)), s.failure_grace,
                          [] { return g_stop.load(); });
    }
    if (sampler) sampler->stop(std::chrono::seconds(2));
    auto metrics = read_worker_metrics(adir + "/metrics.jsonl");
    RunOutcome o = classify(result, metrics, run.timeout_s);
    nlohmann::json exits = nlohmann::json::array();
    for (const auto& e : result.exits) exits.push_back(e.signal ? -e.signal : e.code);
    status.update({{"status", o.status},
                   {"message", o.message},
                   {"attempts", attempt},
                   {"attempt_dir", adir.substr(dir.path().size() + 1)},
                   {"exit_codes", exits},
                   {"gpu_sampling", sampling},
                   {"hosts", [&] {
                      nlohmann::json h = nlohmann::json::array();
                      for (const auto& x : *hosts) h.push_back(x.name);
                      return h;
                    }()},
                   {"finished_at", utc_now()}});
    dir.write_status(run.id, status);
    fmt::print(out, "{}: {}{}\n", run.id, o.status, o.message.empty() ? "" : ": " + o.message);
    if (o.status == "interrupted") outcome.interrupted = true;
    else if (o.status != "ok") ++outcome.failed_runs;
  }
  outcome.interrupted = outcome.interrupted || g_stop.load();
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  return outcome;
}

}  // namespace sxcoll::sft
