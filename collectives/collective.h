// The collectives sxcoll runs: nccl-tests' set, with nccl-tests' names and sxcoll's own
// algorithm for each besides allreduce's (whose algorithms algorithm.h chooses between).
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace sxcoll {

enum class Collective { AllReduce, AllGather, ReduceScatter, Broadcast, Reduce, AllToAll, SendRecv };

inline constexpr std::array kAllCollectives{Collective::AllReduce, Collective::AllGather, Collective::ReduceScatter,
                                            Collective::Broadcast, Collective::Reduce,    Collective::AllToAll,
                                            Collective::SendRecv};

// "allreduce", "allgather", "reduce_scatter", "broadcast", "reduce", "alltoall", "sendrecv".
std::string_view collective_name(Collective coll);
// nccl-tests' program for it: "all_reduce_perf", "all_gather_perf", ...
std::string_view nccl_tests_program(Collective coll);
// The names above, and nccl-tests' spelling without "_perf" (all_reduce, all_gather).
std::optional<Collective> parse_collective(std::string_view text);
// The algorithm sxcoll runs for a collective other than allreduce: "ring" (allgather,
// reduce-scatter, sendrecv), "chain" (broadcast, reduce), "pairwise" (alltoall).
std::string_view collective_algorithm(Collective coll);

}  // namespace sxcoll
