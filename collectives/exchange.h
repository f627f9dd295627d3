// Alltoall and sendrecv as step programs: rounds of exchanges, each moving one block of
// the buffers between this rank and its peers of that round, one chunk per step. Two
// programs per channel, a sender and a receiver, so that sends run ahead of receives by
// the slots the peer has free; the receiver's step i waits for the sender's step i, so a
// block is overwritten (in place) only after it has left.
#pragma once

#include <vector>

#include "collectives/partition.h"
#include "collectives/step.h"

namespace sxcoll {

// One round: the block sent on out-link `send_link` and received from in-link
// `recv_link`; with no links (-1), the block is this rank's own and is copied locally.
struct ExchangeRound {
  size_t block = 0;
  int send_link = -1;
  int recv_link = -1;
};

// Alltoall in n rounds: in round s, rank r exchanges block p with rank p = (s - r) mod n,
// whose partner in round s is r again, so each pair's two directions run in the same round
// (its own block, p = r, in the round where that holds). Links number the peers in rank
// order, this rank left out.
std::vector<ExchangeRound> alltoall_rounds(int nranks, int rank);
inline int alltoall_link(int rank, int peer) { return peer < rank ? peer : peer - 1; }

enum class ExchangeSide { Send, Recv };

class ExchangeProgram final : public StepProgram {
 public:
  // `block`: elements per block; `slice`: the channel's part of a block.
  ExchangeProgram(ExchangeSide side, std::vector<ExchangeRound> rounds, size_t block, Range slice, size_t chunk);
  size_t size() const override { return rounds_.size() * chunks_; }
  Step at(size_t index) const override;

 private:
  ExchangeSide side_;
  std::vector<ExchangeRound> rounds_;
  size_t block_;
  Range slice_;
  size_t chunk_;
  size_t chunks_;  // steps per round
};

}  // namespace sxcoll
