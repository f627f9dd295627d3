#include "bench/size_parse.h"

#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench {

size_t parse_size(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return UsageError(fmt::format("{} '{}': {} (expected a byte count such as 8, 64K, 1M, 32G)", what, text, why));
  };
  if (text.empty()) throw bad("empty size");
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) throw bad("too large");
  if (ec != std::errc() || end == text.data()) throw bad("not a number");
  std::string suffix(end, text.data() + text.size());
  for (auto& ch : suffix) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  // "KiB", "KB", "K" and "B" all read as the unit before them; a bare "iB" is a typo.
  if (suffix.size() == 3 && suffix.substr(1) == "IB") suffix.resize(1);
  else if (suffix.size() >= 1 && suffix.back() == 'B' && suffix != "IB") suffix.pop_back();
  unsigned shift = 0;
  if (suffix == "K") shift = 10;
  else if (suffix == "M") shift = 20;
  else if (suffix == "G") shift = 30;
  else if (suffix == "T") shift = 40;
  else if (!suffix.empty()) throw bad("unknown suffix");
  if (value > (std::numeric_limits<size_t>::max() >> shift)) throw bad("too large");
  return value << shift;
}

std::string format_size(size_t bytes) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int unit = 0;
  while (unit < 4 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{}{}", bytes, units[unit]);
}

}  // namespace sxcoll::bench
