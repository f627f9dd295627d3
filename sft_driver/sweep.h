// The sweep: host checks, then every run of the plan in order, each written down as soon as
// it ends; finished runs are skipped on resume, failed ones retried up to the plan's limit.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sft_driver/inventory.h"
#include "sft_driver/launcher.h"
#include "sft_driver/nccl_env.h"
#include "sft_driver/plan.h"

namespace sxcoll::sft {

struct SweepSetup {
  SweepPlan plan;
  std::unique_ptr<Launcher> launcher;
  std::optional<Inventory> inventory;
  std::string inventory_text;  // recorded with the results
  NcclEnv nccl;
  std::string nccl_text;
  std::optional<nlohmann::json> fabric;
  std::string fabric_file;
  std::string worker_dir;       // sft_driver/worker
  std::string rank_env_script;  // sft_driver/launch/rank_env.sh
  std::chrono::milliseconds failure_grace{30000};
};

// Prints every command and environment, runs nothing.
void print_dry_run(const SweepSetup& setup, std::ostream& out);

// A new results/<timestamp>/ under `results_base`, or `resume_dir` when given. Returns the
// folder; `interrupted` tells whether SIGINT/SIGTERM stopped it.
struct SweepOutcome {
  std::string dir;
  bool interrupted = false;
  int failed_runs = 0;
};
SweepOutcome run_sweep(const SweepSetup& setup, const std::string& results_base, const std::string& resume_dir,
                       std::ostream& out);

// The spec of a run as status.json records it.
nlohmann::json spec_json(const RunSpec& run);

}  // namespace sxcoll::sft
