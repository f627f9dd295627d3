// A port's GID table as sysfs shows it, and the choice of the RoCE v2 entry to use.
//
// RoCE v2 packets are UDP/IP: the GID is the source IP address, and each address of the
// port's netdev appears twice in the table, once per RoCE version. NCCL and perftest read
// /sys/class/infiniband/<dev>/ports/<port>/gid_attrs/types/<i> ("RoCE v2", "IB/RoCE v1")
// to tell them apart; so does this. Reading sysfs rather than calling verbs keeps the
// choice testable on a fake tree.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sxcoll::transport::verbs {

inline constexpr const char* kSysfsInfiniband = "/sys/class/infiniband";

struct GidEntry {
  int index = 0;
  std::array<uint8_t, 16> raw{};
  std::string type;    // "RoCE v2", "IB/RoCE v1"; empty where sysfs gives none
  std::string netdev;  // gid_attrs/ndevs/<i>; empty where sysfs gives none

  bool is_ipv4_mapped() const;  // ::ffff:a.b.c.d
  bool is_link_local() const;   // fe80::/10
  bool is_roce_v2() const { return type == "RoCE v2"; }
  std::string text() const;  // "::ffff:192.0.2.1", as ibv_devinfo prints it
};

class GidTable {
 public:
  // Reads <root>/<device>/ports/<port>/gids/* with their types and netdevs; entries that are
  // all zero (unused) are left out. Throws RunError if the port has no gids folder.
  static GidTable read(const std::string& root, const std::string& device, int port);
  explicit GidTable(std::vector<GidEntry> entries) : entries_(std::move(entries)) {}

  // The lowest-indexed RoCE v2 entry of an IPv4 address; failing that, of a global IPv6
  // address (an IPv6-only fabric). nullopt when the port has neither.
  std::optional<int> choose_roce_v2() const;
  const GidEntry* at(int index) const;
  const std::vector<GidEntry>& entries() const { return entries_; }
  // "0: fe80::1 RoCE v2; 1: ::ffff:192.0.2.1 RoCE v2", for error messages.
  std::string summary() const;

 private:
  std::vector<GidEntry> entries_;
};

// Parses sysfs's "0000:0000:0000:0000:0000:ffff:c000:0201"; nullopt when malformed.
std::optional<std::array<uint8_t, 16>> parse_sysfs_gid(const std::string& text);

}  // namespace sxcoll::transport::verbs
