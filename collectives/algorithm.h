// Which allreduce algorithm runs, and how "auto" picks one: NCCL's way, a latency (alpha)
// and bandwidth (beta) cost per algorithm, cheaper one wins.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sxcoll {

enum class Algorithm { Ring, Tree, RecursiveDoubling, Auto };

std::string_view algorithm_name(Algorithm algo);
std::optional<Algorithm> parse_algorithm(std::string_view text);

struct CostModel {
  double alpha_us = 20.0;        // per step: a message's latency through the transport
  double beta_bytes_per_us = 2000.0;  // per link: bytes per microsecond
};

// Throws UsageError when `algo` cannot run on `nranks` ranks (rd needs a power of two).
void check_algorithm(Algorithm algo, int nranks);

// Predicted time of an allreduce of `bytes` on `nranks` ranks, in microseconds.
double predicted_us(Algorithm algo, int nranks, size_t bytes, const CostModel& model);
// The algorithm the model predicts fastest (Ring on ties); recursive doubling only where
// it applies (power-of-two world sizes).
Algorithm choose_algorithm(int nranks, size_t bytes, const CostModel& model);

}  // namespace sxcoll
