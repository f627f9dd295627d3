// NCCL_IB_HCA's syntax for choosing ports: "mlx5_0:1,mlx5_1:1". A name without '=' matches
// every device it prefixes ("mlx5" selects mlx5_0 and mlx5_12); a leading '=' asks for
// exact names; a leading '^' excludes the listed ports instead; "^=" does both. A missing
// port means every port of the device. Empty: every port.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sxcoll::transport::verbs {

class HcaList {
 public:
  // Throws UsageError naming `flag` and the bad item.
  static HcaList parse(std::string_view text, std::string_view flag = "--hca");

  bool selects(std::string_view device, int port) const;
  bool empty() const { return items_.empty(); }
  bool exclude() const { return exclude_; }
  bool exact() const { return exact_; }
  std::string str() const;

  struct Item {
    std::string device;
    int port = -1;  // -1: any port
  };
  const std::vector<Item>& items() const { return items_; }

 private:
  bool exclude_ = false;
  bool exact_ = false;
  std::vector<Item> items_;
};

}  // namespace sxcoll::transport::verbs
