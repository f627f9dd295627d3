// `sxcoll tune`: flags, validation, and the tuning run.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace sxcoll::app {

struct TuneCommand {
  CLI::App* command = nullptr;
  int run();

  // Raw flag values; turned into tune::TuneOptions by run().
  std::string engine = "nccl", transport, memory, launch, sizes, workload, budget = "20m", trial_timeout = "5m";
  std::string min_gain = "2%", dtype = "float", out;
  std::vector<std::string> knobs;
  int np = 0, repeats = 3, iters = 20, warmup = 5, check = 0;
  double confidence = 0.95;
  bool list_knobs = false;
};

void add_tune_command(CLI::App& app, TuneCommand& tune);

}  // namespace sxcoll::app
