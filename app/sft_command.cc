#include "app/sft_command.h"

#include <cstdlib>

#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "sft_driver/report/report.h"
#include "sft_driver/results_dir.h"
#include "sft_driver/slurm_hostlist.h"
#include "sft_driver/sweep.h"
#include "transport/error.h"

#ifndef SXCOLL_SOURCE_DIR
#error "SXCOLL_SOURCE_DIR must name the source tree (the worker and launch scripts live there)"
#endif

namespace sxcoll::app {

namespace {

nlohmann::json read_json_file(const std::string& path, const std::string& flag) {
  std::string text = sft::read_text(path);
  if (text.empty()) throw UsageError(fmt::format("{} {}: cannot open, or empty", flag, path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw UsageError(fmt::format("{} {}: not valid JSON", flag, path));
  return j;
}

// Flags -> a complete, checked setup; every problem is one UsageError before any work.
// Where the worker and the launch scripts are: SXCOLL_HOME (a checkout or an installed
// copy, e.g. on a cluster's shared file system), else the source tree this binary was built from.
std::string sxcoll_home() {
  const char* home = std::getenv("SXCOLL_HOME");
  return home != nullptr && *home != '\0' ? std::string(home) : std::string(SXCOLL_SOURCE_DIR);
}

sft::SweepSetup to_setup(const SftCommand& c) {
  sft::SweepSetup s;
  s.worker_dir = sxcoll_home() + "/sft_driver/worker";
  s.rank_env_script = sxcoll_home() + "/sft_driver/launch/rank_env.sh";
  std::string launcher = c.launcher, hosts_path = c.hosts, nccl_path = c.nccl_env;
  if (!c.resume.empty()) {
    for (auto [flag, value] : {std::pair{"--plan", &c.plan}, {"--hosts", &c.hosts}, {"--nccl-env", &c.nccl_env},
                               {"--fabric", &c.fabric}})
      if (!value->empty())
        throw UsageError(fmt::format("--resume {} reuses the plan, hosts, NCCL settings and fabric recorded there; "
                                     "drop {}",
                                     c.resume, flag));
    const std::string dir = sft::ResultsDir::open(c.resume).path();
    const auto sweep = read_json_file(dir + "/sweep.json", "--resume");
    if (c.command->get_option("--launcher")->count() > 0 && c.launcher != sweep.value("launcher", ""))
      throw UsageError(fmt::format("--resume {}: the sweep ran with --launcher {}", dir, sweep.value("launcher", "")));
    launcher = sweep.value("launcher", "local");
    s.plan = sft::parse_plan(sweep.at("plan"), dir + "/sweep.json");
    s.nccl_text = sft::read_text(dir + "/inputs/nccl_env.sh");
    s.nccl = sft::parse_nccl_env(s.nccl_text, sweep["nccl_env"].value("file", ""));
    s.inventory_text = sft::read_text(dir + "/inputs/hosts.json");
    if (!s.inventory_text.empty()) s.inventory = sft::parse_inventory(s.inventory_text, dir + "/inputs/hosts.json");
    if (!sweep["fabric"].is_null()) s.fabric = sweep["fabric"];
    s.fabric_file = sweep.value("fabric_file", "");
  } else {
    s.plan = c.plan.empty() ? sft::parse_plan(nlohmann::json::parse(sft::default_plan_text()), "(shipped default)")
                            : sft::load_plan(c.plan);
    if (!nccl_path.empty()) {
      s.nccl = sft::load_nccl_env(nccl_path);
      s.nccl_text = sft::read_text(nccl_path);
    }
    if (!hosts_path.empty()) {
      s.inventory = sft::load_inventory(hosts_path);
      s.inventory_text = sft::read_text(hosts_path);
    }
    if (!c.fabric.empty()) {
      s.fabric = read_json_file(c.fabric, "--fabric");
      if (!s.fabric->is_object() || s.fabric->value("tool", "") != "sxcoll bench")
        throw UsageError(fmt::format("--fabric {}: not a `sxcoll bench --json` file (no \"tool\": \"sxcoll bench\")",
                                     c.fabric));
      s.fabric_file = c.fabric;
    }
  }
  s.launcher = sft::make_launcher(launcher);
  // Inside a Slurm allocation (sbatch, salloc) its nodes are the inventory.
  const char* nodelist = std::getenv("SLURM_JOB_NODELIST");
  if (launcher == "slurm" && !s.inventory && nodelist != nullptr && *nodelist != '\0') {
    const char* gpus = std::getenv("SLURM_GPUS_ON_NODE");
    s.inventory = sft::inventory_from_hostlist(nodelist, gpus != nullptr ? std::atoi(gpus) : 0, "SLURM_JOB_NODELIST");
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& h : s.inventory->hosts) hosts.push_back({{"name", h.name}, {"address", h.address}, {"gpus", h.gpus}});
    s.inventory_text = nlohmann::json{{"hosts", hosts}}.dump(2) + "\n";
  }
  if (!s.launcher->is_local() && !s.inventory)
    throw UsageError(fmt::format("--launcher {} needs --hosts FILE (the inventory of nodes){}", launcher,
                                 launcher == "slurm" ? ", or to run inside an allocation (SLURM_JOB_NODELIST)" : ""));
  if (!c.python.empty()) s.plan.python = c.python;
  if (c.timeout_option->count() > 0) {
    if (!(c.timeout_s > 0)) throw UsageError(fmt::format("--timeout {}: expected a positive number of seconds", c.timeout_s));
    for (auto& r : s.plan.runs) r.timeout_s = c.timeout_s;
  }
  if (c.attempts_option->count() > 0) {
    if (c.max_attempts < 1) throw UsageError(fmt::format("--max-attempts {}: expected at least 1", c.max_attempts));
    s.plan.max_attempts = c.max_attempts;
  }
  return s;
}

int report(const std::string& dir) {
  auto files = sft::write_report(sft::ResultsDir::open(dir));
  for (const auto& f : {files.csv, files.scaling, files.markdown, files.html}) fmt::print("wrote {}\n", f);
  if (!files.pdf_error.empty()) {
    fmt::print(stderr, "sxcoll: {}\n", files.pdf_error);
    return 1;
  }
  fmt::print("wrote {}\n", files.pdf);
  return 0;
}

}  // namespace

void add_sft_command(CLI::App& app, SftCommand& c) {
  auto* cmd = app.add_subcommand("sft", "Llama-2 SFT throughput sweep: launch, measure, analyse, report");
  c.command = cmd;
  cmd->add_option("--plan", c.plan, "Sweep plan (JSON); default: the shipped Llama-2 7B/13B/70B matrix");
  cmd->add_option("--hosts", c.hosts, "Inventory of nodes (JSON: name, address, gpus, tags, exclude)");
  cmd->add_option("--launcher", c.launcher, "local, slurm, pdsh or mpirun")->capture_default_str();
  cmd->add_option("--nccl-env", c.nccl_env, "nccl_env.sh from sxcoll tune: export NAME=value lines");
  cmd->add_option("--fabric", c.fabric, "sxcoll bench --json results, quoted in the report");
  cmd->add_option("--results", c.results, "Base folder of results/<timestamp>/")->capture_default_str();
  cmd->add_option("--resume", c.resume, "Continue this sweep folder: skip finished runs, retry failed ones");
  cmd->add_option("--report-only", c.report_only, "Remake the CSV, JSON and reports of this sweep folder");
  cmd->add_flag("--dry-run", c.dry_run, "Print every command and environment; run nothing");
  cmd->add_option("--python", c.python, "Interpreter with PyTorch for the worker (overrides the plan)");
  c.timeout_option = cmd->add_option("--timeout", c.timeout_s, "Seconds before a run is stopped (overrides the plan)");
  c.attempts_option = cmd->add_option("--max-attempts", c.max_attempts, "Attempts per run (overrides the plan)");
}

int SftCommand::run() {
  if (!report_only.empty()) {
    for (auto* o : command->get_options())
      if (o->count() > 0 && o->get_name() != "--report-only" && o->get_name() != "--help")
        throw UsageError(fmt::format("--report-only takes no other flag (got {})", o->get_name()));
    return report(report_only);
  }
  if (dry_run && !resume.empty()) throw UsageError("--dry-run and --resume: pick one");
  sft::SweepSetup setup = to_setup(*this);
  if (dry_run) {
    sft::print_dry_run(setup, std::cout);
    return 0;
  }
  auto outcome = sft::run_sweep(setup, results, resume, std::cout);
  if (outcome.interrupted) {
    fmt::print(stderr, "sxcoll: sweep interrupted; finished runs are kept: sxcoll sft --resume {}\n", outcome.dir);
    return 130;
  }
  int rc = report(outcome.dir);
  if (outcome.failed_runs > 0) {
    fmt::print(stderr, "sxcoll: {} run(s) did not finish; see the report's anomalies in {}/reports/report.md\n",
               outcome.failed_runs, outcome.dir);
    rc = 1;
  }
  return rc;
}

}  // namespace sxcoll::app
