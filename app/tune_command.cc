#include "app/tune_command.h"

#include <charconv>
#include <iostream>

#include <fmt/core.h>
#include <fmt/format.h>

#include "bench/duration_parse.h"
#include "transport/error.h"
#include "tuner/knobs.h"
#include "tuner/tuner.h"
#include "tuner/workload.h"

namespace sxcoll::app {

namespace {

double parse_percent(const std::string& text, const std::string& flag) {
  std::string number = text;
  if (!number.empty() && number.back() == '%') number.pop_back();
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || !(value >= 0))
    throw UsageError(fmt::format("{} '{}': expected a percentage such as 2%", flag, text));
  return value / 100;
}

void print_knobs() {
  fmt::print("# sxcoll tune's search space, in search order per engine (the default is the baseline)\n");
  fmt::print("# {:<28} {:<7} {:<7} {:<13} {:<28} {}\n", "knob", "engine", "fabric", "default", "values tried", "what");
  for (const auto& k : tune::knob_table()) {
    std::vector<std::string> values;
    for (const auto& v : k.values) values.push_back(tune::display_value(k, v));
    fmt::print("  {:<28} {:<7} {:<7} {:<13} {:<28} {}\n", k.name, tune::engine_name(k.engine),
               tune::fabric_name(k.fabric), tune::display_value(k, k.default_value),
               fmt::format("{}", fmt::join(values, ",")), k.what);
  }
}

}  // namespace

void add_tune_command(CLI::App& app, TuneCommand& t) {
  auto* cmd = app.add_subcommand("tune",
                                 "Measure transport settings (NCCL's or sxcoll's) on this fabric and write "
                                 "nccl_env.sh with the evidence");
  t.command = cmd;
  cmd->add_option("--engine", t.engine, "nccl (the NCCL_* variables) or sxcoll (sxcoll bench's flags)")
      ->capture_default_str();
  cmd->add_option("--transport", t.transport,
                  "sxcoll: tcp or verbs (default tcp); nccl: auto, socket or ib "
                  "(default auto: ib where an RDMA port is active)");
  cmd->add_option("--mem", t.memory,
                  "Where each trial's buffers are: host or cuda (bench's --mem; default host for sxcoll, "
                  "NCCL always cuda)");
  cmd->add_option("--np", t.np, "Fork this many local ranks per trial");
  cmd->add_option("--launch", t.launch,
                  "Launcher prefix put in front of each trial, split on whitespace "
                  "('mpirun -np 16 -H a,b', 'srun -N 2 --ntasks-per-node 8')");
  cmd->add_option("--sizes", t.sizes,
                  fmt::format("Sizes that matter, each counted the same: 64K,1M,16M or 64K..16M "
                              "(default {})",
                              tune::kDefaultSizes));
  cmd->add_option("--workload", t.workload, "Weight the sizes by a training workload: " + tune::workload_choices());
  cmd->add_option("--knob", t.knobs,
                  "Search only this knob, optionally with its values: NAME or NAME=V1,V2 "
                  "(repeatable; --list-knobs shows them)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--budget", t.budget, "Time for the whole search (90s, 20m, 1h)")->capture_default_str();
  cmd->add_option("--trial-timeout", t.trial_timeout, "A trial running longer is killed and counted as failed")
      ->capture_default_str();
  cmd->add_option("--repeats", t.repeats, "Fresh processes per value")->capture_default_str();
  cmd->add_option("--confidence", t.confidence, "Level of the interval on the gain, over all the values of one knob")
      ->capture_default_str();
  cmd->add_option("--min-gain", t.min_gain, "Smallest gain worth changing a default for")->capture_default_str();
  cmd->add_option("-n,--iters", t.iters, "Timed iterations per size in each trial")->capture_default_str();
  cmd->add_option("-w,--warmup_iters", t.warmup, "Warm-up iterations in each trial")->capture_default_str();
  cmd->add_option("-c,--check", t.check, "Check results in each trial (0/1)")->capture_default_str();
  cmd->add_option("-d,--datatype", t.dtype, "Data type of the allreduce")->capture_default_str();
  cmd->add_option("--out", t.out,
                  "Results folder; a rerun with the same folder reuses its trials "
                  "(default results/tune-<UTC time>)");
  cmd->add_flag("--list-knobs", t.list_knobs, "Print the search space and exit");
}

int TuneCommand::run() {
  if (list_knobs) {
    print_knobs();
    return 0;
  }
  tune::TuneOptions o;
  if (engine != "nccl" && engine != "sxcoll")
    throw UsageError(fmt::format("--engine '{}': expected nccl or sxcoll", engine));
  o.engine = engine == "nccl" ? tune::Engine::Nccl : tune::Engine::Sxcoll;
  o.transport = transport;
  o.memory = memory;
  o.np = np;
  if (command->get_option("--np")->count() > 0 && np < 2)
    throw UsageError(fmt::format("--np {}: expected 2..1024 ranks (busbw needs a peer)", np));
  o.launch = launch;
  if (command->get_option("--launch")->count() > 0 && launch.find_first_not_of(" \t") == std::string::npos)
    throw UsageError("--launch '': expected a launcher command such as 'mpirun -np 16 -H a,b'");
  o.sizes = sizes;
  if (command->get_option("--sizes")->count() > 0 && sizes.empty()) throw UsageError("--sizes '': no size given");
  o.workload = workload;
  o.knobs = knobs;
  o.budget = bench::parse_duration(budget, "--budget");
  o.trial_timeout = bench::parse_duration(trial_timeout, "--trial-timeout");
  o.search.repeats = repeats;
  o.search.confidence = confidence;
  o.search.min_gain = parse_percent(min_gain, "--min-gain");
  o.iters = iters;
  o.warmup = warmup;
  o.check = check;
  o.dtype = dtype;
  o.out_dir = out;
  tune::Tuner tuner(std::move(o));
  return tuner.run(std::cout);
}

}  // namespace sxcoll::app
