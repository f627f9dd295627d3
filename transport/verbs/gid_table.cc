#include "transport/verbs/gid_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <filesystem>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/verbs/sysfs.h"

namespace sxcoll::transport::verbs {

namespace {

namespace fs = std::filesystem;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::array<uint8_t, 16>> parse_sysfs_gid(const std::string& text) {
  std::array<uint8_t, 16> raw{};
  size_t pos = 0;
  for (size_t group = 0; group < 8; ++group) {
    if (group > 0) {
      if (pos >= text.size() || text[pos] != ':') return std::nullopt;
      ++pos;
    }
    if (pos + 4 > text.size()) return std::nullopt;
    int value = 0;
    for (size_t k = 0; k < 4; ++k) {
      int d = hex_digit(text[pos + k]);
      if (d < 0) return std::nullopt;
      value = value * 16 + d;
    }
    raw[2 * group] = static_cast<uint8_t>(value >> 8);
    raw[2 * group + 1] = static_cast<uint8_t>(value & 0xff);
    pos += 4;
  }
  if (pos != text.size()) return std::nullopt;
  return raw;
}

bool GidEntry::is_ipv4_mapped() const {
  return std::all_of(raw.begin(), raw.begin() + 10, [](uint8_t b) { return b == 0; }) && raw[10] == 0xff &&
         raw[11] == 0xff;
}

bool GidEntry::is_link_local() const { return raw[0] == 0xfe && (raw[1] & 0xc0) == 0x80; }

std::string GidEntry::text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(AF_INET6, raw.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

GidTable GidTable::read(const std::string& root, const std::string& device, int port) {
  const fs::path dir = fs::path(root) / device / "ports" / std::to_string(port);
  std::error_code ec;
  fs::directory_iterator it(dir / "gids", ec);
  if (ec)
    throw RunError(fmt::format("verbs: {}:{}: cannot read the GID table at {}: {}", device, port,
                               (dir / "gids").string(), ec.message()));
  std::vector<GidEntry> entries;
  for (const auto& file : it) {
    const std::string name = file.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    auto raw = parse_sysfs_gid(read_sysfs_line(file.path()));
    if (!raw || std::all_of(raw->begin(), raw->end(), [](uint8_t b) { return b == 0; })) continue;
    GidEntry e;
    e.index = std::stoi(name);
    e.raw = *raw;
    e.type = read_sysfs_line(dir / "gid_attrs" / "types" / name);
    e.netdev = read_sysfs_line(dir / "gid_attrs" / "ndevs" / name);
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const GidEntry& a, const GidEntry& b) { return a.index < b.index; });
  return GidTable(std::move(entries));
}

std::optional<int> GidTable::choose_roce_v2() const {
  for (const auto& e : entries_)
    if (e.is_roce_v2() && e.is_ipv4_mapped()) return e.index;
  for (const auto& e : entries_)
    if (e.is_roce_v2() && !e.is_ipv4_mapped() && !e.is_link_local()) return e.index;
  return std::nullopt;
}

const GidEntry* GidTable::at(int index) const {
  for (const auto& e : entries_)
    if (e.index == index) return &e;
  return nullptr;
}

std::string GidTable::summary() const {
  if (entries_.empty()) return "no GIDs";
  std::string out;
  for (const auto& e : entries_) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {} {}", e.index, e.text(), e.type.empty() ? "(no type)" : e.type);
    if (!e.netdev.empty()) out += fmt::format(" on {}", e.netdev);
  }
  return out;
}

}  // namespace sxcoll::transport::verbs
