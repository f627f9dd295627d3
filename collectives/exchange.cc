#include "collectives/exchange.h"

#include <algorithm>

namespace sxcoll {

std::vector<ExchangeRound> alltoall_rounds(int n, int rank) {
  std::vector<ExchangeRound> rounds;
  for (int s = 0; s < n; ++s) {
    const int peer = ((s - rank) % n + n) % n;
    ExchangeRound round{static_cast<size_t>(peer), -1, -1};
    if (peer != rank) round.send_link = round.recv_link = alltoall_link(rank, peer);
    rounds.push_back(round);
  }
  return rounds;
}

ExchangeProgram::ExchangeProgram(ExchangeSide side, std::vector<ExchangeRound> rounds, size_t block, Range slice,
                                 size_t chunk)
    : side_(side),
      rounds_(std::move(rounds)),
      block_(block),
      slice_(slice),
      chunk_(chunk),
      chunks_((slice.count + chunk - 1) / chunk) {}

Step ExchangeProgram::at(size_t index) const {
  const ExchangeRound& round = rounds_[index / chunks_];
  const size_t begin = index % chunks_ * chunk_;
  Step step;
  step.offset = round.block * block_ + slice_.offset + begin;
  step.count = std::min(chunk_, slice_.count - begin);
  if (side_ == ExchangeSide::Send) {
    if (round.send_link >= 0) {
      step.nsend = 1;
      step.send[0] = static_cast<uint8_t>(round.send_link);
      step.send_input = true;
    } else if (round.recv_link < 0) {
      step.copy_input = true;  // this rank's own block
    }
    return step;
  }
  // The receiver: nothing to do in a round without an in-link (the step keeps the two
  // programs' indices aligned for `after`).
  if (round.recv_link >= 0) {
    step.nrecv = 1;
    step.recv[0] = static_cast<uint8_t>(round.recv_link);
    step.after = static_cast<int64_t>(index);
  }
  return step;
}

}  // namespace sxcoll
