// What a collective looks like from one rank, whatever the collective: the links of each
// channel (numbered as its step programs use them) and, for one call, each channel's step
// programs. The communicator runs any layout the same way; allreduce's algorithms are one
// kind (algorithm_layout.h), the other collectives another (collective_layout.h).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "collectives/step.h"

namespace sxcoll {

// The peers behind a channel's link indices: in_peers[i] is in-link i, out_peers[i] out-link i.
struct ChannelLinks {
  std::vector<int> in_peers;
  std::vector<int> out_peers;
};

// One program of one channel; `partner` (an index into the same channel's programs, or
// -1) is the program its steps' `after` refers to.
struct ChannelProgram {
  std::shared_ptr<const StepProgram> program;
  int partner = -1;
  std::string_view kind;  // "ring", "up", "down", "rd", "intra", "inter", "send", "recv": for messages
};

class Layout {
 public:
  virtual ~Layout() = default;
  virtual int channels() const = 0;
  virtual const ChannelLinks& links(int channel) const = 0;
  // Every peer of every channel, ascending.
  std::vector<int> peers() const;
  // The channel's programs for a call of `count` elements (what "count" counts is the
  // collective's: the allreduce's buffer, one rank's block of an allgather), `chunk`
  // elements per slot, blocks aligned to `align` elements.
  virtual std::vector<ChannelProgram> programs(int channel, size_t count, size_t chunk, size_t align) const = 0;
  // The chunk a call of `count` elements runs in, given the slot's (`slot_chunk`, a
  // multiple of `align`): the slot's, unless the layout pipelines better in smaller ones.
  virtual size_t chunk_for(size_t slot_chunk, size_t /*count*/, size_t /*align*/) const { return slot_chunk; }
};

}  // namespace sxcoll
