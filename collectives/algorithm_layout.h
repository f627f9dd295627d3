// What an algorithm looks like from one rank: the peers it connects to, each channel's
// links (numbered as its step programs use them) and, for one call, the step programs of
// each channel. The one place that knows how an algorithm is wired: the communicator runs
// it, the unit tests' step simulator proves it.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "collectives/algorithm.h"
#include "collectives/allreduce_hier.h"
#include "collectives/layout.h"
#include "collectives/partition.h"
#include "collectives/step.h"
#include "collectives/topology.h"
#include "collectives/tree_schedule.h"

namespace sxcoll {

// Channels an algorithm runs when `requested` are asked for: the tree runs both trees
// (an even number, 2 at least); the others as many as asked.
int layout_channels(Algorithm algo, int requested);

// ring_topo's ring on channel `channel` of `channels`: ranks host by host (hosts in order
// of first appearance), each host's ranks in local-rank order rotated by
// channel * local_size / channels, so that the ranks crossing host boundaries differ
// from channel to channel. One host: the flat ring 0..n-1 on every channel.
std::vector<int> topo_ring_order(const Topology& topology, int channel, int channels);

class AlgorithmLayout final : public Layout {
 public:
  // `algo` must apply to `topology` (algorithm_applies) and not be Auto; `channels` as
  // layout_channels gives them.
  AlgorithmLayout(Algorithm algo, const Topology& topology, int rank, int channels);

  Algorithm algorithm() const { return algo_; }
  int channels() const override { return static_cast<int>(channels_.size()); }
  const ChannelLinks& links(int channel) const override { return channels_[static_cast<size_t>(channel)].links; }

  // The part of a `count`-element buffer that channel `channel` reduces.
  Range slice(int channel, size_t count, size_t align) const;
  // The channel's programs for a call of `count` elements, `chunk` elements per slot.
  std::vector<ChannelProgram> programs(int channel, size_t count, size_t chunk, size_t align) const override;

 private:
  struct PerChannel {
    ChannelLinks links;
    int ring_position = 0;  // ring, ring_topo: this rank's place in the channel's ring
    TreeNode tree;          // tree
  };
  Algorithm algo_;
  int nranks_;
  int rank_;
  HierShape hier_;
  std::vector<PerChannel> channels_;
};

// The peers the communicator connects to: every algorithm that applies to the world,
// each with layout_channels(algo, channels) channels.
std::vector<int> peers_to_connect(const Topology& topology, int rank, int channels);

}  // namespace sxcoll
