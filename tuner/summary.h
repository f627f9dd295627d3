// What the terminal and summary.json get at the end: default against tuned busbw per size
// with the ratio's interval, and the fitted cost model with its (labelled) predictions.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tuner/cost_model.h"
#include "tuner/search.h"
#include "tuner/trial_store.h"
#include "tuner/workload.h"

namespace sxcoll::tune {

struct SizeComparison {
  size_t bytes = 0;
  double weight = 0;                        // 0: measured by the sweep, not counted in the score
  double default_gbps = 0, tuned_gbps = 0;  // means over the processes
  Comparison ratio;                         // tuned against default
};

// Every size of the sweep, then the workload's score as the last row (bytes 0). With
// `same` (nothing changed) the two sides are the same samples: no interval.
std::vector<SizeComparison> compare_sizes(const Workload& workload, const std::vector<Sample>& defaults,
                                          const std::vector<Sample>& tuned, bool same, double confidence);
// `source` says where the samples come from (the search, or a confirmation run).
void print_summary_table(std::ostream& out, const std::vector<SizeComparison>& rows, bool same, double confidence,
                         const std::string& source);

struct ModelReport {
  std::optional<AlgorithmModel> ring, tree;
  std::string note;  // why there is no model, when there is none
  ClusterShape shape;
  std::vector<Prediction> predictions;
};

// Fits ring and tree from their trials (every repetition, every size).
ModelReport build_model(const std::vector<const TrialRecord*>& ring_trials,
                        const std::vector<const TrialRecord*>& tree_trials, const std::string& missing_note);
void print_model(std::ostream& out, const ModelReport& model);
nlohmann::json model_json(const ModelReport& model);
nlohmann::json sizes_json(const std::vector<SizeComparison>& rows);

}  // namespace sxcoll::tune
