#include "collectives/collective.h"

namespace sxcoll {

std::string_view collective_name(Collective coll) {
  switch (coll) {
    case Collective::AllReduce: return "allreduce";
    case Collective::AllGather: return "allgather";
    case Collective::ReduceScatter: return "reduce_scatter";
    case Collective::Broadcast: return "broadcast";
    case Collective::Reduce: return "reduce";
    case Collective::AllToAll: return "alltoall";
    case Collective::SendRecv: return "sendrecv";
  }
  return "?";
}

std::string_view nccl_tests_program(Collective coll) {
  switch (coll) {
    case Collective::AllReduce: return "all_reduce_perf";
    case Collective::AllGather: return "all_gather_perf";
    case Collective::ReduceScatter: return "reduce_scatter_perf";
    case Collective::Broadcast: return "broadcast_perf";
    case Collective::Reduce: return "reduce_perf";
    case Collective::AllToAll: return "alltoall_perf";
    case Collective::SendRecv: return "sendrecv_perf";
  }
  return "?";
}

std::optional<Collective> parse_collective(std::string_view text) {
  for (Collective c : kAllCollectives) {
    std::string_view program = nccl_tests_program(c);
    program.remove_suffix(std::string_view("_perf").size());
    if (text == collective_name(c) || text == program) return c;
  }
  return std::nullopt;
}

std::string_view collective_algorithm(Collective coll) {
  switch (coll) {
    case Collective::Broadcast:
    case Collective::Reduce: return "chain";
    case Collective::AllToAll: return "pairwise";
    default: return "ring";
  }
}

}  // namespace sxcoll
