#include "bench/validate.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/core.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "bench/harness.h"
#include "bench/link_tester.h"
#include "bench/node_checks.h"
#include "bench/validate_analysis.h"
#include "collectives/communicator.h"
#include "collectives/gpu.h"
#include "transport/error.h"
#include "transport/factory.h"

namespace sxcoll::bench {

namespace fs = std::filesystem;

double parse_percent(const std::string& text, const std::string& flag) {
  std::string t = text;
  while (!t.empty() && (t.back() == '%' || t.back() == ' ')) t.pop_back();
  size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (t.empty() || used != t.size() || !(v > 0 && v < 100))
    throw UsageError(fmt::format("{} '{}': expected a percentage between 0 and 100, e.g. 10 or 10%", flag, text));
  return v / 100;
}

void validate(const ValidateOptions& v) {
  if (!(v.threshold > 0 && v.threshold < 1))
    throw UsageError(fmt::format("--validate-threshold {}: must be between 0 and 100 %", v.threshold * 100));
  if (!v.out_dir.empty()) {
    fs::path parent = fs::path(v.out_dir).parent_path();
    if (parent.empty()) parent = ".";
    if (!fs::is_directory(parent))
      throw UsageError(fmt::format("--out {}: directory {} does not exist", v.out_dir, parent.string()));
    if (fs::exists(v.out_dir) && !fs::is_directory(v.out_dir))
      throw UsageError(fmt::format("--out {}: exists and is not a directory", v.out_dir));
  }
  if (!v.hosts_out.empty()) {
    if (fs::exists(v.hosts_out))
      throw UsageError(fmt::format("--hosts-out {}: the file exists; results are never overwritten", v.hosts_out));
    fs::path parent = fs::path(v.hosts_out).parent_path();
    if (!parent.empty() && !fs::is_directory(parent))
      throw UsageError(fmt::format("--hosts-out {}: directory {} does not exist", v.hosts_out, parent.string()));
  }
}

namespace {

constexpr size_t kNodeCopyBytes = size_t{64} << 20;
constexpr int kNodeCopyPasses = 5;

// Finished steps, kept by host name so that a resumed run (perhaps launched in another
// rank order, or without a lost node) repeats none of them. Only rank 0 reads and writes it.
class StateFile {
 public:
  explicit StateFile(std::string dir) : dir_(std::move(dir)) {
    if (dir_.empty()) return;
    fs::create_directories(dir_);
    std::ifstream in(path());
    if (!in) return;
    try {
      state_ = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw UsageError(fmt::format("--out {}: state.json is not valid JSON ({}); remove it to start afresh", dir_, e.what()));
    }
  }
  std::string path() const { return dir_ + "/state.json"; }
  bool resumed() const { return !state_.is_null(); }
  nlohmann::json& json() { return state_; }
  void save() {
    if (dir_.empty()) return;
    const std::string tmp = path() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << state_.dump(1) << '\n';
      if (!out) throw RunError(fmt::format("cannot write {}", tmp));
    }
    fs::rename(tmp, path());
  }

 private:
  std::string dir_;
  nlohmann::json state_;
};

std::string link_key(const std::string& rail, const std::string& a, const std::string& b) {
  return a < b ? fmt::format("{} {} {}", rail, a, b) : fmt::format("{} {} {}", rail, b, a);
}

class Validation {
 public:
  Validation(const BenchOptions& o, const ValidateOptions& v, bootstrap::Bootstrap& boot)
      : o_(o), v_(v), boot_(boot), root_(boot.rank() == 0), state_(root_ ? v.out_dir : std::string()) {
    for (int r = 0; r < boot.size(); ++r) {
      const std::string& h = boot.hostnames()[static_cast<size_t>(r)];
      auto it = std::find(nodes_.begin(), nodes_.end(), h);
      if (it == nodes_.end()) {
        nodes_.push_back(h);
        leader_.push_back(r);
        node_of_.push_back(static_cast<int>(nodes_.size() - 1));
      } else {
        node_of_.push_back(static_cast<int>(it - nodes_.begin()));
      }
    }
    addresses_ = boot.allgather(boot.reachable_host());
    gpus_ = boot.allgather(std::to_string(gpu::probe_device_count()));
    // Rank 0's state reaches every rank: all must skip the same steps.
    std::string mine = root_ ? state_.json().dump() : std::string();
    state_json_ = nlohmann::json::parse(boot.allgather(mine)[0]);
    if (state_json_.is_null()) state_json_ = nlohmann::json::object();
    data_.nodes = nodes_;
    data_.throttle.resize(nodes_.size());
    data_.lost.resize(nodes_.size());
    figures_.resize(nodes_.size());
  }

  int run() {
    const auto t0 = std::chrono::steady_clock::now();
    if (root_) header();
    try {
      node_checks();
      links();
      allreduce();
    } catch (const RunError& e) {
      if (!root_ || !note_lost(e.what())) throw;
    }
    if (!root_) return 0;
    elapsed_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report();
  }

 private:
  void progress(const std::string& line) {
    if (!root_) return;
    fmt::print(std::cout, "# validate: {}\n", line);
    std::cout.flush();
  }

  void header() {
    fmt::print(std::cout, "# sxcoll bench --validate: {} nodes, {} ranks, transport {}, launcher {}\n", nodes_.size(),
               boot_.size(), o_.transport.name, boot_.launch().launcher);
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

  void save_state() {
    if (!root_) return;
    state_.json() = state_json_;
    state_.save();
  }

  // Node checks one node at a time: nodes that share a machine (or a memory bus, in a
  // test) would otherwise measure each other.
  void node_checks() {
    auto& done = state_json_["nodes"];
    if (done.is_null()) done = nlohmann::json::object();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const std::string& name = nodes_[i];
      if (!done.contains(name)) {
        progress(fmt::format("node checks {} ({} of {})", name, i + 1, nodes_.size()));
        std::string mine;
        if (boot_.rank() == leader_[i]) mine = to_json(measure_node(kNodeCopyBytes, kNodeCopyPasses)).dump();
        done[name] = nlohmann::json::parse(boot_.allgather(mine)[static_cast<size_t>(leader_[i])]);
        save_state();
      }
      figures_[i] = node_figures_from_json(done[name]);
      const auto& f = figures_[i];
      progress(fmt::format("  {}: CPU memory {:.1f} GB/s; {}", name, f.cpu_mem_gbs.value_or(0),
                           f.gpu_note.empty() ? fmt::format("{} GPUs", f.gpus.size()) : f.gpu_note));
      for (const auto& g : f.gpus) progress("    " + g);
    }
    retest_slow_nodes();
  }

  // A figure below the baseline is measured again (twice at most), keeping the best: a
  // transient (another job's burst, a cold cache) should not fail a node, a slow node
  // stays slow.
  void retest_slow_nodes() {
    auto& done = state_json_["nodes"];
    for (int attempt = 1; attempt <= 2; ++attempt) {
      std::vector<double> mem;
      for (const auto& f : figures_) mem.push_back(f.cpu_mem_gbs.value_or(NAN));
      const double base = robust_baseline(mem, v_.threshold).value;
      bool any = false;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!std::isfinite(mem[i]) || mem[i] >= base * (1 - v_.threshold) || shares_kernel(i)) continue;
        any = true;
        progress(fmt::format("node checks {} again ({} of 2): CPU memory {:.1f} GB/s is below the nodes' {:.1f}",
                             nodes_[i], attempt, mem[i], base));
        std::string mine;
        if (boot_.rank() == leader_[i]) mine = fmt::format("{}", cpu_memory_bandwidth_gbs(kNodeCopyBytes, kNodeCopyPasses));
        const double again = std::stod(boot_.allgather(mine)[static_cast<size_t>(leader_[i])]);
        if (again > mem[i]) {
          figures_[i].cpu_mem_gbs = again;
          done[nodes_[i]]["cpu_mem_gbs"] = again;
        }
        progress(fmt::format("  {}: CPU memory {:.1f} GB/s", nodes_[i], again));
      }
      if (!any) break;
      save_state();
    }
  }

  void links() {
    auto& done = state_json_["links"];
    if (done.is_null()) done = nlohmann::json::object();
    const auto rounds = round_robin_rounds(static_cast<int>(nodes_.size()));
    const size_t pairs = nodes_.size() * (nodes_.size() - 1) / 2;
    auto rails = transport::per_rail(o_.transport);
    for (const auto& rail_options : rails) {
      auto context = transport::make_network_context(boot_, rail_options);
      std::vector<int> others;
      for (int r = 0; r < boot_.size(); ++r)
        if (r != boot_.rank()) others.push_back(r);
      context->connect(others);
      auto info = transport::link_info(*context);
      const std::string rail = info.empty() ? rail_options.name : info.front().name;
      P2pOptions p2p;
      LinkTester tester(o_, p2p, boot_, *context);
      size_t left = 0;
      for (const auto& round : rounds)
        for (auto [a, b] : round) left += done.contains(link_key(rail, nodes_[static_cast<size_t>(a)], nodes_[static_cast<size_t>(b)])) ? 0 : 1;
      for (size_t k = 0; k < rounds.size(); ++k) {
        std::vector<int> partner(static_cast<size_t>(boot_.size()), -1);
        std::vector<std::string> names;
        for (auto [a, b] : rounds[k]) {
          const std::string key = link_key(rail, nodes_[static_cast<size_t>(a)], nodes_[static_cast<size_t>(b)]);
          if (done.contains(key)) continue;
          partner[static_cast<size_t>(leader_[static_cast<size_t>(a)])] = leader_[static_cast<size_t>(b)];
          partner[static_cast<size_t>(leader_[static_cast<size_t>(b)])] = leader_[static_cast<size_t>(a)];
          names.push_back(fmt::format("{} <-> {}", nodes_[static_cast<size_t>(a)], nodes_[static_cast<size_t>(b)]));
        }
        if (names.empty()) continue;
        progress(fmt::format("rail {} round {} of {}: {} at {} B ({} of {} pairs left)", rail, k + 1, rounds.size(),
                             fmt::join(names, ", "), o_.max_bytes, left, pairs));
        uint64_t wrong = 0;
        auto received = tester.rounds_one_way(partner, o_.max_bytes, wrong);
        uint64_t total_wrong = 0;
        for (const auto& w : boot_.allgather(std::to_string(wrong))) total_wrong += std::stoull(w);
        if (total_wrong > 0)
          throw RunError(fmt::format("validate: {} bytes arrived wrong in round {} on rail {}", total_wrong, k + 1, rail));
        for (auto [a, b] : rounds[k]) {
          const std::string key = link_key(rail, nodes_[static_cast<size_t>(a)], nodes_[static_cast<size_t>(b)]);
          if (done.contains(key)) continue;
          const double to_a = received[static_cast<size_t>(leader_[static_cast<size_t>(a)])];
          const double to_b = received[static_cast<size_t>(leader_[static_cast<size_t>(b)])];
          done[key] = {{"rail", rail}, {"a", nodes_[static_cast<size_t>(a)]}, {"b", nodes_[static_cast<size_t>(b)]},
                       {"to_a_gbps", to_a}, {"to_b_gbps", to_b}, {"gbps", std::min(to_a, to_b)}};
          --left;
          progress(fmt::format("  {} <-> {}: {:.3f} Gb/s to {}, {:.3f} Gb/s to {}", nodes_[static_cast<size_t>(a)],
                               nodes_[static_cast<size_t>(b)], to_a, nodes_[static_cast<size_t>(a)], to_b,
                               nodes_[static_cast<size_t>(b)]));
        }
        save_state();
      }
      retest_lone_links(rail, tester);
    }
  }

  // The links measured so far (this run's and a resumed run's) between nodes of this run.
  std::vector<LinkSample> measured_links() {
    std::vector<LinkSample> out;
    const auto& links = state_json_["links"];
    if (!links.is_object()) return out;
    for (const auto& [key, l] : links.items()) {
      auto a = std::find(nodes_.begin(), nodes_.end(), l["a"].get<std::string>());
      auto b = std::find(nodes_.begin(), nodes_.end(), l["b"].get<std::string>());
      if (a == nodes_.end() || b == nodes_.end()) continue;  // a node not in this run
      out.push_back({l["rail"].get<std::string>(), static_cast<int>(a - nodes_.begin()),
                     static_cast<int>(b - nodes_.begin()), l["gbps"].get<double>()});
    }
    return out;
  }

  // A slow link is measured again, alone (twice at most), keeping the best, unless one of
  // its ends is slow on every link: on a busy machine, or a switch shared by the round's
  // other pairs, a healthy link can measure low once; a bad cable or port stays slow.
  // Every rank holds the same figures, so all pick the same links.
  void retest_lone_links(const std::string& rail, LinkTester& tester) {
    auto& done = state_json_["links"];
    for (int attempt = 1; attempt <= 2; ++attempt) {
      ValidationData d;
      d.nodes = nodes_;
      for (const auto& l : measured_links())
        if (l.rail == rail) d.links.push_back(l);
      const Verdict verdict = analyse(d, v_.threshold);
      // A node slow on every one of its links is what it is; one slow on only some may
      // have met a busy moment, and those links are measured again.
      std::vector<bool> slow_everywhere(nodes_.size(), false);
      for (size_t i = 0; i < verdict.nodes.size(); ++i)
        for (const auto& r : verdict.nodes[i].rails)
          if (r.rail == rail && r.fail && r.slow_links == r.links) slow_everywhere[i] = true;
      bool any = false;
      for (const auto& lv : verdict.links) {
        if (!lv.slow || slow_everywhere[static_cast<size_t>(lv.sample.a)] ||
            slow_everywhere[static_cast<size_t>(lv.sample.b)])
          continue;
        any = true;
        const size_t a = static_cast<size_t>(lv.sample.a), b = static_cast<size_t>(lv.sample.b);
        const std::string key = link_key(rail, nodes_[a], nodes_[b]);
        progress(fmt::format("rail {}: {} <-> {} again, alone ({} of 2): {:.3f} Gb/s is {:.0f} % below the baseline",
                             rail, nodes_[a], nodes_[b], attempt, lv.sample.gbps, -lv.deviation_pct));
        std::vector<int> partner(static_cast<size_t>(boot_.size()), -1);
        partner[static_cast<size_t>(leader_[a])] = leader_[b];
        partner[static_cast<size_t>(leader_[b])] = leader_[a];
        uint64_t wrong = 0;
        auto received = tester.rounds_one_way(partner, o_.max_bytes, wrong);
        const double gbps = std::min(received[static_cast<size_t>(leader_[a])], received[static_cast<size_t>(leader_[b])]);
        progress(fmt::format("  {} <-> {}: {:.3f} Gb/s", nodes_[a], nodes_[b], gbps));
        if (gbps > done[key]["gbps"].get<double>()) {
          done[key]["gbps"] = gbps;
          done[key]["retested"] = attempt;
        }
      }
      if (!any) break;
      save_state();
    }
  }

  void allreduce() {
    progress(fmt::format("allreduce over all {} ranks at {} B, {} iterations", boot_.size(), o_.max_bytes, o_.iters));
    auto context = transport::make_context(boot_, o_.transport);
    Communicator comm(boot_, *context, o_.comm);
    const size_t count = std::max<size_t>(o_.max_bytes / sizeof(float), 1);
    std::vector<float> in(count, 1.0f), out(count);
    for (int i = 0; i < std::max(o_.warmup_iters, 1); ++i)
      comm.allreduce(in.data(), out.data(), count, DataType::Float32, RedOp::Sum, o_.algorithm);
    boot_.barrier();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o_.iters; ++i)
      comm.allreduce(in.data(), out.data(), count, DataType::Float32, RedOp::Sum, o_.algorithm);
    double mine = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / o_.iters;
    double slowest = 0;
    for (const auto& s : boot_.allgather(fmt::format("{}", mine))) slowest = std::max(slowest, std::stod(s));
    const double n = boot_.size();
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
  bool note_lost(const std::string& what) {
    std::vector<int> lost;
    for (int i = 0; i < 20 && lost.empty(); ++i) {
      lost = boot_.lost_ranks();
      if (lost.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string reason;
    if (lost.empty()) {
      static const std::regex lost_re(R"(rank (\d+) lost)"), peer_re(R"(connection with rank (\d+))");
      std::string text = what;
      if (auto r = boot_.poll_abort()) text = *r + "; " + what;
      std::smatch m;
      if (!std::regex_search(text, m, lost_re) && !std::regex_search(text, m, peer_re)) return false;
      lost.push_back(std::stoi(m[1].str()));
      reason = text;
    }
    for (int rank : lost) {
      if (rank < 0 || rank >= boot_.size() || rank == boot_.rank()) return false;
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
  bool shares_kernel(size_t i) const {
    if (figures_[i].boot_id.empty()) return false;
    return std::count_if(figures_.begin(), figures_.end(),
                         [&](const NodeFigures& f) { return f.boot_id == figures_[i].boot_id; }) > 1;
  }

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

std::string signed_pct(double pct) { return fmt::format("{:+.1f} %", pct); }

int Validation::report() {
  // Figures into the analysis.
  NodeMetric mem{"cpu_mem_bw", "GB/s", {}}, tflops{"gpu_matmul", "TFLOP/s", {}}, gmem{"gpu_mem_bw", "GB/s", {}},
      h2d{"pcie_h2d", "GB/s", {}}, d2h{"pcie_d2h", "GB/s", {}};
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto& f = figures_[i];
    mem.values.push_back(shares_kernel(i) ? std::nullopt : f.cpu_mem_gbs);
    tflops.values.push_back(f.gpu_tflops);
    gmem.values.push_back(f.gpu_mem_gbs);
    h2d.values.push_back(f.pcie_h2d_gbs);
    d2h.values.push_back(f.pcie_d2h_gbs);
    data_.throttle[i] = f.throttle;
  }
  data_.metrics.push_back(mem);
  for (auto* m : {&tflops, &gmem, &h2d, &d2h})
    if (std::any_of(m->values.begin(), m->values.end(), [](const auto& v) { return v.has_value(); }))
      data_.metrics.push_back(*m);
  data_.links = measured_links();
  data_.links_complete = broken_.empty();
  const Verdict v = analyse(data_, v_.threshold);

  auto& out = std::cout;
  size_t shared = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) shared += shares_kernel(i) ? 1 : 0;
  if (shared > 0)
    fmt::print(out, "# CPU memory bandwidth not judged on {} nodes that share one kernel (boot id): one machine's "
                    "memory, shown in ( )\n", shared);
  fmt::print(out, "#\n# {:<28} {:>8} {:>12} {:>9} {:>14} {:>9}  {}\n", "node", "verdict", "link Gb/s", "vs base",
             "CPU mem GB/s", "vs base", "cause");
  for (const auto& n : v.nodes) {
    std::string link = "-", link_dev = "-", mem_s = "-", mem_dev = "-";
    if (!n.rails.empty()) {
      link = fmt::format("{:.3f}", n.rails.front().gbps);
      link_dev = signed_pct(n.rails.front().deviation_pct);
    }
    for (const auto& m : n.metrics)
      if (m.metric == "cpu_mem_bw") {
        mem_s = fmt::format("{:.1f}", m.value);
        mem_dev = signed_pct(m.deviation_pct);
      }
    const size_t i = static_cast<size_t>(&n - v.nodes.data());
    if (shares_kernel(i) && figures_[i].cpu_mem_gbs) mem_s = fmt::format("({:.1f})", *figures_[i].cpu_mem_gbs);
    fmt::print(out, "  {:<28} {:>8} {:>12} {:>9} {:>14} {:>9}  {}\n", n.name, n.fail ? "FAIL" : "ok", link, link_dev,
               mem_s, mem_dev, n.causes.empty() ? "" : n.causes.front());
    for (size_t c = 1; c < n.causes.size(); ++c) fmt::print(out, "  {:<28} {:>8} {:>12} {:>9} {:>14} {:>9}  {}\n", "", "", "", "", "", "", n.causes[c]);
  }
  if (!v.nodes.empty() && !v.nodes.front().rails.empty())
    fmt::print(out, "# link baseline (robust median of the nodes' median links) on {}: {:.3f} Gb/s\n",
               v.nodes.front().rails.front().rail, v.nodes.front().rails.front().baseline);
  size_t slow = 0;
  for (const auto& l : v.links)
    if (l.slow) {
      ++slow;
      fmt::print(out, "# slow link {} {} <-> {}: {:.3f} Gb/s ({}): {}\n", l.sample.rail,
                 nodes_[static_cast<size_t>(l.sample.a)], nodes_[static_cast<size_t>(l.sample.b)], l.sample.gbps,
                 signed_pct(l.deviation_pct), l.cause);
    }
  if (busbw_gbs_ >= 0)
    fmt::print(out, "# allreduce of all ranks ({}, {} B): busbw {:.3f} GB/s\n", allreduce_algo_, o_.max_bytes, busbw_gbs_);
  else
    fmt::print(out, "# allreduce of all ranks: not run ({})\n", broken_.empty() ? "stopped before" : "a node was lost");
  size_t failed = 0;
  for (const auto& n : v.nodes) failed += n.fail ? 1 : 0;
  fmt::print(out, "# validate: {} of {} nodes failed, {} of {} links slow, {:.1f} s\n", failed, v.nodes.size(), slow,
             v.links.size(), elapsed_s_);
  out.flush();

  nlohmann::json j;
  j["tool"] = "sxcoll bench --validate";
  j["threshold"] = v_.threshold;
  j["transport"] = o_.transport.name;
  j["elapsed_s"] = elapsed_s_;
  if (!broken_.empty()) j["stopped"] = broken_;
  auto& jn = j["nodes"] = nlohmann::json::array();
  for (size_t i = 0; i < v.nodes.size(); ++i) {
    const auto& n = v.nodes[i];
    nlohmann::json rails = nlohmann::json::array(), metrics = nlohmann::json::array();
    for (const auto& r : n.rails)
      rails.push_back({{"rail", r.rail}, {"gbps", r.gbps}, {"baseline_gbps", r.baseline}, {"deviation_pct", r.deviation_pct},
                       {"links", r.links}, {"slow_links", r.slow_links}, {"fail", r.fail}});
    for (const auto& m : n.metrics)
      metrics.push_back({{"metric", m.metric}, {"unit", m.unit}, {"value", m.value}, {"baseline", m.baseline},
                         {"deviation_pct", m.deviation_pct}, {"fail", m.fail}});
    jn.push_back({{"name", n.name}, {"address", addresses_[static_cast<size_t>(leader_[i])]}, {"fail", n.fail},
                  {"lost", !data_.lost[i].empty()}, {"worst_deviation_pct", n.worst_deviation_pct},
                  {"causes", n.causes}, {"rails", rails}, {"metrics", metrics}, {"node_checks", to_json(figures_[i])}});
  }
  auto& jl = j["links"] = nlohmann::json::array();
  for (const auto& l : v.links)
    jl.push_back({{"rail", l.sample.rail}, {"a", nodes_[static_cast<size_t>(l.sample.a)]},
                  {"b", nodes_[static_cast<size_t>(l.sample.b)]}, {"gbps", l.sample.gbps}, {"baseline_gbps", l.baseline},
                  {"deviation_pct", l.deviation_pct}, {"slow", l.slow}, {"cause", l.cause}});
  j["allreduce"] = busbw_gbs_ >= 0 ? nlohmann::json{{"bytes", o_.max_bytes}, {"algorithm", allreduce_algo_},
                                                    {"algbw_gbs", algbw_gbs_}, {"busbw_gbs", busbw_gbs_}}
                                   : nlohmann::json(nullptr);
  j["failed_nodes"] = failed;
  auto write = [](const std::string& path, const nlohmann::json& doc) {
    std::ofstream f(path, std::ios::trunc);
    f << doc.dump(2) << '\n';
    if (!f) throw RunError(fmt::format("cannot write {}", path));
  };
  if (!o_.json_path.empty()) write(o_.json_path, j);
  if (!v_.hosts_out.empty()) {
    // `sxcoll sft --hosts` reads this (sft_driver/inventory.cc): failed nodes excluded.
    nlohmann::json hosts = nlohmann::json::array();
    for (size_t i = 0; i < v.nodes.size(); ++i) {
      const size_t r = static_cast<size_t>(leader_[i]);
      nlohmann::json h{{"name", nodes_[i]}, {"address", addresses_[r]}, {"gpus", std::stoi(gpus_[r])}};
      if (v.nodes[i].fail) {
        h["exclude"] = true;
        h["tags"] = {"validate: " + (v.nodes[i].causes.empty() ? std::string("failed") : v.nodes[i].causes.front())};
      }
      hosts.push_back(h);
    }
    write(v_.hosts_out, nlohmann::json{{"hosts", hosts}});
  }
  return v.any_fail ? 1 : 0;
}

}  // namespace

int run_validate_rank(const BenchOptions& options, const ValidateOptions& validate, const bootstrap::LaunchInfo& launch) {
  return run_rank(options, launch, [&](bootstrap::Bootstrap& boot) { return Validation(options, validate, boot).run(); });
}

}  // namespace sxcoll::bench
