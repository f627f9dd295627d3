#include "tuner/trial_runner.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "bench/size_parse.h"

namespace sxcoll::tune {

namespace {

bool is_open_mpi_launcher(const std::vector<std::string>& launch) {
  if (launch.empty()) return false;
  const std::string name = std::filesystem::path(launch.front()).filename().string();
  return name == "mpirun" || name == "mpiexec" || name == "orterun";
}

}  // namespace

ChildSpec trial_spec(const TrialPlan& plan, const Settings& settings, size_t min_bytes, size_t max_bytes,
                     const std::string& json_path) {
  ChildSpec spec;
  std::vector<std::string> bench = {plan.exe, "bench",
                                    "--json", json_path,
                                    "-b",     std::to_string(min_bytes),
                                    "-e",     std::to_string(max_bytes),
                                    "-f",     "2",
                                    "-n",     std::to_string(plan.iters),
                                    "-w",     std::to_string(plan.warmup),
                                    "-c",     std::to_string(plan.check),
                                    "-d",     plan.dtype,
                                    "-o",     "sum"};
  if (plan.launch.empty()) {
    bench.push_back("--np");
    bench.push_back(std::to_string(plan.np));
  }
  if (plan.engine == Engine::Sxcoll) {
    bench.push_back("--transport");
    bench.push_back(plan.transport);
    // The knobs' SXCOLL_* variables (what a sourced nccl_env.sh sets) would stand in for
    // flags not given: a default must be bench's own.
    for (const auto& knob : plan.knobs)
      for (const auto& var : knob.env) spec.unset_env.push_back(var);
    // Host buffers are bench's default: the flag only when it says something.
    if (plan.memory != "host") {
      bench.push_back("--mem");
      bench.push_back(plan.memory);
    }
    for (const auto& [name, value] : settings) {
      bench.push_back(name);
      bench.push_back(value);
    }
  } else {
    for (const char* w : {"--engine", "nccl", "--mem", "cuda"}) bench.push_back(w);
    spec.set_env = plan.fixed_env;
    for (const auto& knob : plan.knobs) {
      auto it = settings.find(knob.name);
      const std::string value = it == settings.end() ? "" : it->second;
      for (const auto& var : knob.env) {
        if (value.empty())
          spec.unset_env.push_back(var);  // NCCL's default: not inherited from whoever started us
        else
          spec.set_env.emplace_back(var, value);
      }
    }
  }
  spec.argv = plan.launch;
  // Open MPI passes only the variables named with -x to remote ranks.
  if (is_open_mpi_launcher(plan.launch))
    for (const auto& [name, value] : spec.set_env) spec.argv.insert(spec.argv.begin() + 1, {"-x", name});
  spec.argv.insert(spec.argv.end(), bench.begin(), bench.end());
  return spec;
}

BenchResults parse_bench_json(const nlohmann::json& j) {
  BenchResults r;
  r.engine = j.at("engine").get<std::string>();
  r.engine_detail = j.value("engine_detail", "");
  r.ranks = j.at("ranks").get<int>();
  if (j.contains("links") && j["links"].is_array()) r.rails = static_cast<int>(j["links"].size());
  for (const auto& row : j.at("results")) {
    const auto& oop = row.at("out_of_place");
    const auto& ip = row.at("in_place");
    SizeSample s;
    s.bytes = row.at("size_bytes").get<size_t>();
    s.busbw_gbps = (oop.at("busbw_gbps").get<double>() + ip.at("busbw_gbps").get<double>()) / 2;
    s.time_us = (oop.at("time_us").get<double>() + ip.at("time_us").get<double>()) / 2;
    s.algorithm = row.value("algorithm", "");
    r.sizes.push_back(s);
  }
  return r;
}

TrialResult run_trial(const TrialPlan& plan, const Settings& settings, size_t min_bytes, size_t max_bytes,
                      const std::string& raw_prefix, std::chrono::milliseconds limit, bool limit_is_budget,
                      const std::function<bool()>& stop) {
  const std::string json_path = raw_prefix + ".json";
  std::filesystem::remove(json_path);  // bench never overwrites; a leftover of a killed trial goes
  ChildSpec spec = trial_spec(plan, settings, min_bytes, max_bytes, json_path);
  spec.stdout_path = raw_prefix + ".out";
  spec.stderr_path = raw_prefix + ".err";
  TrialResult r;
  r.command = shell_line(spec);
  const ChildOutcome c = run_child(spec, limit, stop);
  r.seconds = c.seconds;
  const std::string last = last_line(spec.stderr_path);
  if (c.stopped) {
    r.status = "stopped";
    return r;
  }
  if (c.timed_out) {
    r.status = limit_is_budget ? "cut" : "timeout";
    r.error = fmt::format("no result within {:.3g} s, killed{}", limit.count() / 1000.0,
                          last.empty() ? "" : "; last line: " + last);
    return r;
  }
  if (c.exit_code != 0) {
    r.status = "failed";
    r.error = !last.empty()   ? last
              : c.signal != 0 ? fmt::format("killed by signal {} ({})", c.signal, strsignal(c.signal))
                              : fmt::format("exit code {}", c.exit_code);
    return r;
  }
  std::ifstream in(json_path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    auto j = nlohmann::json::parse(ss.str());
    r.bench = parse_bench_json(j);
    const std::string expected(engine_name(plan.engine));
    if (r.bench.engine.rfind(expected, 0) != 0)
      throw std::runtime_error(fmt::format("it ran engine \"{}\", not {}", r.bench.engine, expected));
    if (r.bench.sizes.empty()) throw std::runtime_error("no results");
  } catch (const std::exception& e) {
    r.status = "failed";
    r.error = fmt::format("bench exited 0 but its JSON {} is unusable: {}", json_path, e.what());
    return r;
  }
  r.status = "ok";
  return r;
}

}  // namespace sxcoll::tune
