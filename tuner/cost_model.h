// The alpha-beta cost model of ring and tree allreduce, as NCCL's tuner models them: a
// latency alpha per step and a time beta per byte through a link. Fitted from ring-only and
// tree-only trials (t = a + b x bytes, least squares), then extrapolated to larger clusters.
// The extrapolation is a prediction, and everything that prints it says so.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sxcoll::tune {

struct LinearFit {
  bool ok = false;  // at least two sizes and a positive slope
  double a_us = 0;  // intercept
  double b_us_per_byte = 0;
  double r2 = 0;  // weighted
  size_t points = 0;
};

// Least squares of t = a + b x over (bytes, time_us) points, weighted by 1/t^2 so that every
// size counts by its relative error (unweighted, the largest sizes would set the intercept).
LinearFit fit_linear(const std::vector<std::pair<double, double>>& bytes_time_us);

struct AlgorithmModel {
  std::string algorithm;  // "ring" or "tree"
  int ranks = 0;          // where it was measured
  LinearFit fit;
  double alpha_us = 0;          // per step (a negative intercept counts as 0)
  double beta_us_per_byte = 0;  // per byte, all the measured rails together
};

// Ring: 2(n-1) steps, each rank moving 2(n-1)/n of the bytes. Tree (double binary, pipelined):
// 2 ceil(log2 n) latency terms (up and down), the full bytes.
AlgorithmModel ring_model(const LinearFit& fit, int ranks);
AlgorithmModel tree_model(const LinearFit& fit, int ranks);

// Predicted time (us) at `ranks` ranks; `beta_scale` multiplies beta (fewer or more rails).
double predicted_time_us(const AlgorithmModel& m, int ranks, double bytes, double beta_scale = 1);
// nccl-tests' busbw (GB/s) of an allreduce of `bytes` taking `time_us` on `ranks` ranks.
double busbw_gbps(int ranks, double bytes, double time_us);

struct Crossover {
  std::optional<double> bytes;  // where ring and tree take the same time
  std::string below, above;     // the faster algorithm below and above it (equal when one always wins)
};
Crossover crossover(const AlgorithmModel& ring, const AlgorithmModel& tree, int ranks, double beta_scale = 1);

// The cluster the prediction is for: nodes of `gpus_per_node` GPUs, the bytes that leave a
// node spread over `rails` rails of the measured speed per rail.
struct ClusterShape {
  int gpus_per_node = 8;
  int rails = 2;
  int measured_rails = 1;  // rails per rank in the trials the fit came from
  double beta_scale() const { return static_cast<double>(measured_rails) / rails; }
};

struct Prediction {
  int gpus = 0;
  Crossover crossover;
  std::vector<std::pair<double, std::pair<double, double>>> busbw;  // bytes -> (ring, tree) GB/s
};
std::vector<Prediction> predict(const AlgorithmModel& ring, const AlgorithmModel& tree, const ClusterShape& shape,
                                const std::vector<int>& gpus, const std::vector<double>& sizes);

}  // namespace sxcoll::tune
