#include "tuner/cost_model.h"

#include <algorithm>
#include <cmath>

namespace sxcoll::tune {

namespace {

double ring_steps(int n) { return 2.0 * (n - 1); }
double ring_bytes_fraction(int n) { return 2.0 * (n - 1) / n; }
double tree_steps(int n) { return 2.0 * std::max(1.0, std::ceil(std::log2(static_cast<double>(n)))); }

}  // namespace

LinearFit fit_linear(const std::vector<std::pair<double, double>>& points) {
  LinearFit f;
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : points) {
    if (!(y > 0)) continue;
    const double w = 1 / (y * y);
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
    ++f.points;
  }
  const double det = sw * sxx - sx * sx;
  if (f.points < 2 || !(det > 0)) return f;
  f.b_us_per_byte = (sw * sxy - sx * sy) / det;
  f.a_us = (sy - f.b_us_per_byte * sx) / sw;
  double residual = 0, total = 0;
  const double mean = sy / sw;
  for (const auto& [x, y] : points) {
    if (!(y > 0)) continue;
    const double w = 1 / (y * y), fitted = f.a_us + f.b_us_per_byte * x;
    residual += w * (y - fitted) * (y - fitted);
    total += w * (y - mean) * (y - mean);
  }
  f.r2 = total > 0 ? 1 - residual / total : 1;
  f.ok = f.b_us_per_byte > 0;
  return f;
}

AlgorithmModel ring_model(const LinearFit& fit, int ranks) {
  AlgorithmModel m{"ring", ranks, fit};
  m.alpha_us = std::max(0.0, fit.a_us) / ring_steps(ranks);
  m.beta_us_per_byte = fit.b_us_per_byte / ring_bytes_fraction(ranks);
  return m;
}

AlgorithmModel tree_model(const LinearFit& fit, int ranks) {
  AlgorithmModel m{"tree", ranks, fit};
  m.alpha_us = std::max(0.0, fit.a_us) / tree_steps(ranks);
  m.beta_us_per_byte = fit.b_us_per_byte;
  return m;
}

double predicted_time_us(const AlgorithmModel& m, int ranks, double bytes, double beta_scale) {
  if (m.algorithm == "ring")
    return ring_steps(ranks) * m.alpha_us + ring_bytes_fraction(ranks) * bytes * m.beta_us_per_byte * beta_scale;
  return tree_steps(ranks) * m.alpha_us + bytes * m.beta_us_per_byte * beta_scale;
}

double busbw_gbps(int ranks, double bytes, double time_us) {
  if (!(time_us > 0)) return 0;
  return bytes / time_us * 1e-3 * ring_bytes_fraction(ranks);
}

Crossover crossover(const AlgorithmModel& ring, const AlgorithmModel& tree, int ranks, double beta_scale) {
  // ring(S) = Ar + Br S, tree(S) = At + Bt S.
  const double ar = predicted_time_us(ring, ranks, 0, beta_scale), at = predicted_time_us(tree, ranks, 0, beta_scale);
  const double br = predicted_time_us(ring, ranks, 1, beta_scale) - ar;
  const double bt = predicted_time_us(tree, ranks, 1, beta_scale) - at;
  Crossover c;
  const std::string small = at <= ar ? "tree" : "ring";
  const std::string large = bt < br ? "tree" : "ring";
  c.below = small;
  c.above = large;
  if (small != large && bt != br) c.bytes = (ar - at) / (bt - br);
  return c;
}

std::vector<Prediction> predict(const AlgorithmModel& ring, const AlgorithmModel& tree, const ClusterShape& shape,
                                const std::vector<int>& gpus, const std::vector<double>& sizes) {
  std::vector<Prediction> out;
  const double scale = shape.beta_scale();
  for (int n : gpus) {
    Prediction p;
    p.gpus = n;
    p.crossover = crossover(ring, tree, n, scale);
    for (double s : sizes)
      p.busbw.push_back({s,
                         {busbw_gbps(n, s, predicted_time_us(ring, n, s, scale)),
                          busbw_gbps(n, s, predicted_time_us(tree, n, s, scale))}});
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace sxcoll::tune
