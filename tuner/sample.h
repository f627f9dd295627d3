// One measurement: a fresh set of ranks ran the size sweep once with one setting.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sxcoll::tune {

struct SizeSample {
  size_t bytes = 0;
  double busbw_gbps = 0;  // mean of out-of-place and in-place, each the mean of -n iterations
  double time_us = 0;     // likewise
  std::string algorithm;  // what the engine ran at this size
};

struct Sample {
  bool ok = false;
  double score = 0;  // the workload's busbw (GB/s): what the search compares
  std::vector<SizeSample> sizes;
  std::string error;  // when !ok: why (the trial's last line on stderr, or its timeout)
};

}  // namespace sxcoll::tune
