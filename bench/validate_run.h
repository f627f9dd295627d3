// One rank's part of `sxcoll bench --validate` (bench/validate.h): the steps in order, node
// checks (validate_run_nodes.cc), the links in rounds (validate_run_links.cc), the
// allreduce, and rank 0's verdict (validate_run_report.cc). Every rank holds the same
// figures, so that all take the same decisions without asking each other.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/node_checks.h"
#include "bench/options.h"
#include "bench/validate.h"
#include "bench/validate_analysis.h"
#include "bench/validate_state.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/socket.h"

namespace sxcoll::bench {

class LinkTester;

class Validation {
 public:
  Validation(const BenchOptions& o, const ValidateOptions& v, bootstrap::Bootstrap& boot);
  // 0 when every node passes (on rank 0; the others return 0), 1 when one fails.
  int run();

 private:
  // Nodes, leaders and the spare listener for the ranks of boot_ (after a loss: the survivors).
  void adopt_world();
  void share_state();
  // After `what` broke a step: when the store names a rank whose process died, every
  // survivor on the other hosts joins a new bootstrap without that rank's host, and the
  // steps go on from the shared state (validate_run_recovery.cc). False where no rank
  // is named dead, or no other host is left.
  bool survive_loss(const std::string& what);
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
  bootstrap::Bootstrap* boot_;                      // the launch's, or the survivors'
  std::unique_ptr<bootstrap::Bootstrap> survivors_;  // made by survive_loss
  bool root_;                                         // rank 0 of boot_: measures the steps' order, reports
  StateFile state_;
  nlohmann::json state_json_;
  std::vector<std::string> nodes_;
  std::vector<int> leader_;   // by node: its first rank in boot_, -1 once lost
  std::vector<int> node_of_;  // by rank of boot_
  std::vector<std::string> node_address_;
  std::vector<int> node_gpus_;
  net::Fd spare_listener_;
  std::vector<std::string> spare_ports_, rank_addresses_;  // by rank of boot_
  std::vector<NodeFigures> figures_;
  ValidationData data_;
  double algbw_gbs_ = -1, busbw_gbs_ = -1, elapsed_s_ = 0;
  std::string allreduce_algo_, broken_;
};

}  // namespace sxcoll::bench
