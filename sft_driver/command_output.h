// Short commands whose output sxcoll reads (host checks, versions), each with a time limit.
#pragma once

#include <string>
#include <vector>

namespace sxcoll::sft {

struct CommandOutput {
  int exit_code = -1;  // 124: the time limit passed (coreutils timeout)
  std::string output;  // stdout and stderr
};

CommandOutput run_command(const std::vector<std::string>& argv, int timeout_s);
bool on_path(const std::string& program);

}  // namespace sxcoll::sft
