// Durations as people type them: "40" (seconds), "90s", "500ms", "20m", "1h".
#pragma once

#include <chrono>
#include <string_view>

namespace sxcoll::bench {

// Throws UsageError naming `what` (e.g. "--timeout") unless the text is a positive duration
// of at least a millisecond.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what);

}  // namespace sxcoll::bench
