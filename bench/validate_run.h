// One rank's part of `sxcoll bench --validate` (bench/validate.h): the steps in order, node
// checks (validate_run_nodes.cc), the links in rounds (validate_run_links.cc), the
// allreduce, and rank 0's verdict (validate_run_report.cc). Every rank holds the same
// figures, so that all take the same decisions without asking each other.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/node_checks.h"
#include "bench/options.h"
#include "bench/validate.h"
#include "bench/validate_analysis.h"
#include "bench/validate_state.h"
#include "transport/bootstrap/bootstrap.h"

namespace sxcoll::bench {

class LinkTester;

class Validation {
 public:
  Validation(const BenchOptions& o, const ValidateOptions& v, bootstrap::Bootstrap& boot);
  // 0 when every node passes (on rank 0; the others return 0), 1 when one fails.
  int run();

 private:
  void progress(const std::string& line);
  void header();
  void save_state();
  void node_checks();
  void retest_slow_nodes();
  void links();
  std::vector<LinkSample> measured_links();
  void retest_lone_links(const std::string& rail, LinkTester& tester);
  void allreduce();
  bool note_lost(const std::string& what);
  bool shares_kernel(size_t i) const;
  int report();

  const BenchOptions& o_;
  const ValidateOptions& v_;
  bootstrap::Bootstrap& boot_;
  const bool root_;
  StateFile state_;
  nlohmann::json state_json_;
  std::vector<std::string> nodes_;
  std::vector<int> leader_, node_of_;
  std::vector<std::string> addresses_, gpus_;
  std::vector<NodeFigures> figures_;
  ValidationData data_;
  double algbw_gbs_ = -1, busbw_gbs_ = -1, elapsed_s_ = 0;
  std::string allreduce_algo_, broken_;
};

}  // namespace sxcoll::bench
