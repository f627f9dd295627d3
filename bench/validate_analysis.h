// `sxcoll bench --validate`'s judgement, apart from any measurement: which pairs meet in
// which round, the robust baseline, and each node's and link's verdict with its likely
// cause. Pure functions over plain data, so that every rule has a unit test.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sxcoll::bench {

// A round-robin tournament (the circle method): n-1 rounds for even n, n for odd n (each
// node sits one out); in every round a node meets at most one peer, and over all rounds
// every pair meets exactly once. Pairs are (a, b) with a < b.
std::vector<std::vector<std::pair<int, int>>> round_robin_rounds(int n);

struct Baseline {
  double value = 0;             // the median of the values that are not outliers
  std::vector<size_t> outliers; // indices of the values left out
  int iterations = 0;
};

// The median of `values`; those further than `threshold` (a fraction) from it are left
// out and the median taken again, until the set stops changing. Non-finite values are
// ignored. A set where every value would be an outlier keeps the plain median.
Baseline robust_baseline(const std::vector<double>& values, double threshold);

double median(std::vector<double> values);

// One figure of every node (higher is better), e.g. CPU memory bandwidth; nullopt where
// the node did not measure it (no GPU, lost).
struct NodeMetric {
  std::string name;  // "cpu_mem_bw"
  std::string unit;  // "GB/s"
  std::vector<std::optional<double>> values;  // by node
};

// One pair's bandwidth on one rail: the slower of its two directions.
struct LinkSample {
  std::string rail;
  int a = 0, b = 0;  // nodes
  double gbps = 0;
};

struct ValidationData {
  std::vector<std::string> nodes;
  std::vector<NodeMetric> metrics;
  std::vector<LinkSample> links;
  std::vector<std::vector<std::string>> throttle;  // by node: active throttle reasons (NVML), may be empty
  std::vector<std::string> lost;                   // by node: why it stopped answering; empty: it did not
  // False when the run stopped before every round (a node lost): a few links are then too
  // few to blame a node, so link figures are shown but fail no node.
  bool links_complete = true;
};

struct MetricVerdict {
  std::string metric, unit;
  double value = 0, baseline = 0, deviation_pct = 0;
  bool fail = false;
};

struct RailVerdict {
  std::string rail;
  double gbps = 0;  // the median of the node's links on this rail
  double baseline = 0, deviation_pct = 0;
  size_t links = 0, slow_links = 0;
  bool fail = false;
};

struct NodeVerdict {
  std::string name;
  bool fail = false;
  std::vector<MetricVerdict> metrics;
  std::vector<RailVerdict> rails;
  double worst_deviation_pct = 0;  // the most negative deviation of any figure
  std::vector<std::string> causes;
};

struct LinkVerdict {
  LinkSample sample;
  double baseline = 0, deviation_pct = 0;
  bool slow = false;
  std::string cause;  // for a slow link
};

struct Verdict {
  double threshold = 0;
  std::vector<NodeVerdict> nodes;
  std::vector<LinkVerdict> links;
  bool any_fail = false;
};

// A figure fails when it is more than `threshold` below its baseline. A node's figure on a
// rail is the median of its links there, so that a slow node does not drag its peers
// down; the baseline of a rail is the robust baseline of those node figures, and a link
// is slow below (1 - threshold) of it.
Verdict analyse(const ValidationData& data, double threshold);

}  // namespace sxcoll::bench
