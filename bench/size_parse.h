// Byte counts as people type them: 8, 64K, 1M, 32G (powers of 1024, as nccl-tests reads them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sxcoll::bench {

// Throws UsageError naming `what` (e.g. "-b") for anything but digits with an optional
// K/M/G/T suffix (an optional trailing B or iB is accepted: 4MiB, 4MB, 4M).
size_t parse_size(std::string_view text, std::string_view what);

// 1048576 -> "1M"; 1536 -> "1536".
std::string format_size(size_t bytes);

}  // namespace sxcoll::bench
