// Which message sizes matter and how much: `--sizes` (each size counts the same) or a
// training workload (`--workload fsdp:7b`), whose gradient and parameter traffic is spread
// over the sizes it really uses. The score of one trial is a single busbw.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tuner/sample.h"

namespace sxcoll::tune {

enum class Aggregate {
  Geometric,  // --sizes: weighted geometric mean, a 10 % gain counts the same at every size
  Harmonic,   // workloads: bytes / time over the workload, so the score is its allreduce time
};

struct SizeWeight {
  size_t bytes = 0;
  double weight = 0;  // share of the score, > 0
  std::string note;   // where the size comes from ("layer: 404.8 MB, rounded")
};

struct Workload {
  std::string name;         // "sizes 64K..1M", "fsdp:7b"
  std::string description;  // one line for the header
  Aggregate aggregate = Aggregate::Geometric;
  std::vector<SizeWeight> sizes;  // ascending; every one is the smallest times a power of two
  size_t min_bytes() const { return sizes.front().bytes; }
  size_t max_bytes() const { return sizes.back().bytes; }
};

// "64K,256K,1M" or "64K..1M" (every power-of-two multiple of the first up to the last).
// Sizes are the smallest times a power of two: the trials sweep -b MIN -e MAX -f 2.
Workload parse_sizes(const std::string& text);

// "fsdp:7b", "zero3:70b", "ddp:13b" (Llama-2 shapes, bf16); UsageError naming the choices.
Workload named_workload(const std::string& text);
std::string workload_choices();

// The trial's score; 0 when a weighted size is missing from the sample.
double workload_busbw(const Workload& workload, const std::vector<SizeSample>& sizes);

}  // namespace sxcoll::tune
