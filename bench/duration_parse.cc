#include "bench/duration_parse.h"

#include <charconv>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench {

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  const double scale = unit.empty() || unit == "s" ? 1000
                       : unit == "ms"              ? 1
                       : unit == "m"               ? 60000
                       : unit == "h"               ? 3600000
                                                   : -1;
  if (ec != std::errc() || scale < 0 || !(value > 0) || value * scale < 1)
    throw UsageError(fmt::format("{} '{}': expected a positive duration such as 20m, 90s, 1h", what, text));
  return std::chrono::milliseconds(static_cast<long long>(value * scale));
}

}  // namespace sxcoll::bench
