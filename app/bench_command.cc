#include "app/bench_command.h"

#include <charconv>
#include <cstdlib>

#include <fmt/core.h>
#include <fmt/format.h>

#include "bench/duration_parse.h"
#include "bench/harness.h"
#include "bench/knob_table.h"
#include "bench/options.h"
#include "bench/p2p.h"
#include "bench/size_parse.h"
#include "bench/validate.h"
#include "collectives/gpu.h"
#include "transport/bootstrap/launch_env.h"
#include "transport/bootstrap/local_launcher.h"
#include "transport/error.h"
#include "transport/split.h"

namespace sxcoll::app {

namespace {

template <typename T, typename Parse, typename All>
std::vector<T> parse_list(const std::string& text, std::string_view flag, Parse parse, const All& all,
                          std::string_view choices) {
  if (text == "all") return std::vector<T>(all.begin(), all.end());
  std::vector<T> out;
  for (std::string_view item : split_list(text)) {
    auto value = parse(std::string(item));
    if (!value) throw UsageError(fmt::format("{} '{}': unknown (choose from {}, or all)", flag, item, choices));
    out.push_back(*value);
  }
  return out;
}

size_t parse_count(const std::string& text, std::string_view flag) { return bench::parse_size(text, flag); }

int parse_int(const std::string& text, std::string_view flag) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw UsageError(fmt::format("{} '{}': expected a whole number", flag, text));
  return value;
}

bench::BenchOptions to_options(const BenchCommand& c) {
  bench::BenchOptions o;
  o.min_bytes = bench::parse_size(c.min_bytes, "-b");
  o.max_bytes = bench::parse_size(c.max_bytes, "-e");
  o.step_factor = parse_count(c.step_factor, "-f");
  o.step_bytes = bench::parse_size(c.step_bytes, "-i");
  o.iters = c.iters;
  o.warmup_iters = c.warmup;
  if (c.check != 0 && c.check != 1) throw UsageError(fmt::format("-c {}: expected 0 or 1", c.check));
  o.check = c.check == 1;
  if (c.aggregate < 0 || c.aggregate > 3) throw UsageError(fmt::format("-a {}: expected 0 (rank 0), 1 (avg), 2 (min) or 3 (max)", c.aggregate));
  o.aggregate = static_cast<bench::TimeAggregate>(c.aggregate);
  o.types = parse_list<DataType>(c.dtypes, "-d", parse_dtype, kAllDataTypes,
                                 "int8, uint8, int32, int64, half, bfloat16, float, double");
  o.ops = parse_list<RedOp>(c.ops, "-o", parse_redop, kAllRedOps, "sum, prod, min, max, avg");
  o.collectives = parse_list<Collective>(c.collectives, "--coll", parse_collective, kAllCollectives,
                                         "allreduce, allgather, reduce_scatter, broadcast, reduce, alltoall, sendrecv");
  o.root = c.root;
  auto algo = parse_algorithm(c.knob("--algo"));
  if (!algo)
    throw UsageError(fmt::format("--algo '{}': expected ring, tree, rd, ring_topo, hier or auto", c.knob("--algo")));
  o.algorithm = *algo;
  if (c.engine == "sxcoll")
    o.engine = bench::EngineChoice::Sxcoll;
  else if (c.engine == "nccl")
    o.engine = bench::EngineChoice::Nccl;
  else if (c.engine == "both")
    o.engine = bench::EngineChoice::Both;
  else
    throw UsageError(fmt::format("--engine '{}': expected sxcoll, nccl or both", c.engine));
  if (c.memory == "host")
    o.comm.memory = transport::MemoryKind::Host;
  else if (c.memory == "cuda")
    o.comm.memory = transport::MemoryKind::Cuda;
  else
    throw UsageError(fmt::format("--mem '{}': expected host or cuda", c.memory));
  o.transport.name = c.transport;
  o.transport.intra = c.knob("--intra");
  o.transport.cuda_ipc = c.knob("--cuda-ipc");
  o.transport.memory = o.comm.memory;
  o.transport.sockets_per_peer = parse_int(c.knob("--nsocks"), "--nsocks");
  o.transport.tcp_io = c.knob("--tcp-io");
  o.transport.hca = c.knob("--hca");
  o.transport.rails = c.knob("--rails");
  o.transport.qps = parse_int(c.knob("--qps"), "--qps");
  o.transport.traffic_class = parse_int(c.knob("--tc"), "--tc");
  o.transport.service_level = c.sl;
  o.transport.gid_index = parse_int(c.knob("--gid-index"), "--gid-index");
  o.transport.ib_timeout = c.ib_timeout;
  o.transport.ib_retry_count = c.ib_retry_cnt;
  o.comm.channels = parse_int(c.knob("--channels"), "--channels");
  o.comm.buffsize = bench::parse_size(c.knob("--buffsize"), "--buffsize");
  o.comm.timeout = bench::parse_duration(c.timeout, "--timeout");
  o.np = c.np;
  if (c.per_iteration != 0 && c.per_iteration != 1)
    throw UsageError(fmt::format("-I {}: expected 0 or 1", c.per_iteration));
  o.per_iteration = c.per_iteration == 1;
  o.json_path = c.json;
  o.nccl_json_path = c.nccl_json;
  o.csv_path = c.csv;
  bench::validate(o);
  return o;
}

// Resolves each knob whose flag was not given from the environment (bench/knob_table.h).
// A bad value is then reported under the variable's name too, since that is what the user
// must fix.
bench::BenchOptions resolve_and_convert(BenchCommand& c) {
  const bool verbs = c.transport == "verbs";
  std::vector<std::pair<const bench::EngineKnob*, bench::KnobSetting>> settings;
  for (const auto& knob : bench::engine_knobs()) {
    const std::string flag(knob.flag);
    const std::string* given = c.knob_options.at(flag)->count() > 0 ? &c.knob(flag) : nullptr;
    auto setting = bench::resolve_knob(knob, given, verbs, [](const char* name) { return std::getenv(name); });
    c.knob_text[flag] = setting.value;
    settings.emplace_back(&knob, std::move(setting));
  }
  try {
    bench::BenchOptions o = to_options(c);
    o.knob_settings = bench::describe_settings(settings);
    return o;
  } catch (const UsageError& e) {
    const std::string_view what = e.what();  // "--nsocks 0: must be 1..64"
    for (const auto& [knob, setting] : settings) {
      const std::string flag(knob->flag);
      if (!setting.variable().empty() && what.starts_with(flag + " "))
        throw UsageError(fmt::format("{} (set by {}){}", flag, setting.source, what.substr(flag.size())));
    }
    throw;
  }
}

// Known before any rank starts where the world size is: one line, not one per rank.
void check_root(const bench::BenchOptions& o, int nranks) {
  if (o.root >= nranks)
    throw UsageError(fmt::format("-r {}: the root is a rank, and this run has {} (0..{})", o.root, nranks, nranks - 1));
}

void add_knob_flags(CLI::App& cmd, BenchCommand& b) {
  for (const auto& knob : bench::engine_knobs()) {
    const std::string flag(knob.flag);
    std::string help(knob.help);
    std::vector<std::string> vars;
    if (!knob.sxcoll_env.empty()) vars.push_back("$" + std::string(knob.sxcoll_env));
    if (!knob.nccl_env.empty()) vars.push_back("$" + std::string(knob.nccl_env) + " (verbs)");
    if (!vars.empty()) help += fmt::format(" (else {} where set)", fmt::join(vars, ", then "));
    b.knob_text[flag] = std::string(knob.default_value);
    auto* option = cmd.add_option(flag, b.knob_text[flag], help);
    if (!knob.default_value.empty()) option->capture_default_str();
    if (knob.kind == bench::KnobKind::Integer) option->type_name("INT");
    b.knob_options[flag] = option;
  }
}

}  // namespace

void add_bench_command(CLI::App& app, BenchCommand& b) {
  auto* cmd = app.add_subcommand("bench", "Collective bandwidth and correctness sweep (nccl-tests' *_perf flags)");
  b.command = cmd;
  cmd->add_option("-b,--minbytes", b.min_bytes, "Smallest size, bytes with optional K/M/G suffix")->capture_default_str();
  cmd->add_option("-e,--maxbytes", b.max_bytes, "Largest size (up to 32G and beyond)")->capture_default_str();
  cmd->add_option("-f,--stepfactor", b.step_factor, "Multiply the size by this each step")->capture_default_str();
  cmd->add_option("-i,--stepbytes", b.step_bytes, "Add this to the size each step (overrides -f)")->capture_default_str();
  cmd->add_option("-n,--iters", b.iters, "Timed iterations per size")->capture_default_str();
  cmd->add_option("-w,--warmup_iters", b.warmup, "Warm-up iterations (at the largest size)")->capture_default_str();
  cmd->add_option("-c,--check", b.check, "Check results (0/1)")->capture_default_str();
  cmd->add_option("-a,--average", b.aggregate, "Time reported: 0 rank 0, 1 average, 2 min, 3 max over ranks")->capture_default_str();
  cmd->add_option("--coll", b.collectives, "allreduce,allgather,reduce_scatter,broadcast,reduce,alltoall,sendrecv "
                                          "or all: the collectives to run, one table each (nccl-tests' *_perf)")
      ->capture_default_str();
  cmd->add_option("-r,--root", b.root, "Root rank of broadcast and reduce")->capture_default_str();
  cmd->add_option("-d,--datatype", b.dtypes, "int8,uint8,int32,int64,half,bfloat16,float,double or all")->capture_default_str();
  cmd->add_option("-o,--op", b.ops, "sum,prod,min,max,avg or all")->capture_default_str();
  add_knob_flags(*cmd, b);
  cmd->add_option("--engine", b.engine, "sxcoll, nccl (loaded at run time: SXCOLL_NCCL_LIBRARY or NCCL_HOME) or both "
                                        "(both tables and the ratio sxcoll/NCCL per size)")->capture_default_str();
  cmd->add_option("--mem", b.memory, "Buffers in host memory or on the GPU of each local rank (cuda: GPU i for local "
                                     "rank i)")->capture_default_str();
  cmd->add_option("--transport", b.transport, "Transport between hosts (tcp, verbs)")->capture_default_str();
  cmd->add_option("--sl", b.sl, "verbs: service level (NCCL_IB_SL)")->capture_default_str();
  cmd->add_option("--ib-timeout", b.ib_timeout, "verbs: ACK timeout, 4.096 us x 2^N (NCCL_IB_TIMEOUT)")->capture_default_str();
  cmd->add_option("--ib-retry-cnt", b.ib_retry_cnt, "verbs: retransmissions before a peer counts as lost "
                                                    "(NCCL_IB_RETRY_CNT)")->capture_default_str();
  cmd->add_flag("--p2p", b.p2p, "Per-link check instead of allreduce: write bandwidth (one way and both ways) and "
                                "latency between every pair of ranks on every rail, sizes -b..-e");
  cmd->add_option("--p2p-threshold", b.p2p_threshold, "--p2p: flag links below this fraction of the median")
      ->capture_default_str();
  cmd->add_flag("--validate", b.validate, "Cluster validation: each node's own checks, every link in round-robin "
                                          "rounds at -e bytes, the all-ranks allreduce, then a verdict per node "
                                          "and link; exit 1 when a node fails");
  cmd->add_option("--validate-threshold", b.validate_threshold, "--validate: a node or link this far below the "
                                                                "robust baseline fails (percent)")
      ->capture_default_str();
  cmd->add_option("--out", b.out, "--validate: folder for state.json; a rerun with the same folder skips the "
                                  "finished steps");
  cmd->add_option("--hosts-out", b.hosts_out, "--validate: write hosts.json (sxcoll sft --hosts) with failed nodes "
                                              "excluded, to this new file");
  cmd->add_option("--timeout", b.timeout, "Give up after no progress for this long (30s, 500ms, 2m)")->capture_default_str();
  b.np_option = cmd->add_option("--np", b.np, "Fork this many local ranks (when no launcher started us)");
  cmd->add_option("--json", b.json, "Write results as JSON to this new file");
  cmd->add_option("--csv", b.csv, "Write results as CSV to this new file");
  cmd->add_option("-J,--output_file", b.nccl_json, "Write results in nccl-tests' own JSON schema to this new file");
  cmd->add_option("-I,--per_iter_timing", b.per_iteration, "1: time each iteration on its own; p50/p90/p99/max per "
                                                         "size after the table, and in the JSON files")
      ->capture_default_str();
}

int BenchCommand::run() {
  bench::BenchOptions options = resolve_and_convert(*this);
  bench::P2pOptions p2p_options;
  p2p_options.threshold = p2p_threshold;
  if (p2p) bench::validate(p2p_options);
  if ((p2p || validate) && (command->count("--coll") > 0 || command->count("-r") > 0))
    throw UsageError(fmt::format("--coll and -r choose the collectives of the sweep: {} takes neither",
                                 p2p ? "--p2p" : "--validate"));
  if (p2p && (options.comm.memory != transport::MemoryKind::Host || options.engine != bench::EngineChoice::Sxcoll))
    throw UsageError("--p2p measures the transport between host buffers: it takes neither --mem cuda nor --engine");
  bench::ValidateOptions validate_options;
  validate_options.out_dir = out;
  validate_options.hosts_out = hosts_out;
  if (!validate && (command->count("--validate-threshold") > 0 || !out.empty() || !hosts_out.empty()))
    throw UsageError("--validate-threshold, --out and --hosts-out belong to --validate");
  if (validate) {
    if (p2p) throw UsageError("--validate and --p2p are two modes: choose one (--validate measures every link too)");
    if (options.comm.memory != transport::MemoryKind::Host || options.engine != bench::EngineChoice::Sxcoll)
      throw UsageError("--validate measures links and the allreduce with host buffers: it takes neither --mem cuda "
                       "nor --engine (the GPU checks run by themselves)");
    validate_options.threshold = bench::parse_percent(validate_threshold, "--validate-threshold");
    bench::validate(validate_options);
  }
  auto run_rank = [&](const bootstrap::LaunchInfo& info) {
    if (validate) return bench::run_validate_rank(options, validate_options, info);
    return p2p ? bench::run_p2p_rank(options, p2p_options, info) : bench::run_bench_rank(options, info);
  };
  if (options.comm.memory == transport::MemoryKind::Cuda && gpu::probe_device_count() == 0)
    throw UsageError(gpu::built_with_cuda() ? "--mem cuda: no CUDA device on this host"
                                            : "--mem cuda: this sxcoll was built without CUDA");
  auto launch = bootstrap::detect_launch(bootstrap::process_env());
  if (launch) {
    if (options.np != 0 && options.np != launch->size)
      throw UsageError(fmt::format("--np {} conflicts with {}'s world size {}", options.np, launch->launcher, launch->size));
    check_algorithm(options.algorithm, launch->size);
    check_root(options, launch->size);
    return run_rank(*launch);
  }
  if (np_option->count() > 0 && options.np < 1)
    throw UsageError(fmt::format("--np {}: the number of ranks must be at least 1", options.np));
  const int nranks = options.np > 0 ? options.np : 1;
  if (nranks > 1024) throw UsageError(fmt::format("--np {}: more than 1024 local ranks", nranks));
  check_algorithm(options.algorithm, nranks);
  check_root(options, nranks);
  // Ranks report a failure within the timeout; the launcher waits that long again for stragglers.
  auto grace = options.comm.timeout + std::chrono::seconds(10);
  return bootstrap::launch_local(nranks, run_rank, grace);
}

}  // namespace sxcoll::app
