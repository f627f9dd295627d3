#include "collectives/topology.h"

#include <stdexcept>
#include <unordered_map>

#include <fmt/core.h>

namespace sxcoll {

Topology Topology::from_hostnames(const std::vector<std::string>& hostnames) {
  Topology t;
  std::unordered_map<std::string, int> index;
  for (size_t r = 0; r < hostnames.size(); ++r) {
    auto [it, fresh] = index.try_emplace(hostnames[r], static_cast<int>(t.names_.size()));
    if (fresh) {
      t.names_.push_back(hostnames[r]);
      t.ranks_.emplace_back();
    }
    auto& ranks = t.ranks_[static_cast<size_t>(it->second)];
    t.host_.push_back(it->second);
    t.local_.push_back(static_cast<int>(ranks.size()));
    ranks.push_back(static_cast<int>(r));
  }
  for (const auto& ranks : t.ranks_) t.uniform_ = t.uniform_ && ranks.size() == t.ranks_.front().size();
  return t;
}

Topology Topology::single_host(int nranks) { return blocked(1, nranks); }

Topology Topology::blocked(int hosts, int local_size) {
  std::vector<std::string> names;
  for (int h = 0; h < hosts; ++h)
    for (int l = 0; l < local_size; ++l) names.push_back(fmt::format("host{}", h));
  return from_hostnames(names);
}

int Topology::rail_of(int rank, int nrails) const {
  if (!rails_.empty()) return rails_[static_cast<size_t>(rank)];
  return local_rank(rank) * nrails / local_size_of(rank);
}

void Topology::set_rails(std::vector<int> rail_by_rank) {
  if (rail_by_rank.size() != host_.size())
    throw std::invalid_argument(
        fmt::format("topology: {} rails given for {} ranks (one per rank expected)", rail_by_rank.size(), host_.size()));
  for (size_t r = 0; r < rail_by_rank.size(); ++r)
    if (rail_by_rank[r] < 0) throw std::invalid_argument(fmt::format("topology: rank {}: rail {}", r, rail_by_rank[r]));
  rails_ = std::move(rail_by_rank);
}

}  // namespace sxcoll
