// -J FILE: the JSON file nccl-tests writes with its own -J (src/util.cu of nccl-tests
// 2.17/2.18, JSON_FILE_VERSION 2), key for key, so that tools written for nccl-tests read
// sxcoll's results. Its quirks are kept on purpose: booleans are the strings "true" and
// "false", root is the row's printed field ("    -1"), nwrong a number or null (-c 0).
// Where nccl-tests has no key for what sxcoll knows (the algorithm, the links), sxcoll's
// own --json has it; "env" holds the NCCL_* and SXCOLL_* variables only, not the whole
// environment (which may hold secrets).
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/iteration_stats.h"
#include "bench/report.h"
#include "transport/error.h"

extern char** environ;

namespace sxcoll::bench {

namespace {

constexpr int kNcclTestsJsonVersion = 2;

std::string json_bool(bool b) { return b ? "true" : "false"; }

std::vector<std::string> command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  return args;
}

std::vector<std::string> nccl_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("NCCL_") || v.starts_with("SXCOLL_")) env.emplace_back(v);
  }
  return env;
}

// NCCL_VERSION_CODE of "nccl 2.21.5, transport: ..." (major*10000 + minor*100 + patch);
// 0 for sxcoll's engine.
int nccl_version_code(const RunDescription& run) {
  std::smatch m;
  if (run.engine != "nccl" || !std::regex_search(run.engine_detail, m, std::regex(R"(nccl (\d+)\.(\d+)\.(\d+))")))
    return 0;
  return std::stoi(m[1]) * 10000 + std::stoi(m[2]) * 100 + std::stoi(m[3]);
}

nlohmann::json placement(const PlacementResult& p, bool checked) {
  nlohmann::json j{{"time", p.time_us}, {"alg_bw", p.algbw_gbps}, {"bus_bw", p.busbw_gbps}};
  j["nwrong"] = checked && p.defined ? nlohmann::json(static_cast<double>(p.wrong)) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json per_iteration(const PlacementResult& p) {
  const IterationStats s = iteration_stats(p.iteration_us);
  const double cv = s.avg_us > 0 ? 100 * s.stdev_us / s.avg_us : 0;
  return {{"min_us", s.min_us}, {"max_us", s.max_us},     {"avg_us", s.avg_us}, {"p50_us", s.p50_us},
          {"p95_us", s.p95_us}, {"p99_us", s.p99_us},     {"stdev_us", s.stdev_us},
          {"cv_pct", cv},       {"times_us", p.iteration_us}};
}

}  // namespace

void write_nccl_tests_json(const std::string& path, const EngineReport& report, const std::string& start_time) {
  const RunDescription& run = report.run;
  const BenchOptions& o = *run.options;
  nlohmann::ordered_json j;
  j["version"] = kNcclTestsJsonVersion;
  j["start_time"] = start_time;
  j["args"] = command_line();
  j["env"] = nccl_environment();
  j["nccl_version"] = nccl_version_code(run);
  // nccl-tests names the collective by its program only (args[0], and the "# Collective
  // test starting" line); sxcoll's args are its own, so the program's name has a key.
  if (auto coll = parse_collective(run.collective)) j["collective"] = nccl_tests_program(*coll);
  auto& config = j["config"];
  config["nthreads"] = 1;
  config["ngpus"] = 1;
  config["minimum_bytes"] = o.min_bytes;
  config["maximum_bytes"] = o.max_bytes;
  if (o.step_bytes > 0)
    config["step_bytes"] = o.step_bytes;
  else
    config["step_factor"] = o.step_factor;
  config["warmup_iters"] = o.warmup_iters;
  config["iterations"] = o.iters;
  config["aggregated_iterations"] = 1;
  config["validation"] = o.check ? 1 : 0;
  config["graph"] = 0;
  config["blocking_collectives"] = json_bool(false);
  config["per_iter_timing"] = json_bool(o.per_iteration);
  config["parallel_init"] = json_bool(false);
  auto& devices = config["devices"] = nlohmann::ordered_json::array();
  for (size_t r = 0; r < run.hostnames.size(); ++r)
    devices.push_back({{"rank", r},
                       {"group", 0},
                       {"pid", r < run.pids.size() ? run.pids[r] : 0},
                       {"hostname", run.hostnames[r]},
                       {"device", -1},  // host buffers, or a GPU named in device_info
                       {"device_hex", ""},
                       {"device_info", r < run.devices.size() ? run.devices[r] : "host memory"}});
  auto& rows = j["results"] = nlohmann::ordered_json::array();
  uint64_t wrong = 0;
  for (const auto& r : report.results) {
    nlohmann::ordered_json row;
    row["size"] = r.bytes;
    row["count"] = r.count;
    row["type"] = dtype_name(r.type);
    row["redop"] = redop_column(r);
    row["root"] = fmt::format("{:6}", r.root);
    row["out_of_place"] = placement(r.out_of_place, o.check);
    if (!r.out_of_place.iteration_us.empty()) row["out_of_place_per_iter"] = per_iteration(r.out_of_place);
    row["in_place"] = placement(r.in_place, o.check);
    if (!r.in_place.iteration_us.empty()) row["in_place_per_iter"] = per_iteration(r.in_place);
    row["actual_iterations"] = o.iters;
    row["experiment_name"] = "";
    rows.push_back(row);
    if (o.check) wrong += r.out_of_place.wrong + r.in_place.wrong;
  }
  j["out_of_bounds"] = {{"count", wrong}, {"okay", json_bool(wrong == 0)}};
  j["average_bus_bandwidth"] = {{"bandwidth", average_busbw(report.results)}, {"okay", "unchecked"}};
  j["errors"] = nlohmann::ordered_json::array();
  char now[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  j["end_time"] = now;
  // Exclusive create: an existing file is never overwritten, even one made since the check.
  std::FILE* f = std::fopen(path.c_str(), "wx");
  if (f == nullptr) throw RunError(fmt::format("-J {}: cannot create the file (it exists or is not writable)", path));
  const std::string text = j.dump(2) + "\n";
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw RunError(fmt::format("-J {}: write failed", path));
}

}  // namespace sxcoll::bench
