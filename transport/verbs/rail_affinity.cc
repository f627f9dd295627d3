#include "transport/verbs/rail_affinity.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "transport/error.h"

namespace sxcoll::transport::verbs {

namespace fs = std::filesystem;

RailPolicy RailPolicy::parse(const std::string& text, const std::string& flag) {
  RailPolicy p;
  if (text == "auto" || text.empty()) return p;
  if (text == "all") {
    p.kind = Kind::All;
    return p;
  }
  if (text == "local") {
    p.kind = Kind::Local;
    return p;
  }
  p.kind = Kind::List;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const bool digits = !item.empty() && item.size() <= 3 &&
                        std::all_of(item.begin(), item.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits)
      throw UsageError(fmt::format("{} '{}': expected auto, all, local or a rail index per local rank (0,0,1,1)",
                                   flag, text));
    p.by_local_rank.push_back(std::stoi(item));
  }
  if (p.by_local_rank.empty() || text.back() == ',')
    throw UsageError(fmt::format("{} '{}': expected auto, all, local or a rail index per local rank (0,0,1,1)", flag,
                                 text));
  return p;
}

std::string RailPolicy::text() const {
  switch (kind) {
    case Kind::Auto: return "auto";
    case Kind::All: return "all";
    case Kind::Local: return "local";
    case Kind::List: break;
  }
  return fmt::format("{}", fmt::join(by_local_rank, ","));
}

std::optional<int> pcie_hops(const fs::path& a, const fs::path& b) {
  if (a.empty() || b.empty()) return std::nullopt;
  // Components below /sys/devices: pci0000:16 (the host bridge), then one per bridge or
  // device on the way down.
  auto below_devices = [](const fs::path& p) {
    std::vector<std::string> parts;
    bool seen = false;
    for (const auto& part : p) {
      if (seen) parts.push_back(part.string());
      if (part == "devices") seen = true;
    }
    return parts;
  };
  const auto pa = below_devices(a), pb = below_devices(b);
  if (pa.empty() || pb.empty()) return std::nullopt;
  size_t common = 0;
  while (common < pa.size() && common < pb.size() && pa[common] == pb[common]) ++common;
  if (common == 0) return kSystemHops;
  return static_cast<int>((pa.size() - common) + (pb.size() - common));
}

std::string normalize_bus_id(const std::string& bus_id) {
  // domain:bus:device.function, hexadecimal; the domain 4 to 8 digits.
  std::string lower;
  for (unsigned char c : bus_id) lower.push_back(static_cast<char>(std::tolower(c)));
  const size_t colon = lower.find(':');
  if (colon == std::string::npos || colon < 4) return {};
  std::string domain = lower.substr(0, colon);
  const std::string rest = lower.substr(colon);  // ":18:00.0"
  if (rest.size() != 8 || rest[3] != ':' || rest[6] != '.') return {};
  while (domain.size() > 4 && domain.front() == '0') domain.erase(domain.begin());
  if (domain.size() != 4) return {};
  const std::string id = domain + rest;
  for (size_t i = 0; i < id.size(); ++i)
    if (i != 4 && i != 7 && i != 10 && !std::isxdigit(static_cast<unsigned char>(id[i]))) return {};
  return id;
}

namespace {

fs::path resolved(const fs::path& link) {
  std::error_code ec;
  fs::path p = fs::canonical(link, ec);
  return ec ? fs::path() : p;
}

}  // namespace

fs::path pci_device_path(const std::string& bus_id, const fs::path& pci_root) {
  const std::string id = normalize_bus_id(bus_id);
  return id.empty() ? fs::path() : resolved(pci_root / id);
}

fs::path rdma_device_path(const std::string& device, const fs::path& infiniband_root) {
  return resolved(infiniband_root / device / "device");
}

void check_rails_exist(const RailPolicy& policy, int nrails) {
  for (size_t l = 0; l < policy.by_local_rank.size(); ++l)
    if (policy.by_local_rank[l] >= nrails)
      throw UsageError(fmt::format("--rails {}: rail {} for local rank {}, but --hca selects {} rail{}", policy.text(),
                                   policy.by_local_rank[l], l, nrails, nrails == 1 ? "" : "s"));
}

RailChoice choose_rail(const RailPolicy& policy, int local_rank, int local_size, int nrails,
                       const std::vector<std::optional<int>>& hops_by_rail) {
  using Kind = RailPolicy::Kind;
  if (policy.kind == Kind::List) {
    if (static_cast<size_t>(local_rank) >= policy.by_local_rank.size())
      throw UsageError(fmt::format("--rails {}: no rail for local rank {} (one entry per local rank, {} here)",
                                   policy.text(), local_rank, local_size));
    check_rails_exist(policy, nrails);
    return {policy.by_local_rank[static_cast<size_t>(local_rank)], fmt::format("--rails {}", policy.text())};
  }
  if (nrails <= 1 || policy.kind == Kind::All) return {-1, policy.kind == Kind::All ? "--rails all" : "one rail"};
  if (policy.kind == Kind::Auto && local_size < nrails)
    return {-1, fmt::format("{} local rank{} for {} rails", local_size, local_size == 1 ? "" : "s", nrails)};
  const int split = local_rank * nrails / local_size;
  int best = -1;
  for (size_t r = 0; r < hops_by_rail.size() && static_cast<int>(r) < nrails; ++r)
    if (hops_by_rail[r] && (best < 0 || *hops_by_rail[r] < best)) best = *hops_by_rail[r];
  if (best < 0 || hops_by_rail.size() != static_cast<size_t>(nrails))
    return {split, fmt::format("local rank {} of {}", local_rank, local_size)};
  std::vector<int> nearest;
  for (int r = 0; r < nrails; ++r)
    if (hops_by_rail[static_cast<size_t>(r)] == best) nearest.push_back(r);
  const bool split_is_nearest = std::find(nearest.begin(), nearest.end(), split) != nearest.end();
  const int rail = split_is_nearest ? split : nearest[static_cast<size_t>(local_rank) % nearest.size()];
  const std::string distance =
      best >= kSystemHops ? std::string("across the CPU") : fmt::format("{} PCIe hop{}", best, best == 1 ? "" : "s");
  return {rail, fmt::format("nearest to the GPU ({}{})", distance, nearest.size() > 1 ? ", tie split by local rank" : "")};
}

}  // namespace sxcoll::transport::verbs
