// `sxcoll tune` from checked options to files: detect the fabric's fixed facts, choose the
// knobs, measure the defaults, fit the cost model, run the coordinate descent within the
// budget (trials appended to DIR/trials.jsonl, reused on a rerun), confirm the result in a
// fresh alternating run, and write DIR/nccl_env.sh and DIR/summary.json with the summary on
// the terminal.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "tuner/fabric.h"
#include "tuner/knobs.h"
#include "tuner/search.h"
#include "tuner/summary.h"
#include "tuner/trial_runner.h"
#include "tuner/workload.h"

namespace sxcoll::tune {

struct TuneOptions {
  Engine engine = Engine::Nccl;
  std::string transport;           // "" : tcp for sxcoll, auto for nccl
  std::string memory;              // bench's --mem: "" : host for sxcoll; nccl always cuda
  int np = 0;                      // local ranks; or
  std::string launch;              // a launcher prefix ("mpirun -np 16 -H a,b"), split on whitespace
  std::string sizes;               // --sizes; or
  std::string workload;            // --workload
  std::vector<std::string> knobs;  // --knob NAME[=V1,V2]
  std::chrono::milliseconds budget = std::chrono::minutes(20);
  std::chrono::milliseconds trial_timeout = std::chrono::minutes(5);
  SearchOptions search;
  int iters = 20, warmup = 5, check = 0;
  std::string dtype = "float";
  std::string out_dir;     // "" : results/tune-<UTC timestamp>
  std::string exe;         // "" : this executable
  std::string sysfs_root;  // "" : /sys/class/infiniband
};

inline constexpr const char* kDefaultSizes = "1M..256M";

class Tuner {
 public:
  // Checks everything that can be checked before any work (UsageError, one line) and
  // creates the output folder.
  explicit Tuner(TuneOptions options);
  // 0: done (also when the budget ended the search early); 1: the run failed;
  // 130: interrupted (the trials are kept; the same command resumes).
  int run(std::ostream& out);

  const std::string& out_dir() const { return options_.out_dir; }

 private:
  void print_header(std::ostream& out, size_t loaded, size_t reusable, size_t bad_lines) const;
  std::vector<std::string> env_header(int ranks, const SearchResult& result, const SizeComparison& total,
                                      const std::string& source) const;

  TuneOptions options_;
  Workload workload_;
  FabricFacts facts_;
  Fabric fabric_ = Fabric::Socket;
  std::string fabric_note_;
  KnobSelection selection_;
  TrialPlan plan_;
  std::vector<std::pair<std::string, std::string>> conditions_;  // transport switches set in NCCL trials
  std::vector<std::string> ignored_env_;                         // NCCL knobs found in our environment, not passed on
  std::vector<std::string> replaced_env_;                        // fixed facts set differently in our environment
};

}  // namespace sxcoll::tune
