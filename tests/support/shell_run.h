// Running a command line the way a user types it, for the tests of sxcoll's subcommands:
// exit code, stdout and stderr, each captured in a file of the test's own folder.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sxcoll::testing {

struct ShellResult {
  int code = -1;  // the exit status; -1 when killed by a signal
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `line` through /bin/sh in `dir`, its stdout and stderr to dir/out.txt and dir/err.txt.
inline ShellResult run_shell(const std::string& line, const std::filesystem::path& dir) {
  const std::string cmd = "cd '" + dir.string() + "' && (" + line + ") >out.txt 2>err.txt";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "out.txt"), slurp(dir / "err.txt")};
}

}  // namespace sxcoll::testing
