#include "sft_driver/slurm_hostlist.h"

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::sft {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// "0001-0003,0009" -> 0001 0002 0003 0009 (the width of the lower bound kept).
std::vector<std::string> expand_ranges(const std::string& ranges, const std::string& expression) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= ranges.size()) {
    const size_t comma = std::min(ranges.find(',', start), ranges.size());
    const std::string item = ranges.substr(start, comma - start);
    const size_t dash = item.find('-');
    const std::string lo = item.substr(0, dash), hi = dash == std::string::npos ? lo : item.substr(dash + 1);
    if (!all_digits(lo) || !all_digits(hi) || lo.size() > 9 || hi.size() > 9)
      throw UsageError(fmt::format("host list '{}': '{}' is not a number or a range of numbers", expression, item));
    const long a = std::stol(lo), b = std::stol(hi);
    if (b < a) throw UsageError(fmt::format("host list '{}': range '{}' runs backwards", expression, item));
    if (b - a > 100000) throw UsageError(fmt::format("host list '{}': range '{}' is too long", expression, item));
    for (long k = a; k <= b; ++k) out.push_back(fmt::format("{:0{}}", k, lo.size()));
    start = comma + 1;
  }
  return out;
}

// One name with its bracket groups, e.g. "r[1-2]n[01-02]".
std::vector<std::string> expand_name(const std::string& name, const std::string& expression) {
  std::vector<std::string> out{""};
  size_t pos = 0;
  while (pos < name.size()) {
    const size_t open = name.find('[', pos);
    const std::string literal = name.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
    if (literal.find(']') != std::string::npos)
      throw UsageError(fmt::format("host list '{}': ']' without '['", expression));
    for (auto& o : out) o += literal;
    if (open == std::string::npos) break;
    const size_t close = name.find(']', open);
    if (close == std::string::npos) throw UsageError(fmt::format("host list '{}': '[' is never closed", expression));
    std::vector<std::string> next;
    for (const auto& o : out)
      for (const auto& n : expand_ranges(name.substr(open + 1, close - open - 1), expression)) next.push_back(o + n);
    out = std::move(next);
    pos = close + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> expand_hostlist(const std::string& expression) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= expression.size(); ++i) {
    const char c = i < expression.size() ? expression[i] : ',';
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (depth < 0 || depth > 1) throw UsageError(fmt::format("host list '{}': brackets do not match", expression));
    if (c != ',' || depth != 0) continue;
    const std::string name = expression.substr(start, i - start);
    if (name.empty()) throw UsageError(fmt::format("host list '{}': an empty name", expression));
    for (auto& n : expand_name(name, expression)) out.push_back(std::move(n));
    start = i + 1;
  }
  if (depth != 0) throw UsageError(fmt::format("host list '{}': '[' is never closed", expression));
  return out;
}

Inventory inventory_from_hostlist(const std::string& expression, int gpus, const std::string& origin) {
  Inventory inv;
  inv.origin = origin;
  for (auto& name : expand_hostlist(expression)) inv.hosts.push_back({name, name, gpus, {}, false, ""});
  return inv;
}

}  // namespace sxcoll::sft
