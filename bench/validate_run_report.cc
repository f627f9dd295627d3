#include <fstream>
#include <iostream>

#include <fmt/core.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "bench/validate_analysis.h"
#include "bench/validate_run.h"
#include "transport/error.h"

namespace sxcoll::bench {

namespace {

std::string signed_pct(double pct) { return fmt::format("{:+.1f} %", pct); }

}  // namespace

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
  auto& lost = j["lost_nodes"] = nlohmann::json::array();
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!data_.lost[i].empty()) lost.push_back({{"name", nodes_[i]}, {"cause", data_.lost[i]}});
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
    jn.push_back({{"name", n.name}, {"address", node_address_[i]}, {"fail", n.fail},
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
      nlohmann::json h{{"name", nodes_[i]}, {"address", node_address_[i]}, {"gpus", node_gpus_[i]}};
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

}  // namespace sxcoll::bench
