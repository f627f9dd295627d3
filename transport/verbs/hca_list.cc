#include "transport/verbs/hca_list.h"

#include <charconv>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/split.h"

namespace sxcoll::transport::verbs {

HcaList HcaList::parse(std::string_view text, std::string_view flag) {
  HcaList list;
  const std::string original(text);
  if (!text.empty() && text.front() == '^') {
    list.exclude_ = true;
    text.remove_prefix(1);
  }
  if (!text.empty() && text.front() == '=') {
    list.exact_ = true;
    text.remove_prefix(1);
  }
  if (text.empty()) {
    if (list.exclude_ || list.exact_)
      throw UsageError(fmt::format("{} '{}': no device after the prefix (expected e.g. mlx5_0:1,mlx5_1:1)", flag, original));
    return list;
  }
  for (std::string_view item : split_list(text)) {
    size_t colon = item.find(':');
    Item parsed;
    parsed.device = std::string(item.substr(0, colon));
    if (parsed.device.empty())
      throw UsageError(fmt::format("{} '{}': empty device name (expected e.g. mlx5_0:1,mlx5_1:1)", flag, original));
    if (parsed.device.find_first_of("=^ ") != std::string::npos)
      throw UsageError(fmt::format("{} '{}': bad device name '{}' ('=' and '^' go once, at the front)", flag, original,
                                   parsed.device));
    if (colon != std::string_view::npos) {
      std::string_view port = item.substr(colon + 1);
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), parsed.port);
      if (port.empty() || ec != std::errc() || end != port.data() + port.size() || parsed.port < 1 || parsed.port > 255)
        throw UsageError(fmt::format("{} '{}': port '{}' of {} is not a number 1..255", flag, original, port,
                                     parsed.device));
    }
    list.items_.push_back(parsed);
  }
  return list;
}

bool HcaList::selects(std::string_view device, int port) const {
  if (items_.empty()) return true;
  bool listed = false;
  for (const Item& item : items_) {
    bool name_matches = exact_ ? device == item.device : device.substr(0, item.device.size()) == item.device;
    if (name_matches && (item.port < 0 || item.port == port)) listed = true;
  }
  return listed != exclude_;
}

std::string HcaList::str() const {
  std::string out = exclude_ ? "^" : "";
  if (exact_) out += "=";
  for (size_t i = 0; i < items_.size(); ++i) {
    if (i > 0) out += ",";
    out += items_[i].device;
    if (items_[i].port >= 0) out += fmt::format(":{}", items_[i].port);
  }
  return out;
}

}  // namespace sxcoll::transport::verbs
