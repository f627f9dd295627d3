#include "bench/validate_run.h"

#include <chrono>
#include <iostream>
#include <regex>
#include <thread>

#include <fmt/core.h>
#include <fmt/ostream.h>

#include "bench/harness.h"
#include "collectives/communicator.h"
#include "collectives/gpu.h"
#include "transport/error.h"
#include "transport/factory.h"
#include "transport/socket.h"

namespace sxcoll::bench {

Validation::Validation(const BenchOptions& o, const ValidateOptions& v, bootstrap::Bootstrap& boot)
    : o_(o), v_(v), boot_(&boot), root_(boot.rank() == 0), state_(root_ ? v.out_dir : std::string()) {
  for (const auto& h : boot.hostnames())
    if (std::find(nodes_.begin(), nodes_.end(), h) == nodes_.end()) nodes_.push_back(h);
  adopt_world();
  const auto addresses = boot.allgather(boot.reachable_host());
  const auto gpus = boot.allgather(std::to_string(gpu::probe_device_count()));
  for (int leader : leader_) {
    node_address_.push_back(addresses[static_cast<size_t>(leader)]);
    node_gpus_.push_back(std::stoi(gpus[static_cast<size_t>(leader)]));
  }
  if (root_) state_json_ = state_.json();
  share_state();
  data_.nodes = nodes_;
  data_.throttle.resize(nodes_.size());
  data_.lost.resize(nodes_.size());
  figures_.resize(nodes_.size());
}

void Validation::adopt_world() {
  node_of_.clear();
  leader_.assign(nodes_.size(), -1);
  for (int r = 0; r < boot_->size(); ++r) {
    const auto it = std::find(nodes_.begin(), nodes_.end(), boot_->hostnames()[static_cast<size_t>(r)]);
    const auto node = static_cast<size_t>(it - nodes_.begin());
    node_of_.push_back(static_cast<int>(node));
    if (leader_[node] < 0) leader_[node] = r;
  }
  // Where the survivors of a lost host would meet (validate_run_recovery.cc): a listener
  // bound now on every rank, so that whoever becomes rank 0 has a port the others know. On
  // the address peers reach it on: the new rank 0's own store client connects there, and
  // its transports offer that client's local address to the peers.
  rank_addresses_ = boot_->allgather(boot_->reachable_host());
  spare_listener_ = net::listen_tcp(boot_->reachable_host(), 0);
  spare_ports_ = boot_->allgather(std::to_string(net::local_address(spare_listener_.get()).port));
}

// Rank 0's state reaches every rank: all must skip the same steps.
void Validation::share_state() {
  const std::string mine = root_ ? state_json_.dump() : std::string();
  state_json_ = nlohmann::json::parse(boot_->allgather(mine)[0]);
  if (state_json_.is_null()) state_json_ = nlohmann::json::object();
}

int Validation::run() {
  const auto t0 = std::chrono::steady_clock::now();
  if (root_) header();
  for (;;) {
    try {
      node_checks();
      links();
      allreduce();
      break;
    } catch (const RunError& e) {
      if (survive_loss(e.what())) continue;  // the steps again, without the lost host
      if (!root_ || !note_lost(e.what())) throw;
      break;
    }
  }
  elapsed_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int code = root_ ? report() : 0;
  if (boot_ == survivors_.get()) {
    // The original bootstrap's run_rank shares rank 0's verdict; after a loss, its rank 0
    // may be gone: the survivors' rank 0 gives it here.
    return std::stoi(boot_->allgather(std::to_string(code))[0]);
  }
  return code;
}

void Validation::progress(const std::string& line) {
  if (!root_) return;
  fmt::print(std::cout, "# validate: {}\n", line);
  std::cout.flush();
}

void Validation::header() {
  fmt::print(std::cout, "# sxcoll bench --validate: {} nodes, {} ranks, transport {}, launcher {}\n", nodes_.size(),
             boot_->size(), o_.transport.name, boot_->launch().launcher);
  if (nodes_.size() < 3)
    fmt::print(std::cout, "# {} node{}: {}\n", nodes_.size(), nodes_.size() == 1 ? "" : "s",
               nodes_.size() == 1 ? "no links to measure (all ranks share one host name)"
                                  : "one link: a slow link cannot be blamed on either end");
  fmt::print(std::cout, "# links: {} B x {} writes per direction (after {} warm-up), the slower direction counts; "
                        "threshold {:.0f} % below the robust baseline\n",
             o_.max_bytes, o_.iters, std::max(o_.warmup_iters, 1), v_.threshold * 100);
  if (!v_.out_dir.empty())
    fmt::print(std::cout, "# state: {}{}\n", state_.path(), state_.resumed() ? " (resumed: finished steps are kept)" : "");
  std::cout.flush();
}

void Validation::save_state() {
  if (!root_) return;
  state_.json() = state_json_;
  state_.save();
}

void Validation::allreduce() {
  progress(fmt::format("allreduce over all {} ranks at {} B, {} iterations", boot_->size(), o_.max_bytes, o_.iters));
  auto context = transport::make_context(*boot_, o_.transport);
  Communicator comm(*boot_, *context, o_.comm);
  const size_t count = std::max<size_t>(o_.max_bytes / sizeof(float), 1);
  std::vector<float> in(count, 1.0f), out(count);
  for (int i = 0; i < std::max(o_.warmup_iters, 1); ++i)
    comm.allreduce(in.data(), out.data(), count, DataType::Float32, RedOp::Sum, o_.algorithm);
  boot_->barrier();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < o_.iters; ++i)
    comm.allreduce(in.data(), out.data(), count, DataType::Float32, RedOp::Sum, o_.algorithm);
  double mine = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / o_.iters;
  double slowest = 0;
  for (const auto& s : boot_->allgather(fmt::format("{}", mine))) slowest = std::max(slowest, std::stod(s));
  const double n = boot_->size();
  const double bytes = static_cast<double>(count * sizeof(float));
  algbw_gbs_ = slowest > 0 ? bytes / slowest / 1e9 : 0;
  busbw_gbs_ = algbw_gbs_ * 2 * (n - 1) / n;
  allreduce_algo_ = std::string(algorithm_name(comm.resolve(o_.algorithm, o_.max_bytes)));
  progress(fmt::format("  allreduce ({}): algbw {:.3f} GB/s, busbw {:.3f} GB/s", allreduce_algo_, algbw_gbs_, busbw_gbs_));
}

// A rank lost mid-run. Rank 0 serves the store, which saw whose process ended without a
// goodbye or an abort: those are the lost ones (a survivor that gave up after them said
// why). Asked for a second, as the closing socket may reach us before the store's poll
// loop. Where the store saw none, the first message that names another rank counts.
// Returns false where nothing names another rank.
bool Validation::note_lost(const std::string& what) {
  std::vector<int> lost;
  for (int i = 0; i < 20 && lost.empty(); ++i) {
    lost = boot_->lost_ranks();
    if (lost.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string reason;
  if (lost.empty()) {
    static const std::regex lost_re(R"(rank (\d+) lost)"), peer_re(R"(connection with rank (\d+))");
    std::string text = what;
    if (auto r = boot_->poll_abort()) text = *r + "; " + what;
    std::smatch m;
    if (!std::regex_search(text, m, lost_re) && !std::regex_search(text, m, peer_re)) return false;
    lost.push_back(std::stoi(m[1].str()));
    reason = text;
  }
  for (int rank : lost) {
    if (rank < 0 || rank >= boot_->size() || rank == boot_->rank()) return false;
    const std::string why = reason.empty() ? fmt::format("rank {} lost: its process ended without saying goodbye "
                                                         "(killed or crashed)", rank)
                                           : reason;
    data_.lost[static_cast<size_t>(node_of_[static_cast<size_t>(rank)])] = why;
    if (broken_.empty())
      broken_ = fmt::format("validation stopped: {}; what was measured before is judged below, the rest was not "
                            "measured (rerun with the same --out to finish without it)", why);
  }
  fmt::print(std::cout, "# validate: {}\n", broken_);
  fmt::print(std::cout, "# validate: first error seen here: {}\n", what);
  return true;
}

// Nodes on one kernel (one machine) share its memory: their CPU figure is not judged.
bool Validation::shares_kernel(size_t i) const {
  if (figures_[i].boot_id.empty()) return false;
  return std::count_if(figures_.begin(), figures_.end(),
                       [&](const NodeFigures& f) { return f.boot_id == figures_[i].boot_id; }) > 1;
}

}  // namespace sxcoll::bench
