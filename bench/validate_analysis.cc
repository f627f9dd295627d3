#include "bench/validate_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/core.h>
#include <fmt/format.h>

namespace sxcoll::bench {

std::vector<std::vector<std::pair<int, int>>> round_robin_rounds(int n) {
  std::vector<std::vector<std::pair<int, int>>> rounds;
  if (n < 2) return rounds;
  const int m = n % 2 == 0 ? n : n + 1;  // odd: one more seat, the bye
  std::vector<int> seat(static_cast<size_t>(m));
  for (int i = 0; i < m; ++i) seat[static_cast<size_t>(i)] = i;
  for (int r = 0; r < m - 1; ++r) {
    std::vector<std::pair<int, int>> round;
    for (int i = 0; i < m / 2; ++i) {
      int a = seat[static_cast<size_t>(i)], b = seat[static_cast<size_t>(m - 1 - i)];
      if (a >= n || b >= n) continue;  // the bye
      round.emplace_back(std::min(a, b), std::max(a, b));
    }
    std::sort(round.begin(), round.end());
    rounds.push_back(std::move(round));
    // Seat 0 stays; the others turn one place.
    std::rotate(seat.begin() + 1, seat.end() - 1, seat.end());
  }
  return rounds;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

Baseline robust_baseline(const std::vector<double>& values, double threshold) {
  Baseline b;
  std::vector<size_t> kept;
  for (size_t i = 0; i < values.size(); ++i)
    if (std::isfinite(values[i])) kept.push_back(i);
  auto median_of = [&](const std::vector<size_t>& idx) {
    std::vector<double> v;
    for (size_t i : idx) v.push_back(values[i]);
    return median(v);
  };
  const std::vector<size_t> all = kept;
  b.value = median_of(kept);
  for (int iter = 0; iter < 100; ++iter) {
    b.iterations = iter + 1;
    std::vector<size_t> next;
    for (size_t i : all)
      if (b.value > 0 && std::abs(values[i] / b.value - 1) <= threshold) next.push_back(i);
    if (next.empty()) break;  // every value an outlier: no consensus, keep the median
    if (next == kept) break;
    kept = next;
    b.value = median_of(kept);
  }
  for (size_t i = 0; i < values.size(); ++i)
    if (std::find(kept.begin(), kept.end(), i) == kept.end()) b.outliers.push_back(i);
  return b;
}

namespace {

double deviation_pct(double value, double baseline) { return baseline > 0 ? 100 * (value / baseline - 1) : 0; }

bool below(double value, double baseline, double threshold) { return baseline > 0 && value < baseline * (1 - threshold); }

}  // namespace

Verdict analyse(const ValidationData& d, double threshold) {
  Verdict out;
  out.threshold = threshold;
  const size_t n = d.nodes.size();
  out.nodes.resize(n);
  for (size_t i = 0; i < n; ++i) out.nodes[i].name = d.nodes[i];
  auto lost = [&](size_t i) { return i < d.lost.size() && !d.lost[i].empty(); };

  // Node figures: baseline over the nodes that measured them.
  for (const auto& m : d.metrics) {
    std::vector<double> v(n, NAN);
    for (size_t i = 0; i < n && i < m.values.size(); ++i)
      if (m.values[i]) v[i] = *m.values[i];
    const double base = robust_baseline(v, threshold).value;
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(v[i])) continue;
      MetricVerdict mv{m.name, m.unit, v[i], base, deviation_pct(v[i], base), below(v[i], base, threshold)};
      out.nodes[i].metrics.push_back(mv);
    }
  }

  // Per rail: each node's median link, then the rail's baseline over the nodes.
  std::vector<std::string> rails;
  for (const auto& l : d.links)
    if (std::find(rails.begin(), rails.end(), l.rail) == rails.end()) rails.push_back(l.rail);
  std::map<std::string, double> rail_baseline;
  std::map<std::pair<std::string, size_t>, bool> node_rail_slow;
  for (const auto& rail : rails) {
    std::vector<std::vector<double>> mine(n);
    for (const auto& l : d.links) {
      if (l.rail != rail) continue;
      mine[static_cast<size_t>(l.a)].push_back(l.gbps);
      mine[static_cast<size_t>(l.b)].push_back(l.gbps);
    }
    // A healthy node's links to a slow node are slow too: its figure leaves those out,
    // and the slow set is found again until it stops changing. A slow node's own figure
    // keeps all its links.
    std::vector<double> figure(n, NAN);
    std::vector<bool> slow(n, false);
    double base = 0;
    for (int iter = 0; iter < 10; ++iter) {
      for (size_t i = 0; i < n; ++i) {
        std::vector<double> kept;
        for (const auto& l : d.links) {
          if (l.rail != rail || (static_cast<size_t>(l.a) != i && static_cast<size_t>(l.b) != i)) continue;
          const size_t other = static_cast<size_t>(l.a) == i ? static_cast<size_t>(l.b) : static_cast<size_t>(l.a);
          if (slow[i] || !slow[other]) kept.push_back(l.gbps);
        }
        figure[i] = !kept.empty() ? median(kept) : !mine[i].empty() ? median(mine[i]) : NAN;
      }
      base = robust_baseline(figure, threshold).value;
      std::vector<bool> next(n, false);
      for (size_t i = 0; i < n; ++i) next[i] = std::isfinite(figure[i]) && below(figure[i], base, threshold);
      if (next == slow) break;
      slow = next;
    }
    rail_baseline[rail] = base;
    for (size_t i = 0; i < n; ++i) {
      if (mine[i].empty()) continue;
      RailVerdict rv;
      rv.rail = rail;
      rv.gbps = figure[i];
      rv.baseline = base;
      rv.deviation_pct = deviation_pct(figure[i], base);
      rv.links = mine[i].size();
      for (double g : mine[i]) rv.slow_links += below(g, base, threshold) ? 1 : 0;
      rv.fail = d.links_complete && below(figure[i], base, threshold);
      node_rail_slow[{rail, i}] = rv.fail;
      out.nodes[i].rails.push_back(rv);
    }
  }

  for (const auto& l : d.links) {
    LinkVerdict lv;
    lv.sample = l;
    lv.baseline = rail_baseline[l.rail];
    lv.deviation_pct = deviation_pct(l.gbps, lv.baseline);
    lv.slow = below(l.gbps, lv.baseline, threshold);
    if (lv.slow) {
      std::vector<std::string> ends;
      for (int e : {l.a, l.b})
        if (node_rail_slow[{l.rail, static_cast<size_t>(e)}]) ends.push_back(d.nodes[static_cast<size_t>(e)]);
      if (n == 2)
        lv.cause = "two nodes only: which end is slow cannot be told";
      else if (ends.size() == 1)
        lv.cause = fmt::format("{} is slow on its links of this rail", ends.front());
      else if (ends.size() == 2)
        lv.cause = "both ends are slow nodes";
      else
        lv.cause = "this link alone (both ends fine elsewhere): cable, optics or the switch path between them";
    }
    out.links.push_back(lv);
  }

  for (size_t i = 0; i < n; ++i) {
    NodeVerdict& nv = out.nodes[i];
    if (lost(i)) {
      nv.fail = true;
      nv.causes.push_back("lost during validation: " + d.lost[i]);
    }
    for (const auto& m : nv.metrics) {
      nv.worst_deviation_pct = std::min(nv.worst_deviation_pct, m.deviation_pct);
      if (!m.fail) continue;
      nv.fail = true;
      nv.causes.push_back(fmt::format("{} {:.1f} {} is {:.0f} % below the nodes' {:.1f}", m.metric, m.value, m.unit,
                                      -m.deviation_pct, m.baseline));
    }
    size_t slow_rails = 0;
    for (const auto& r : nv.rails) {
      nv.worst_deviation_pct = std::min(nv.worst_deviation_pct, r.deviation_pct);
      if (r.fail) ++slow_rails;
    }
    for (const auto& r : nv.rails) {
      if (!r.fail) continue;
      nv.fail = true;
      const std::string every = r.slow_links == r.links ? "every link" : fmt::format("{} of {} links", r.slow_links, r.links);
      if (nv.rails.size() > 1 && slow_rails < nv.rails.size())
        nv.causes.push_back(fmt::format("rail {} slow on {} ({:.0f} % below), the other rails fine: that rail's NIC "
                                        "port, cable or switch port", r.rail, every, -r.deviation_pct));
      else
        nv.causes.push_back(fmt::format("slow on {} ({} of {:.2f} Gb/s median, {:.0f} % below the nodes' {:.2f}): "
                                        "the node's own link (NIC, cable, switch port, or its CPU/PCIe)",
                                        every, r.rail, r.gbps, -r.deviation_pct, r.baseline));
    }
    if (i < d.throttle.size() && !d.throttle[i].empty()) {
      std::string reasons = fmt::format("{}", fmt::join(d.throttle[i], ", "));
      if (nv.fail)
        nv.causes.push_back("GPU clocks throttled: " + reasons);
      else
        nv.causes.push_back("note: GPU clocks throttled (" + reasons + ") without a slow figure");
    }
    out.any_fail = out.any_fail || nv.fail;
  }
  return out;
}

}  // namespace sxcoll::bench
