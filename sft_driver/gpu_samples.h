// nvidia-smi samples (index, utilization %, memory used/total MiB, power W), once a second
// on every node while a run lasts, summarised per run.
#pragma once

#include <optional>
#include <string>

namespace sxcoll::sft {

struct GpuSampleStats {
  size_t samples = 0;
  double utilization_mean_pct = 0;
  double memory_used_max_mib = 0;
  double memory_total_mib = 0;
  double power_mean_w = 0;
};

// Lines as nvidia-smi --format=csv,noheader,nounits writes them, optionally prefixed by the
// launcher's node label ("host: ", "0: ", "[1,0]<stdout>:"). nullopt when no line parses.
std::optional<GpuSampleStats> parse_gpu_samples(const std::string& text);
std::optional<GpuSampleStats> read_gpu_samples(const std::string& path);

inline constexpr const char* kNoGpu = "not available (no NVIDIA GPU)";

}  // namespace sxcoll::sft
