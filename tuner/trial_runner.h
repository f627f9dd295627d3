// One trial: a fresh set of ranks running `sxcoll bench --json` once with one setting,
// started the way `sxcoll bench` is (its own local ranks with --np, or behind the --launch
// prefix: mpirun, srun), because NCCL reads its environment once per process. sxcoll's knobs
// become bench flags; NCCL's become the child's environment.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tuner/child_process.h"
#include "tuner/knobs.h"
#include "tuner/sample.h"

namespace sxcoll::tune {

struct TrialPlan {
  Engine engine = Engine::Nccl;
  std::string transport;            // sxcoll: bench's --transport (tcp, verbs); nccl: auto, socket, ib
  std::string memory = "host";      // bench's --mem: where the buffers are (nccl: cuda)
  std::string exe;                  // the sxcoll executable
  std::vector<std::string> launch;  // launcher prefix, split on whitespace; empty: local ranks
  int np = 0;                       // local ranks (no launcher)
  size_t min_bytes = 0, max_bytes = 0;
  int iters = 20, warmup = 5, check = 0;
  std::string dtype = "float";
  // NCCL trials: the fixed facts and the transport conditions, set in every trial.
  std::vector<std::pair<std::string, std::string>> fixed_env;
  std::vector<Knob> knobs;  // every knob of the engine: their variables are unset unless set
};

// The command of one trial writing its results to `json_path`.
ChildSpec trial_spec(const TrialPlan& plan, const Settings& settings, size_t min_bytes, size_t max_bytes,
                     const std::string& json_path);

// What a `sxcoll bench --json` file says, for the tuner.
struct BenchResults {
  std::string engine, engine_detail;
  int ranks = 0;
  int rails = 0;
  std::vector<SizeSample> sizes;
};
// Throws std::runtime_error naming the missing field.
BenchResults parse_bench_json(const nlohmann::json& j);

struct TrialResult {
  std::string status;  // "ok", "failed", "timeout"; "stopped" and "cut" are not recorded
  BenchResults bench;
  std::string error;
  double seconds = 0;
  std::string command;
};

// Runs the trial with files <raw_prefix>.json, .out and .err. `limit` ends it (status
// "timeout", or "cut" when `limit_is_budget`: the tuning budget, not the trial, ran out);
// `stop` ends it with status "stopped".
TrialResult run_trial(const TrialPlan& plan, const Settings& settings, size_t min_bytes, size_t max_bytes,
                      const std::string& raw_prefix, std::chrono::milliseconds limit, bool limit_is_budget,
                      const std::function<bool()>& stop);

}  // namespace sxcoll::tune
