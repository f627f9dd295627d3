#include "sft_driver/command_output.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "sft_driver/launcher.h"

namespace sxcoll::sft {

CommandOutput run_command(const std::vector<std::string>& argv, int timeout_s) {
  std::string line = "timeout -k 5 " + std::to_string(timeout_s);
  for (const auto& a : argv) {
    line += ' ';
    line += shell_quote(a);
  }
  line += " </dev/null 2>&1";
  CommandOutput out;
  FILE* pipe = ::popen(line.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.output.append(buf, n);
  int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) continue;
    dir.append("/").append(program);
    if (::access(dir.c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace sxcoll::sft
