#include "sft_driver/nccl_env.h"

#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::sft {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

NcclEnv parse_nccl_env(const std::string& text, const std::string& origin) {
  static const std::regex line_re(R"(^export[ \t]+([A-Za-z_][A-Za-z0-9_]*)=(.*)$)");
  NcclEnv env{origin, {}};
  std::istringstream in(text);
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    auto fail = [&](const std::string& why) {
      throw UsageError(fmt::format("--nccl-env {}:{}: {}: '{}'", origin, n, why, line));
    };
    std::smatch m;
    if (!std::regex_match(line, m, line_re)) fail("expected 'export NAME=value' or a comment");
    std::string value = m[2].str();
    if (!value.empty() && (value[0] == '\'' || value[0] == '"')) {
      const char q = value[0];
      size_t close = value.find(q, 1);
      if (close == std::string::npos) fail("unterminated quote");
      std::string rest = trim(value.substr(close + 1));
      if (!rest.empty() && rest[0] != '#') fail("text after the closing quote");
      value = value.substr(1, close - 1);
      if (q == '"' && value.find_first_of("$`\\") != std::string::npos)
        fail("$, ` and \\ are not expanded here; write the value itself");
    } else {
      size_t hash = value.find(" #");
      if (hash != std::string::npos) value = trim(value.substr(0, hash));
      if (value.find_first_of(" \t'\"$`\\;|&<>()") != std::string::npos)
        fail("a bare value holds no spaces, quotes or shell characters; quote it, and nothing is expanded");
    }
    for (auto& [name, old] : env.vars)
      if (name == m[1].str()) fail(fmt::format("{} is set twice", name));
    env.vars.emplace_back(m[1].str(), value);
  }
  return env;
}

NcclEnv load_nccl_env(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("--nccl-env {}: cannot open", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_nccl_env(ss.str(), path);
}

}  // namespace sxcoll::sft
