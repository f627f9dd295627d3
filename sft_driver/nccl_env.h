// nccl_env.sh (from `sxcoll tune`): `export NAME=value` lines, comments and blank lines.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sxcoll::sft {

struct NcclEnv {
  std::string origin;  // the file, or "" when none was given
  std::vector<std::pair<std::string, std::string>> vars;  // in file order
};

// Values may be bare or quoted ('...' or "..."); nothing is expanded, so `$`, backticks and
// anything but an export line is refused with one line naming the file and line.
NcclEnv parse_nccl_env(const std::string& text, const std::string& origin);
NcclEnv load_nccl_env(const std::string& path);

}  // namespace sxcoll::sft
