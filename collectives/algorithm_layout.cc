#include "collectives/algorithm_layout.h"

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>

#include <fmt/core.h>

#include "collectives/allreduce_recursive_doubling.h"
#include "collectives/allreduce_ring.h"
#include "collectives/allreduce_tree.h"
#include "collectives/ring_schedule.h"

namespace sxcoll {

int layout_channels(Algorithm algo, int requested) {
  if (algo == Algorithm::Tree) return requested < 2 ? 2 : requested + requested % 2;
  return requested;
}

namespace {

// Where each rank drives one rail (Topology::set_rails), channel c crosses every host
// boundary on rail c % rails: the host's ranks of that rail come first and last, so the
// channel leaves one host and enters the next from ranks that drive the same NIC (the
// rail-optimized fabric's rails do not meet below the spine). Empty where some host has
// fewer than two ranks of that rail: the rotation then spreads the crossings instead.
std::vector<int> rail_aligned_order(const Topology& topology, int channel) {
  const int nrails = topology.rails_set();
  const int rail = channel % nrails;
  std::vector<int> order;
  for (int h = 0; h < topology.hosts(); ++h) {
    std::vector<int> on, off;
    for (int r : topology.ranks_on(h)) (topology.rail_of(r, nrails) == rail ? on : off).push_back(r);
    if (on.size() < 2) return {};
    // Channels beyond the rails cross from other ranks of the rail.
    std::rotate(on.begin(), on.begin() + static_cast<long>(static_cast<size_t>(channel / nrails) % on.size()), on.end());
    order.push_back(on.front());
    order.insert(order.end(), off.begin(), off.end());
    order.insert(order.end(), on.begin() + 1, on.end());
  }
  return order;
}

}  // namespace

std::vector<int> topo_ring_order(const Topology& topology, int channel, int channels) {
  // One host: no boundary to spread, and the ring stays the flat one.
  if (topology.hosts() > 1 && topology.rails_set() > 1)
    if (auto aligned = rail_aligned_order(topology, channel); !aligned.empty()) return aligned;
  std::vector<int> order;
  order.reserve(static_cast<size_t>(topology.size()));
  for (int h = 0; h < topology.hosts(); ++h) {
    const auto& ranks = topology.ranks_on(h);
    const int n = static_cast<int>(ranks.size());
    const int shift = topology.hosts() == 1 ? 0 : channel * n / channels;
    for (int i = 0; i < n; ++i) order.push_back(ranks[static_cast<size_t>((i + shift) % n)]);
  }
  return order;
}

AlgorithmLayout::AlgorithmLayout(Algorithm algo, const Topology& topology, int rank, int channels)
    : algo_(algo), nranks_(topology.size()), rank_(rank) {
  if (algo == Algorithm::Auto || !algorithm_applies(algo, topology))
    throw std::logic_error(fmt::format("AlgorithmLayout: {} does not apply to {} ranks on {} hosts",
                                       algorithm_name(algo), topology.size(), topology.hosts()));
  hier_ = HierShape{topology.hosts(), topology.local_size_of(rank), topology.host_of(rank), topology.local_rank(rank)};
  const int n = nranks_;
  channels_.resize(static_cast<size_t>(channels));
  std::array<TreeNode, 2> trees{};
  if (algo == Algorithm::Tree) trees = double_binary_tree(n, rank);
  for (int c = 0; c < channels; ++c) {
    PerChannel& ch = channels_[static_cast<size_t>(c)];
    switch (algo) {
      case Algorithm::Ring:
        ch.ring_position = rank;
        ch.links = ChannelLinks{{ring_prev(n, rank)}, {ring_next(n, rank)}};
        break;
      case Algorithm::TopoRing: {
        const auto order = topo_ring_order(topology, c, channels);
        const int pos = static_cast<int>(std::find(order.begin(), order.end(), rank) - order.begin());
        ch.ring_position = pos;
        ch.links = ChannelLinks{{order[static_cast<size_t>(ring_prev(n, pos))]},
                                {order[static_cast<size_t>(ring_next(n, pos))]}};
        break;
      }
      case Algorithm::Tree: {
        ch.tree = trees[static_cast<size_t>(c % 2)];
        TreeLinks tl = TreeLinks::of(ch.tree);
        ch.links = ChannelLinks{tl.in_peers, tl.out_peers};
        break;
      }
      case Algorithm::RecursiveDoubling: {
        auto partners = recursive_doubling_partners(n, rank);
        ch.links = ChannelLinks{partners, partners};
        break;
      }
      case Algorithm::Hierarchical: {
        const HierShape& s = hier_;
        if (s.local_size > 1) {
          ch.links.in_peers.push_back(topology.rank_at(s.host, ring_prev(s.local_size, s.local_rank)));
          ch.links.out_peers.push_back(topology.rank_at(s.host, ring_next(s.local_size, s.local_rank)));
        }
        if (s.hosts > 1) {
          ch.links.in_peers.push_back(topology.rank_at(ring_prev(s.hosts, s.host), s.local_rank));
          ch.links.out_peers.push_back(topology.rank_at(ring_next(s.hosts, s.host), s.local_rank));
        }
        break;
      }
      case Algorithm::Auto:
        break;
    }
  }
}

std::vector<int> Layout::peers() const {
  std::set<int> peers;
  for (int c = 0; c < channels(); ++c) {
    peers.insert(links(c).in_peers.begin(), links(c).in_peers.end());
    peers.insert(links(c).out_peers.begin(), links(c).out_peers.end());
  }
  return std::vector<int>(peers.begin(), peers.end());
}

Range AlgorithmLayout::slice(int channel, size_t count, size_t align) const {
  return split_range(count, channels_.size(), static_cast<size_t>(channel), align);
}

std::vector<ChannelProgram> AlgorithmLayout::programs(int channel, size_t count, size_t chunk, size_t align) const {
  const PerChannel& ch = channels_[static_cast<size_t>(channel)];
  const Range s = slice(channel, count, align);
  std::vector<ChannelProgram> out;
  switch (algo_) {
    case Algorithm::Ring:
    case Algorithm::TopoRing:
      out.push_back({std::make_shared<RingAllreduceProgram>(nranks_, ch.ring_position, s, chunk, align), -1, "ring"});
      break;
    case Algorithm::Tree:
      out.push_back({std::make_shared<TreeUpProgram>(ch.tree, s, chunk), -1, "up"});
      out.push_back({std::make_shared<TreeDownProgram>(ch.tree, s, chunk), 0, "down"});
      break;
    case Algorithm::RecursiveDoubling:
      out.push_back({std::make_shared<RecursiveDoublingProgram>(nranks_, rank_, s, chunk), -1, "rd"});
      break;
    case Algorithm::Hierarchical: {
      const bool intra = hier_.local_size > 1;
      const bool inter = hier_.hosts > 1;
      if (intra) out.push_back({std::make_shared<HierIntraProgram>(hier_, s, chunk, align), inter ? 1 : -1, "intra"});
      if (inter)
        out.push_back({std::make_shared<HierInterProgram>(hier_, s, chunk, align), intra ? 0 : -1, "inter"});
      break;
    }
    case Algorithm::Auto:
      break;
  }
  return out;
}

std::vector<int> peers_to_connect(const Topology& topology, int rank, int channels) {
  std::set<int> peers;
  if (topology.size() < 2) return {};
  for (Algorithm algo : {Algorithm::Ring, Algorithm::Tree, Algorithm::RecursiveDoubling, Algorithm::TopoRing,
                         Algorithm::Hierarchical}) {
    if (!algorithm_applies(algo, topology)) continue;
    for (int peer : AlgorithmLayout(algo, topology, rank, layout_channels(algo, channels)).peers()) peers.insert(peer);
  }
  return std::vector<int>(peers.begin(), peers.end());
}

}  // namespace sxcoll
