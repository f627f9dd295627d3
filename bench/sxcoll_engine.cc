// sxcoll's own engine in the harness: each collective through the Communicator.
#include <fmt/core.h>

#include "bench/engine.h"

namespace sxcoll::bench {

std::string SxcollEngine::describe() const {
  return fmt::format("transport: {}  algorithm: {}  channels: {}  buffsize: {}", transport_, algorithm_name(algorithm_),
                     comm_.options().channels, comm_.options().buffsize);
}

std::string SxcollEngine::algorithm_for(Collective collective, size_t bytes) const {
  if (collective != Collective::AllReduce) return std::string(collective_algorithm(collective));
  return std::string(algorithm_name(comm_.resolve(algorithm_, bytes)));
}

void SxcollEngine::run(const CollectiveCallArgs& c) {
  switch (c.collective) {
    case Collective::AllReduce: return comm_.allreduce(c.input, c.output, c.count, c.type, c.op, algorithm_);
    case Collective::AllGather: return comm_.allgather(c.input, c.output, c.count, c.type);
    case Collective::ReduceScatter: return comm_.reduce_scatter(c.input, c.output, c.count, c.type, c.op);
    case Collective::Broadcast: return comm_.broadcast(c.input, c.output, c.count, c.type, c.root);
    case Collective::Reduce: return comm_.reduce(c.input, c.output, c.count, c.type, c.op, c.root);
    case Collective::AllToAll: return comm_.alltoall(c.input, c.output, c.count, c.type);
    case Collective::SendRecv: return comm_.sendrecv(c.input, c.output, c.count, c.type);
  }
}

}  // namespace sxcoll::bench
