// `sxcoll bench`: flags (nccl-tests' where they exist), validation, and the launch.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace sxcoll::app {

// Adds the subcommand; the returned callback runs it and gives the exit code.
struct BenchCommand {
  CLI::App* command = nullptr;
  CLI::Option* np_option = nullptr;
  int run();

  // The settings `sxcoll tune --engine sxcoll` exports as SXCOLL_* (nccl_env.sh): the flag
  // wins, else the variable, else the default. Kept as text: run() resolves and parses them.
  std::string algorithm = "auto", nsocks = "1", tcp_io = "auto", qps = "1", tc = "0", channels = "2", buffsize = "4M";
  struct EnvKnob {
    CLI::Option* option;
    std::string BenchCommand::*value;
    std::string env;
  };
  std::vector<EnvKnob> env_knobs;

  // Raw flag values; turned into BenchOptions by run().
  std::string min_bytes = "8", max_bytes = "64M", step_factor = "2", step_bytes = "0";
  int iters = 20, warmup = 5, check = 1, aggregate = 1;
  std::string dtypes = "float", ops = "sum", transport = "tcp", intra = "auto";
  std::string engine = "sxcoll", memory = "host";
  int np = 0;
  std::string timeout = "30s";
  std::string json, csv;
  // verbs transport
  std::string hca;
  int sl = 0, gid_index = -1, ib_timeout = 20, ib_retry_cnt = 7;
  // per-link check
  bool p2p = false;
  double p2p_threshold = 0.8;
  // cluster validation
  bool validate = false;
  std::string validate_threshold = "10%", out, hosts_out;
};

void add_bench_command(CLI::App& app, BenchCommand& bench);

}  // namespace sxcoll::app
