// Comma lists as flags and variables write them: "mlx5_0:1,mlx5_1:1", "1M,4M", "float,half".
#pragma once

#include <string_view>
#include <vector>

namespace sxcoll {

// The items between separators, empty ones kept ("a,,b" gives "a", "", "b"; "" gives one
// empty item) so that callers can name an empty entry as the mistake it is.
inline std::vector<std::string_view> split_list(std::string_view text, char separator = ',') {
  std::vector<std::string_view> items;
  for (;;) {
    const size_t at = text.find(separator);
    items.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return items;
    text.remove_prefix(at + 1);
  }
}

}  // namespace sxcoll
