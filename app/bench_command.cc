#include "app/bench_command.h"

#include <charconv>
#include <cstdlib>

#include <fmt/core.h>

#include "bench/duration_parse.h"
#include "bench/harness.h"
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
  auto algo = parse_algorithm(c.algorithm);
  if (!algo) throw UsageError(fmt::format("--algo '{}': expected ring, tree, rd, ring_topo, hier or auto", c.algorithm));
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
  o.transport.intra = c.intra;
  o.transport.memory = o.comm.memory;
  o.transport.sockets_per_peer = parse_int(c.nsocks, "--nsocks");
  o.transport.tcp_io = c.tcp_io;
  o.transport.hca = c.hca;
  o.transport.qps = parse_int(c.qps, "--qps");
  o.transport.traffic_class = parse_int(c.tc, "--tc");
  o.transport.service_level = c.sl;
  o.transport.gid_index = c.gid_index;
  o.transport.ib_timeout = c.ib_timeout;
  o.transport.ib_retry_count = c.ib_retry_cnt;
  o.comm.channels = parse_int(c.channels, "--channels");
  o.comm.buffsize = bench::parse_size(c.buffsize, "--buffsize");
  o.comm.timeout = bench::parse_duration(c.timeout, "--timeout");
  o.np = c.np;
  o.json_path = c.json;
  o.csv_path = c.csv;
  bench::validate(o);
  return o;
}

// Fills each SXCOLL_* setting whose flag was not given from the environment. A bad value
// is then reported under the variable's name too, since that is what the user must fix.
bench::BenchOptions resolve_and_convert(BenchCommand& c) {
  struct FromEnv {
    std::string flag, setting;
  };
  std::vector<FromEnv> from_env;
  for (const auto& knob : c.env_knobs) {
    const char* value = std::getenv(knob.env.c_str());
    if (knob.option->count() > 0 || value == nullptr || *value == '\0') continue;
    c.*knob.value = value;
    from_env.push_back({knob.option->get_name(), fmt::format("{}={}", knob.env, value)});
  }
  try {
    return to_options(c);
  } catch (const UsageError& e) {
    const std::string_view what = e.what();  // "--nsocks 0: must be 1..64"
    for (const auto& knob : from_env)
      if (what.starts_with(knob.flag + " "))
        throw UsageError(fmt::format("{} (set by {}){}", knob.flag, knob.setting, what.substr(knob.flag.size())));
    throw;
  }
}

void add_env_knob(BenchCommand& b, CLI::Option* option, std::string BenchCommand::*value, std::string env) {
  option->capture_default_str()->description(
      fmt::format("{} (else ${} where set)", option->get_description(), env));
  b.env_knobs.push_back({option, value, std::move(env)});
}

}  // namespace

void add_bench_command(CLI::App& app, BenchCommand& b) {
  auto* cmd = app.add_subcommand("bench", "Allreduce bandwidth and correctness sweep (nccl-tests' all_reduce_perf flags)");
  b.command = cmd;
  cmd->add_option("-b,--minbytes", b.min_bytes, "Smallest size, bytes with optional K/M/G suffix")->capture_default_str();
  cmd->add_option("-e,--maxbytes", b.max_bytes, "Largest size (up to 32G and beyond)")->capture_default_str();
  cmd->add_option("-f,--stepfactor", b.step_factor, "Multiply the size by this each step")->capture_default_str();
  cmd->add_option("-i,--stepbytes", b.step_bytes, "Add this to the size each step (overrides -f)")->capture_default_str();
  cmd->add_option("-n,--iters", b.iters, "Timed iterations per size")->capture_default_str();
  cmd->add_option("-w,--warmup_iters", b.warmup, "Warm-up iterations (at the largest size)")->capture_default_str();
  cmd->add_option("-c,--check", b.check, "Check results (0/1)")->capture_default_str();
  cmd->add_option("-a,--average", b.aggregate, "Time reported: 0 rank 0, 1 average, 2 min, 3 max over ranks")->capture_default_str();
  cmd->add_option("-d,--datatype", b.dtypes, "int8,uint8,int32,int64,half,bfloat16,float,double or all")->capture_default_str();
  cmd->add_option("-o,--op", b.ops, "sum,prod,min,max,avg or all")->capture_default_str();
  add_env_knob(b, cmd->add_option("--algo", b.algorithm, "ring, tree, rd (recursive doubling, 2^k ranks), ring_topo (ring "
                                                         "host by host), hier (within hosts, then across; equal ranks "
                                                         "per host) or auto (cost model per size)"),
               &BenchCommand::algorithm, "SXCOLL_ALGO");
  cmd->add_option("--engine", b.engine, "sxcoll, nccl (loaded at run time: SXCOLL_NCCL_LIBRARY or NCCL_HOME) or both "
                                        "(both tables and the ratio sxcoll/NCCL per size)")->capture_default_str();
  cmd->add_option("--mem", b.memory, "Buffers in host memory or on the GPU of each local rank (cuda: GPU i for local "
                                     "rank i)")->capture_default_str();
  cmd->add_option("--transport", b.transport, "Transport between hosts (tcp, verbs)")->capture_default_str();
  cmd->add_option("--intra", b.intra, "Transport between ranks of one host: shm (host buffers), cuda_ipc (GPU "
                                      "buffers), net (the --transport backend) or auto (shm or cuda_ipc by --mem)")
      ->capture_default_str();
  add_env_knob(b, cmd->add_option("--nsocks", b.nsocks, "TCP sockets per peer, data striped over them")->type_name("INT"),
               &BenchCommand::nsocks, "SXCOLL_NSOCKS");
  add_env_knob(b, cmd->add_option("--tcp-io", b.tcp_io, "tcp: threads (a sender and a receiver thread per socket), "
                                                        "inline (all I/O on the rank's own thread) or auto (threads "
                                                        "where each local rank has 4 cores or more)"),
               &BenchCommand::tcp_io, "SXCOLL_TCP_IO");
  cmd->add_option("--hca", b.hca, "verbs: ports to use, NCCL_IB_HCA syntax (mlx5_0:1,mlx5_1:1; =exact; ^exclude); "
                                  "default every active RoCE port");
  add_env_knob(b, cmd->add_option("--qps", b.qps, "verbs: QPs per connection and rail; large writes are split over "
                                                  "them (NCCL_IB_QPS_PER_CONNECTION)")->type_name("INT"),
               &BenchCommand::qps, "SXCOLL_QPS");
  add_env_knob(b, cmd->add_option("--tc", b.tc, "verbs: GRH traffic class of every QP (NCCL_IB_TC)")->type_name("INT"),
               &BenchCommand::tc, "SXCOLL_TC");
  cmd->add_option("--sl", b.sl, "verbs: service level (NCCL_IB_SL)")->capture_default_str();
  cmd->add_option("--gid-index", b.gid_index, "verbs: GID index; -1 picks the RoCE v2 GID of the port's IPv4 "
                                              "address (NCCL_IB_GID_INDEX)")->capture_default_str();
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
  add_env_knob(b, cmd->add_option("--channels", b.channels, "Pipelines in flight (NCCL channels)")->type_name("INT"),
               &BenchCommand::channels, "SXCOLL_CHANNELS");
  add_env_knob(b, cmd->add_option("--buffsize", b.buffsize, "Receive buffer per link and channel (NCCL_BUFFSIZE)"),
               &BenchCommand::buffsize, "SXCOLL_BUFFSIZE");
  cmd->add_option("--timeout", b.timeout, "Give up after no progress for this long (30s, 500ms, 2m)")->capture_default_str();
  b.np_option = cmd->add_option("--np", b.np, "Fork this many local ranks (when no launcher started us)");
  cmd->add_option("--json", b.json, "Write results as JSON to this new file");
  cmd->add_option("--csv", b.csv, "Write results as CSV to this new file");
}

int BenchCommand::run() {
  bench::BenchOptions options = resolve_and_convert(*this);
  bench::P2pOptions p2p_options;
  p2p_options.threshold = p2p_threshold;
  if (p2p) bench::validate(p2p_options);
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
    return run_rank(*launch);
  }
  if (np_option->count() > 0 && options.np < 1)
    throw UsageError(fmt::format("--np {}: the number of ranks must be at least 1", options.np));
  const int nranks = options.np > 0 ? options.np : 1;
  if (nranks > 1024) throw UsageError(fmt::format("--np {}: more than 1024 local ranks", nranks));
  check_algorithm(options.algorithm, nranks);
  // Ranks report a failure within the timeout; the launcher waits that long again for stragglers.
  auto grace = options.comm.timeout + std::chrono::seconds(10);
  return bootstrap::launch_local(nranks, run_rank, grace);
}

}  // namespace sxcoll::app
