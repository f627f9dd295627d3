// `sxcoll bench`: flags (nccl-tests' where they exist), validation, and the launch.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace sxcoll::app {

// Adds the subcommand; the returned callback runs it and gives the exit code.
struct BenchCommand {
  CLI::App* command = nullptr;
  CLI::Option* np_option = nullptr;
  int run();

  // The engine's knobs (bench/knob_table.h), by flag, as typed: the flag wins, else the
  // SXCOLL_* variable, else (verbs) the NCCL_* one, else the default. run() parses them.
  std::map<std::string, std::string, std::less<>> knob_text;
  std::map<std::string, CLI::Option*, std::less<>> knob_options;
  const std::string& knob(std::string_view flag) const { return knob_text.find(flag)->second; }

  // Raw flag values; turned into BenchOptions by run().
  std::string min_bytes = "8", max_bytes = "64M", step_factor = "2", step_bytes = "0";
  int iters = 20, warmup = 5, check = 1, aggregate = 1;
  std::string dtypes = "float", ops = "sum", transport = "tcp";
  std::string collectives = "allreduce";
  int root = 0;
  std::string engine = "sxcoll", memory = "host";
  int np = 0;
  std::string timeout = "30s";
  std::string json, csv, nccl_json;
  int per_iteration = 0;
  // verbs transport
  int sl = 0, ib_timeout = 20, ib_retry_cnt = 7;
  // per-link check
  bool p2p = false;
  double p2p_threshold = 0.8;
  // cluster validation
  bool validate = false;
  std::string validate_threshold = "10%", out, hosts_out;
};

void add_bench_command(CLI::App& app, BenchCommand& bench);

}  // namespace sxcoll::app
