#include "tuner/summary.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>
#include <fmt/ostream.h>

#include "bench/size_parse.h"

namespace sxcoll::tune {

namespace {

std::vector<double> busbw_at(const std::vector<Sample>& samples, size_t bytes) {
  std::vector<double> out;
  for (const auto& s : samples) {
    if (!s.ok) continue;
    for (const auto& z : s.sizes)
      if (z.bytes == bytes && z.busbw_gbps > 0) out.push_back(z.busbw_gbps);
  }
  return out;
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

std::string ratio_interval(const Comparison& c) {
  if (!c.measurable) return "";
  return fmt::format("[{:.3f}, {:.3f}]", 1 + c.gain_low, 1 + c.gain_high);
}

// 36689945 -> "35.0M": a predicted size is no exact byte count.
std::string approx_size(double bytes) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}B", bytes) : fmt::format("{:.1f}{}", bytes, units[u]);
}

const std::vector<int> kPredictedGpus = {16, 32, 64};
const std::vector<double> kPredictedSizes = {double(1 << 20), double(64 << 20), double(1 << 30)};

}  // namespace

std::vector<SizeComparison> compare_sizes(const Workload& workload, const std::vector<Sample>& defaults,
                                          const std::vector<Sample>& tuned, bool same, double confidence) {
  std::vector<size_t> sizes;
  for (const auto& s : defaults)
    for (const auto& z : s.sizes)
      if (std::find(sizes.begin(), sizes.end(), z.bytes) == sizes.end()) sizes.push_back(z.bytes);
  std::sort(sizes.begin(), sizes.end());
  std::vector<SizeComparison> rows;
  for (size_t bytes : sizes) {
    SizeComparison row;
    row.bytes = bytes;
    for (const auto& sw : workload.sizes)
      if (sw.bytes == bytes) row.weight = sw.weight;
    const auto a = busbw_at(defaults, bytes), b = busbw_at(tuned, bytes);
    row.default_gbps = mean(a);
    row.tuned_gbps = mean(b);
    if (!same) row.ratio = compare(a, b, confidence, 0);
    rows.push_back(row);
  }
  SizeComparison total;
  total.weight = 1;
  const auto a = scores(defaults), b = scores(tuned);
  total.default_gbps = mean(a);
  total.tuned_gbps = mean(b);
  if (!same) total.ratio = compare(a, b, confidence, 0);
  rows.push_back(total);
  return rows;
}

void print_summary_table(std::ostream& out, const std::vector<SizeComparison>& rows, bool same, double confidence,
                         const std::string& source) {
  fmt::print(out, "#\n# default vs tuned: busbw (GB/s), {}; ratio tuned/default and its {:g} % interval{}\n", source,
             100 * confidence, same ? " (tuned = default: every default was kept)" : "");
  fmt::print(out, "# {:>10}  {:>6}  {:>9}  {:>9}  {:>6}  {}\n", "size", "weight", "default", "tuned", "ratio",
             "interval");
  for (const auto& r : rows) {
    const std::string size = r.bytes == 0 ? "workload" : std::to_string(r.bytes);
    const std::string weight = r.bytes == 0 ? "" : r.weight > 0 ? fmt::format("{:.0f} %", 100 * r.weight) : "-";
    fmt::print(out, "{}{:>10}  {:>6}  {:>9.3f}  {:>9.3f}  {:>6.3f}  {}\n", r.bytes == 0 ? "# " : "  ", size, weight,
               r.default_gbps, r.tuned_gbps, 1 + r.ratio.gain, ratio_interval(r.ratio));
  }
}

ModelReport build_model(const std::vector<const TrialRecord*>& ring_trials,
                        const std::vector<const TrialRecord*>& tree_trials, const std::string& missing_note) {
  ModelReport m;
  auto fit = [&](const std::vector<const TrialRecord*>& trials, int& ranks) {
    std::vector<std::pair<double, double>> points;
    for (const auto* t : trials) {
      ranks = t->ranks;
      m.shape.measured_rails = std::max({m.shape.measured_rails, t->rails, 1});
      for (const auto& s : t->sizes) points.emplace_back(static_cast<double>(s.bytes), s.time_us);
    }
    return fit_linear(points);
  };
  if (ring_trials.empty() || tree_trials.empty()) {
    m.note = missing_note;
    return m;
  }
  int ring_ranks = 0, tree_ranks = 0;
  const LinearFit rf = fit(ring_trials, ring_ranks), tf = fit(tree_trials, tree_ranks);
  if (ring_ranks < 2 || tree_ranks < 2) {
    m.note = "no cost model: the trials ran on fewer than 2 ranks";
    return m;
  }
  if (!rf.ok || !tf.ok) {
    m.note = fmt::format("no cost model: the {} fit has no positive per-byte slope (sizes too few or too small)",
                         !rf.ok ? "ring" : "tree");
    return m;
  }
  m.ring = ring_model(rf, ring_ranks);
  m.tree = tree_model(tf, tree_ranks);
  m.predictions = predict(*m.ring, *m.tree, m.shape, kPredictedGpus, kPredictedSizes);
  return m;
}

void print_model(std::ostream& out, const ModelReport& m) {
  fmt::print(out, "#\n");
  if (!m.ring || !m.tree) {
    fmt::print(out, "# cost model: {}\n", m.note);
    return;
  }
  fmt::print(out,
             "# cost model, fitted from the ring-only and tree-only trials (t = a + b x bytes, least squares "
             "weighted by 1/t^2):\n");
  for (const auto* a : {&*m.ring, &*m.tree})
    fmt::print(
        out, "#   {}: alpha {:.2f} us per step, beta {:.4f} ns/B ({:.2f} GB/s) on {} ranks; {} points, R^2 {:.3f}{}\n",
        a->algorithm, a->alpha_us, 1e3 * a->beta_us_per_byte, 1e-3 / a->beta_us_per_byte, a->ranks, a->fit.points,
        a->fit.r2, a->fit.a_us < 0 ? " (negative intercept: alpha taken as 0)" : "");
  fmt::print(out,
             "# PREDICTION, not a measurement: {} GPUs per node, {} rails per node at the measured speed per rail "
             "({} measured), every step costing alpha, ring 2(n-1) steps moving 2(n-1)/n of the bytes, tree "
             "2 log2(n) steps moving all of them:\n",
             m.shape.gpus_per_node, m.shape.rails, m.shape.measured_rails);
  fmt::print(out, "#   {:>4}  {:<34}", "GPUs", "ring/tree crossover (predicted)");
  for (const auto& [bytes, bw] : m.predictions.front().busbw)
    fmt::print(out, "  {:>17}", fmt::format("busbw @{} r/t", bench::format_size(static_cast<size_t>(bytes))));
  fmt::print(out, "\n");
  for (const auto& p : m.predictions) {
    const std::string cross = p.crossover.bytes && *p.crossover.bytes > 0
                                  ? fmt::format("{} below {}, {} above", p.crossover.below,
                                                approx_size(*p.crossover.bytes), p.crossover.above)
                                  : fmt::format("{} at every size", p.crossover.above);
    fmt::print(out, "#   {:>4}  {:<34}", p.gpus, cross);
    for (const auto& [bytes, bw] : p.busbw)
      fmt::print(out, "  {:>17}", fmt::format("{:.2f}/{:.2f}", bw.first, bw.second));
    fmt::print(out, "\n");
  }
}

nlohmann::json model_json(const ModelReport& m) {
  if (!m.ring || !m.tree) return {{"note", m.note}};
  auto algo = [](const AlgorithmModel& a) {
    return nlohmann::json{{"alpha_us", a.alpha_us}, {"beta_ns_per_byte", 1e3 * a.beta_us_per_byte},
                          {"fit_a_us", a.fit.a_us}, {"fit_b_us_per_byte", a.fit.b_us_per_byte},
                          {"r2", a.fit.r2},         {"points", a.fit.points},
                          {"ranks", a.ranks}};
  };
  nlohmann::json preds = nlohmann::json::array();
  for (const auto& p : m.predictions) {
    nlohmann::json bw = nlohmann::json::array();
    for (const auto& [bytes, v] : p.busbw)
      bw.push_back({{"size_bytes", bytes}, {"ring_busbw_gbps", v.first}, {"tree_busbw_gbps", v.second}});
    preds.push_back(
        {{"gpus", p.gpus},
         {"crossover_bytes", p.crossover.bytes ? nlohmann::json(*p.crossover.bytes) : nlohmann::json(nullptr)},
         {"below", p.crossover.below},
         {"above", p.crossover.above},
         {"busbw", bw}});
  }
  return {{"ring", algo(*m.ring)},
          {"tree", algo(*m.tree)},
          {"prediction",
           {{"note", "a prediction from the fitted model, not a measurement"},
            {"gpus_per_node", m.shape.gpus_per_node},
            {"rails", m.shape.rails},
            {"measured_rails", m.shape.measured_rails},
            {"clusters", preds}}}};
}

nlohmann::json sizes_json(const std::vector<SizeComparison>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows)
    out.push_back(
        {{"size_bytes", r.bytes == 0 ? nlohmann::json("workload") : nlohmann::json(r.bytes)},
         {"weight", r.weight},
         {"default_busbw_gbps", r.default_gbps},
         {"tuned_busbw_gbps", r.tuned_gbps},
         {"ratio", 1 + r.ratio.gain},
         {"ratio_low", r.ratio.measurable ? nlohmann::json(1 + r.ratio.gain_low) : nlohmann::json(nullptr)},
         {"ratio_high", r.ratio.measurable ? nlohmann::json(1 + r.ratio.gain_high) : nlohmann::json(nullptr)}});
  return out;
}

}  // namespace sxcoll::tune
