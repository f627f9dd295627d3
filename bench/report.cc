#include "bench/report.h"

#include <algorithm>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "bench/iteration_stats.h"
#include "bench/size_parse.h"
#include "transport/error.h"

namespace sxcoll::bench {

namespace {

// nccl-tests' number format (src/util.cu, getFloatStr): two decimals while the value fits
// the field with them, then one, then none, then an exponent; fields keep their width.
std::string nccl_float(double value, int width) {
  int power = 0;
  for (double v = 1; value >= v && power < 30; v *= 10) power++;
  if (power < width - 2) return fmt::format("{:{}.2f}", value, width);
  if (power < width - 1) return fmt::format("{:{}.1f}", value, width);
  if (power < width + 1) return fmt::format("{:{}.0f}", value, width);
  return fmt::format("{:{}.1e}", value, width);
}

// time, algbw, busbw, #wrong: four whitespace-separated fields, N/A for #wrong when the
// run does not check (-c 0), as nccl-tests prints it.
std::string placement_columns(const PlacementResult& p, bool checked) {
  std::string columns = fmt::format("  {}  {}  {}", nccl_float(p.time_us, 7), nccl_float(p.algbw_gbps, 6),
                                    nccl_float(p.busbw_gbps, 6));
  return columns + (checked && p.defined ? fmt::format("  {:6}", p.wrong) : std::string("    N/A"));
}

std::string unique_hosts(const std::vector<std::string>& hosts) {
  std::set<std::string> unique(hosts.begin(), hosts.end());
  return fmt::format("{} ({})", unique.size(), fmt::join(unique, ", "));
}

nlohmann::json placement_json(const PlacementResult& p, bool checked) {
  nlohmann::json j{{"time_us", p.time_us}, {"algbw_gbps", p.algbw_gbps}, {"busbw_gbps", p.busbw_gbps}};
  j["wrong"] = checked && p.defined ? nlohmann::json(p.wrong) : nlohmann::json(nullptr);
  if (!p.iteration_us.empty()) {
    const IterationStats s = iteration_stats(p.iteration_us);
    j["per_iteration"] = {{"min_us", s.min_us}, {"p50_us", s.p50_us}, {"p90_us", s.p90_us}, {"p99_us", s.p99_us},
                          {"max_us", s.max_us}, {"avg_us", s.avg_us}, {"stdev_us", s.stdev_us},
                          {"times_us", p.iteration_us}};
  }
  return j;
}

std::ofstream open_new(const std::string& path) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  if (!out) throw RunError(fmt::format("cannot write {}", path));
  return out;
}

}  // namespace

void print_header(std::ostream& out, const RunDescription& run) {
  const BenchOptions& o = *run.options;
  fmt::print(out, "# sxcoll bench: {}\n", run.collective);
  if (auto coll = parse_collective(run.collective))
    fmt::print(out, "# Collective test starting: {}\n", nccl_tests_program(*coll));
  fmt::print(out, "# engine: {}  ({})\n", run.engine, run.engine_detail);
  fmt::print(out, "# memory: {}{}\n", run.memory, run.data_path.empty() ? "" : "  data path: " + run.data_path);
  if (!run.routes.empty()) fmt::print(out, "# links of rank 0: {}\n", run.routes);
  if (!o.knob_settings.empty() && run.engine == "sxcoll") fmt::print(out, "# knobs: {}\n", o.knob_settings);
  if (!run.cost_model.empty()) fmt::print(out, "# auto's cost model: {}\n", run.cost_model);
  for (const auto& link : run.links) fmt::print(out, "# rail: {}\n", link);
  if (run.line_rate_gbps > 0)
    fmt::print(out, "# line rate: {:g} Gb/s per rank over {} rail(s) = {:.2f} GB/s, the bound of ring busbw\n",
               run.line_rate_gbps, run.links.size(), run.line_rate_gbps / 8);
  fmt::print(out, "# ranks: {}  hosts: {}  launcher: {}\n", run.hostnames.size(), unique_hosts(run.hostnames),
             run.launcher);
  std::string step = o.step_bytes > 0 ? fmt::format("{}(bytes)", o.step_bytes) : fmt::format("{}(factor)", o.step_factor);
  fmt::print(out, "# minBytes {} maxBytes {} step: {} warmup iters: {} iters: {} validation: {} time: {}\n", o.min_bytes,
             o.max_bytes, step, o.warmup_iters, o.iters, o.check ? 1 : 0,
             std::array{"rank 0", "average over ranks", "min over ranks", "max over ranks"}[static_cast<int>(o.aggregate)]);
  if (o.check) fmt::print(out, "# check: {}\n", run.check_rule);
  fmt::print(out, "#\n");
  for (size_t r = 0; r < run.hostnames.size(); ++r)
    fmt::print(out, "#  Rank {:2} Pid {:6} on {:>10}{}\n", r, r < run.pids.size() ? run.pids[r] : 0, run.hostnames[r],
               r < run.devices.size() ? " device " + run.devices[r] : "");
  fmt::print(out, "#\n");
  fmt::print(out, "# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}           out-of-place                       in-place          \n",
             "", "", "", "", "");
  fmt::print(out, "# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {:>6} \n", "size",
             "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw", "#wrong");
  fmt::print(out, "# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {:>6} \n", "(B)",
             "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
  out.flush();
}

std::string_view redop_column(const SizeResult& r) { return r.reduces ? redop_name(r.op) : "none"; }

void print_row(std::ostream& out, const SizeResult& r, bool checked) {
  fmt::print(out, "{:>12}  {:>12}  {:>8}  {:>6}  {:>6}{}{}\n", r.bytes, r.count, dtype_name(r.type), redop_column(r),
             r.root, placement_columns(r.out_of_place, checked), placement_columns(r.in_place, checked));
  out.flush();
}

double average_busbw(const std::vector<SizeResult>& results) {
  if (results.empty()) return 0;
  double sum = 0;
  for (const auto& r : results) sum += r.out_of_place.busbw_gbps + r.in_place.busbw_gbps;
  return sum / static_cast<double>(2 * results.size());
}

void print_footer(std::ostream& out, const std::vector<SizeResult>& results, bool checked) {
  uint64_t wrong = 0;
  for (const auto& r : results) wrong += r.out_of_place.wrong + r.in_place.wrong;
  // nccl-tests counts 0 wrong values when it does not check, and says OK: so do we
  // (the header's "validation: 0" says the run did not check).
  if (!checked) wrong = 0;
  fmt::print(out, "# Out of bounds values : {} {}\n", wrong, wrong == 0 ? "OK" : "FAILED");
  fmt::print(out, "# Avg bus bandwidth    : {:g} \n#\n", average_busbw(results));
  out.flush();
}

void print_concluded(std::ostream& out, const RunDescription& run) {
  if (auto coll = parse_collective(run.collective))
    fmt::print(out, "# Collective test concluded: {}\n#\n", nccl_tests_program(*coll));
  out.flush();
}

std::string algorithms_by_size(const std::vector<SizeResult>& results) {
  // The algorithm depends on the size alone: the first type and op's sizes say it all.
  std::vector<std::string> spans;
  size_t first = 0, last = 0;
  std::string current;
  auto close = [&] {
    if (current.empty()) return;
    spans.push_back(first == last ? fmt::format("{} {}", format_size(first), current)
                                  : fmt::format("{}..{} {}", format_size(first), format_size(last), current));
  };
  for (const auto& r : results) {
    if (r.type != results.front().type || r.op != results.front().op) continue;
    if (r.algorithm == current) {
      last = r.bytes;
      continue;
    }
    close();
    current = r.algorithm;
    first = last = r.bytes;
  }
  close();
  return fmt::format("{}", fmt::join(spans, ", "));
}

void print_algorithms(std::ostream& out, const std::vector<SizeResult>& results) {
  if (results.empty() || results.front().algorithm.empty()) return;
  fmt::print(out, "# algorithm per size: {}\n", algorithms_by_size(results));
  out.flush();
}

void print_line_rate(std::ostream& out, const std::vector<SizeResult>& results, double line_rate_gbps) {
  if (line_rate_gbps <= 0 || results.empty()) return;
  const double bound = line_rate_gbps / 8;  // GB/s
  double peak = 0;
  for (const auto& r : results) peak = std::max({peak, r.out_of_place.busbw_gbps, r.in_place.busbw_gbps});
  fmt::print(out, "# busbw / line rate    : peak {:.4f} GB/s = {:.1f} %, average {:.1f} % of {:.2f} GB/s\n#\n", peak,
             100 * peak / bound, 100 * average_busbw(results) / bound, bound);
  out.flush();
}

void print_rails(std::ostream& out, const std::vector<RankRails>& ranks) {
  for (const auto& rr : ranks)
    for (const auto& rail : rr.rails)
      fmt::print(out, "# rank {:2} rail {:>10}: sent {:>14} B  received {:>14} B\n", rr.rank, rail.rail, rail.bytes_sent,
                 rail.bytes_received);
}

void print_iterations(std::ostream& out, const std::vector<SizeResult>& results) {
  if (results.empty() || results.front().out_of_place.iteration_us.empty()) return;
  fmt::print(out, "# per-iteration time (us), each iteration's slowest rank: {} iterations per size and placement\n",
             results.front().out_of_place.iteration_us.size());
  fmt::print(out, "# {:>10}  {:>8}  {:>6}  {:>12}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}\n", "size", "type", "redop",
             "placement", "min", "p50", "p90", "p99", "max");
  for (const auto& r : results)
    for (int ip = 0; ip < 2; ++ip) {
      const IterationStats s = iteration_stats(ip ? r.in_place.iteration_us : r.out_of_place.iteration_us);
      fmt::print(out, "# {:>10}  {:>8}  {:>6}  {:>12}  {:9.2f}  {:9.2f}  {:9.2f}  {:9.2f}  {:9.2f}\n", r.bytes,
                 dtype_name(r.type), redop_column(r), ip ? "in-place" : "out-of-place", s.min_us, s.p50_us, s.p90_us,
                 s.p99_us, s.max_us);
    }
  fmt::print(out, "#\n");
  out.flush();
}

namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

// Sizes both engines measured with the same type and op, in a's order.
template <typename Visit>
void for_each_pair(const EngineReport& a, const EngineReport& b, Visit visit) {
  for (const auto& ra : a.results)
    for (const auto& rb : b.results)
      if (ra.bytes == rb.bytes && ra.type == rb.type && ra.op == rb.op) visit(ra, rb);
}

nlohmann::json engine_json(const EngineReport& report) {
  const RunDescription& run = report.run;
  const BenchOptions& o = *run.options;
  nlohmann::json j;
  j["tool"] = "sxcoll bench";
  j["collective"] = run.collective;
  j["engine"] = run.engine;
  j["engine_detail"] = run.engine_detail;
  j["memory"] = run.memory;
  if (!run.data_path.empty()) j["data_path"] = run.data_path;
  if (!run.routes.empty()) j["routes"] = run.routes;
  if (!run.cost_model.empty()) j["cost_model"] = run.cost_model;
  if (!run.devices.empty()) j["devices"] = run.devices;
  j["launcher"] = run.launcher;
  j["ranks"] = run.hostnames.size();
  j["hosts"] = run.hostnames;
  j["iters"] = o.iters;
  j["warmup_iters"] = o.warmup_iters;
  j["check"] = o.check ? nlohmann::json(run.check_rule) : nlohmann::json(nullptr);
  j["avg_busbw_gbps"] = average_busbw(report.results);
  if (run.line_rate_gbps > 0) {
    j["line_rate_gbps"] = run.line_rate_gbps;
    j["links"] = run.links;
  }
  auto& rows = j["results"] = nlohmann::json::array();
  for (const auto& r : report.results)
    rows.push_back({{"size_bytes", r.bytes},
                    {"count", r.count},
                    {"type", dtype_name(r.type)},
                    {"redop", redop_column(r)},
                    {"root", r.root},
                    {"algorithm", r.algorithm},
                    {"out_of_place", placement_json(r.out_of_place, o.check)},
                    {"in_place", placement_json(r.in_place, o.check)}});
  auto& rail_rows = j["rails"] = nlohmann::json::array();
  for (const auto& rr : report.rails)
    for (const auto& rail : rr.rails)
      rail_rows.push_back({{"rank", rr.rank}, {"rail", rail.rail}, {"bytes_sent", rail.bytes_sent},
                           {"bytes_received", rail.bytes_received}});
  return j;
}

}  // namespace

void print_comparison(std::ostream& out, const EngineReport& a, const EngineReport& b) {
  const std::string& x = a.run.engine;
  const std::string& y = b.run.engine;
  fmt::print(out, "# {}: {} against {}, same buffers, same run: busbw (GB/s) and the ratio {}/{}\n", a.run.collective,
             x, y, x, y);
  fmt::print(out, "# {:>10}  {:>8}  {:>6}  {:>8}  {:>8}  {:>6}  {:>8}  {:>8}  {:>6}\n", "", "", "", "out-of-place", "", "",
             "in-place", "", "");
  fmt::print(out, "# {:>10}  {:>8}  {:>6}  {:>8}  {:>8}  {:>6}  {:>8}  {:>8}  {:>6}\n", "size (B)", "type", "redop", x, y,
             "ratio", x, y, "ratio");
  for_each_pair(a, b, [&](const SizeResult& ra, const SizeResult& rb) {
    fmt::print(out, "{:>12}  {:>8}  {:>6}  {:8.2f}  {:8.2f}  {:6.2f}  {:8.2f}  {:8.2f}  {:6.2f}\n", ra.bytes,
               dtype_name(ra.type), redop_column(ra), ra.out_of_place.busbw_gbps, rb.out_of_place.busbw_gbps,
               ratio(ra.out_of_place.busbw_gbps, rb.out_of_place.busbw_gbps), ra.in_place.busbw_gbps,
               rb.in_place.busbw_gbps, ratio(ra.in_place.busbw_gbps, rb.in_place.busbw_gbps));
  });
  fmt::print(out, "#\n");
  out.flush();
}

void write_json(const std::string& path, const std::vector<EngineReport>& reports) {
  nlohmann::json j;
  if (reports.size() == 1) {
    j = engine_json(reports[0]);
  } else {
    j["tool"] = "sxcoll bench";
    auto& engines = j["engines"] = nlohmann::json::array();
    for (const auto& r : reports) engines.push_back(engine_json(r));
    auto& rows = j["comparison"] = nlohmann::json::array();
    // Each collective's sxcoll report against its NCCL report, where both ran.
    for (const auto& a : reports)
      for (const auto& b : reports) {
        if (a.run.collective != b.run.collective || a.run.engine == b.run.engine || a.run.engine != reports[0].run.engine)
          continue;
        const std::string key = a.run.engine + "_over_" + b.run.engine;
        for_each_pair(a, b, [&](const SizeResult& ra, const SizeResult& rb) {
          rows.push_back({{"collective", a.run.collective},
                          {"size_bytes", ra.bytes},
                          {"type", dtype_name(ra.type)},
                          {"redop", redop_column(ra)},
                          {"out_of_place_" + key, ratio(ra.out_of_place.busbw_gbps, rb.out_of_place.busbw_gbps)},
                          {"in_place_" + key, ratio(ra.in_place.busbw_gbps, rb.in_place.busbw_gbps)}});
        });
      }
  }
  auto out = open_new(path);
  out << j.dump(2) << '\n';
}

void write_csv(const std::string& path, const std::vector<EngineReport>& reports) {
  auto out = open_new(path);
  out << "engine,collective,ranks,size_bytes,count,type,redop,algorithm,placement,time_us,algbw_gbps,busbw_gbps,wrong\n";
  for (const auto& report : reports) {
    const RunDescription& run = report.run;
    for (const auto& r : report.results) {
      for (int ip = 0; ip < 2; ++ip) {
        const PlacementResult& p = ip ? r.in_place : r.out_of_place;
        fmt::print(out, "{},{},{},{},{},{},{},{},{},{:.3f},{:.6f},{:.6f},{}\n", run.engine, run.collective,
                   run.hostnames.size(), r.bytes, r.count, dtype_name(r.type), redop_column(r), r.algorithm,
                   ip ? "in_place" : "out_of_place", p.time_us, p.algbw_gbps, p.busbw_gbps,
                   run.options->check ? std::to_string(p.wrong) : std::string());
      }
    }
  }
}

}  // namespace sxcoll::bench
