// `sxcoll sft`: the Llama-2 SFT sweep — flags, validation, and the sweep or the report.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace sxcoll::app {

struct SftCommand {
  CLI::App* command = nullptr;
  CLI::Option* timeout_option = nullptr;
  CLI::Option* attempts_option = nullptr;
  int run();

  std::string plan, hosts, launcher = "local", nccl_env, fabric, results = "results", resume, report_only, python;
  bool dry_run = false;
  double timeout_s = 0;
  int max_attempts = 0;
};

void add_sft_command(CLI::App& app, SftCommand& sft);

}  // namespace sxcoll::app
