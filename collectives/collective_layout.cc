#include "collectives/collective_layout.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <fmt/core.h>

#include "collectives/chain.h"
#include "collectives/exchange.h"
#include "collectives/partition.h"
#include "collectives/ring_blocks.h"
#include "collectives/ring_schedule.h"

namespace sxcoll {

CollectiveLayout::CollectiveLayout(Collective coll, int nranks, int rank, int channels, int root)
    : coll_(coll), nranks_(nranks), rank_(rank), channels_(channels) {
  const int n = nranks;
  if (coll == Collective::AllReduce || n < 2 || rank < 0 || rank >= n)
    throw std::logic_error(fmt::format("CollectiveLayout: {} of rank {} on {} ranks", collective_name(coll), rank, n));
  switch (coll) {
    case Collective::AllGather:
    case Collective::ReduceScatter:
    case Collective::SendRecv:
      links_ = ChannelLinks{{ring_prev(n, rank)}, {ring_next(n, rank)}};
      break;
    case Collective::Broadcast:
    case Collective::Reduce: {
      if (root < 0 || root >= n) throw std::logic_error(fmt::format("CollectiveLayout: root {} of {} ranks", root, n));
      position_ = chain_position(n, rank, root);
      std::vector<int> up, down;  // toward the root, away from it
      if (position_ > 0) up.push_back(chain_rank(n, position_ - 1, root));
      if (position_ < n - 1) down.push_back(chain_rank(n, position_ + 1, root));
      links_ = coll == Collective::Broadcast ? ChannelLinks{up, down} : ChannelLinks{down, up};
      break;
    }
    case Collective::AllToAll:
      if (n > 257) throw std::logic_error(fmt::format("CollectiveLayout: alltoall of {} ranks (257 at most)", n));
      for (int peer = 0; peer < n; ++peer)
        if (peer != rank) {
          links_.in_peers.push_back(peer);
          links_.out_peers.push_back(peer);
        }
      break;
    case Collective::AllReduce:
      break;
  }
}

namespace {

constexpr size_t kChunksPerSlice = 8;
constexpr size_t kSmallestChunkBytes = 16 << 10;  // below this a step's cost is its latency

}  // namespace

size_t CollectiveLayout::chunk_for(size_t slot_chunk, size_t count, size_t align) const {
  size_t chunk = count / static_cast<size_t>(channels_) / kChunksPerSlice / align * align;
  // align elements are 64 bytes: 256 of them make 16 KiB.
  chunk = std::max(chunk, kSmallestChunkBytes / 64 * align);
  return std::min(chunk, slot_chunk);
}

std::vector<ChannelProgram> CollectiveLayout::programs(int channel, size_t count, size_t chunk, size_t align) const {
  const Range slice = split_range(count, static_cast<size_t>(channels_), static_cast<size_t>(channel), align);
  std::vector<ChannelProgram> out;
  auto exchange = [&](std::vector<ExchangeRound> rounds) {
    out.push_back({std::make_shared<ExchangeProgram>(ExchangeSide::Send, rounds, count, slice, chunk), -1, "send"});
    out.push_back({std::make_shared<ExchangeProgram>(ExchangeSide::Recv, rounds, count, slice, chunk), 0, "recv"});
  };
  switch (coll_) {
    case Collective::AllGather:
    case Collective::ReduceScatter: {
      const RingPhase phase = coll_ == Collective::AllGather ? RingPhase::AllGather : RingPhase::ReduceScatter;
      out.push_back({std::make_shared<RingBlocksProgram>(phase, nranks_, rank_, count, slice, chunk), -1, "ring"});
      break;
    }
    case Collective::Broadcast:
    case Collective::Reduce: {
      const ChainKind kind = coll_ == Collective::Broadcast ? ChainKind::Broadcast : ChainKind::Reduce;
      out.push_back({std::make_shared<ChainProgram>(kind, nranks_, position_, slice, chunk), -1, "chain"});
      break;
    }
    case Collective::AllToAll:
      exchange(alltoall_rounds(nranks_, rank_));
      break;
    case Collective::SendRecv:
      exchange({ExchangeRound{0, 0, 0}});
      break;
    case Collective::AllReduce:
      break;
  }
  return out;
}

}  // namespace sxcoll
