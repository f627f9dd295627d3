// The two machine-readable outputs: metrics/performance_summary.csv and
// reports/scaling_analysis.json.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sft_driver/report/results.h"

namespace sxcoll::sft {

// The seeds' columns first (model_size, nodes, samples_per_sec, gpu_utilization), then ours.
std::string performance_csv(const SweepResults& results);

// Per model, per node count: the best finished run's throughput, per-GPU rate, ideal
// throughput and efficiency = per-GPU rate at N / per-GPU rate at the smallest N.
nlohmann::json scaling_analysis(const SweepResults& results);

std::string fixed(double v, int decimals);
std::string gib(double bytes);

}  // namespace sxcoll::sft
