#include "bench/harness.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <memory>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>

#include "bench/check_values.h"
#include "bench/collective.h"
#include "bench/engine.h"
#include "bench/buffers.h"
#include "bench/report.h"
#include "transport/error.h"
#include "transport/factory.h"

namespace sxcoll::bench {

namespace {

// One rank's measurement of one placement.
struct Local {
  double time_us;
  uint64_t wrong;
  std::vector<double> iteration_us;  // -I 1
};

// "time wrong n t1 .. tn": one placement of one rank, through the bootstrap.
std::string encode(const Local& l) {
  return fmt::format("{} {} {} {}", l.time_us, l.wrong, l.iteration_us.size(), fmt::join(l.iteration_us, " "));
}

Local decode(std::istream& in) {
  Local l{};
  size_t n = 0;
  in >> l.time_us >> l.wrong >> n;
  l.iteration_us.resize(n);
  for (auto& t : l.iteration_us) in >> t;
  return l;
}

class Sweep {
 public:
  Sweep(const BenchOptions& o, bootstrap::Bootstrap& boot, BenchEngine& engine, const CollectiveTest& test,
        BenchBuffers& buffers)
      : o_(o), boot_(boot), engine_(engine), test_(test), buffers_(buffers) {}

  std::vector<SizeResult> run(RunDescription& run) {
    const bool root = boot_.rank() == 0;
    // Warm-up first: NCCL connects at its first collectives, and the header names the
    // transports it chose.
    warm_up();
    run.engine_detail = engine_.describe();
    if (root) print_header(std::cout, run);
    std::vector<SizeResult> results;
    // A collective that does not reduce runs once per type, its op column "none".
    const std::vector<RedOp> ops = test_.reduces ? o_.ops : std::vector<RedOp>{o_.ops.front()};
    for (DataType type : o_.types) {
      for (RedOp op : ops) {
        for (size_t bytes : sweep_sizes(o_)) {
          SizeResult r = measure(bytes, type, op);
          if (root) print_row(std::cout, r, o_.check);
          results.push_back(r);
        }
      }
    }
    return results;
  }

 private:
  CollCounts counts_at(size_t bytes, DataType type) const {
    return test_.counts(bytes / dtype_size(type), dtype_size(type), boot_.size());
  }

  void call(const char* input, char* output, const CollCounts& c, DataType type, RedOp op) {
    test_.run(engine_, input, output, c, type, op, o_.root);
  }

  void warm_up() {
    const CollCounts c = counts_at(o_.max_bytes, o_.types.front());
    for (int i = 0; i < o_.warmup_iters; ++i) call(buffers_.send(), buffers_.recv(), c, o_.types.front(), o_.ops.front());
    engine_.wait();
  }

  Local measure_placement(const CollCounts& c, DataType type, RedOp op, bool in_place) {
    // In place as nccl-tests places it: input and output inside the output buffer.
    const size_t esize = dtype_size(type);
    const auto rank = static_cast<size_t>(boot_.rank());
    char* in = in_place ? buffers_.recv() + c.send_in_place * rank * esize : buffers_.send();
    char* out = buffers_.recv() + (in_place ? c.recv_in_place * rank * esize : 0);
    Local local{};
    if (o_.check && (!in_place || engine_.defines_in_place(test_.collective))) {
      buffers_.poison(buffers_.recv(), std::max(c.send, c.recv) * esize);
      buffers_.fill(test_, in, c, type, op, boot_.rank(), boot_.size(), o_.root);
      call(in, out, c, type, op);
      engine_.wait();
      local.wrong = buffers_.count_errors(test_, out, c, type, op, boot_.rank(), boot_.size(), o_.root);
    }
    boot_.barrier();
    // The bootstrap's barrier lets ranks go up to a wake-up of the store apart (tens of
    // microseconds, more where ranks outnumber cores): one untimed call through the engine
    // under test warms the buffers, then a one-element allreduce through it lines the ranks
    // up, as MPI's own barrier does for MPI's benchmarks. (A broadcast's root would not wait
    // for anyone: its call cannot line them up.)
    call(in, out, c, type, op);
    engine_.allreduce(buffers_.line_up(), buffers_.line_up(), 1, DataType::Float32, RedOp::Sum);
    engine_.wait();
    if (o_.per_iteration) {
      // Each iteration waited for on its own: NCCL's calls no longer overlap, so the table's
      // time (their mean) may be a little higher than without -I.
      double sum = 0;
      for (int i = 0; i < o_.iters; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        call(in, out, c, type, op);
        engine_.wait();
        auto t1 = std::chrono::steady_clock::now();
        local.iteration_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        sum += local.iteration_us.back();
      }
      local.time_us = sum / o_.iters;
      return local;
    }
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o_.iters; ++i) call(in, out, c, type, op);
    engine_.wait();
    auto t1 = std::chrono::steady_clock::now();
    local.time_us = std::chrono::duration<double, std::micro>(t1 - t0).count() / o_.iters;
    return local;
  }

  PlacementResult combine(size_t bytes, const std::vector<Local>& per_rank) const {
    PlacementResult p;
    double sum = 0, lo = per_rank[0].time_us, hi = per_rank[0].time_us;
    for (const auto& l : per_rank) {
      sum += l.time_us;
      lo = std::min(lo, l.time_us);
      hi = std::max(hi, l.time_us);
      p.wrong += l.wrong;
    }
    // An iteration lasts as long as its slowest rank (nccl-tests: max over processes).
    p.iteration_us = per_rank[0].iteration_us;
    for (const auto& l : per_rank)
      for (size_t i = 0; i < std::min(l.iteration_us.size(), p.iteration_us.size()); ++i)
        p.iteration_us[i] = std::max(p.iteration_us[i], l.iteration_us[i]);
    switch (o_.aggregate) {
      case TimeAggregate::Rank0: p.time_us = per_rank[0].time_us; break;
      case TimeAggregate::Average: p.time_us = sum / static_cast<double>(per_rank.size()); break;
      case TimeAggregate::Min: p.time_us = lo; break;
      case TimeAggregate::Max: p.time_us = hi; break;
    }
    p.algbw_gbps = p.time_us > 0 ? static_cast<double>(bytes) / p.time_us / 1e3 : 0;
    p.busbw_gbps = p.algbw_gbps * test_.bus_factor(boot_.size());
    return p;
  }

  SizeResult measure(size_t bytes, DataType type, RedOp op) {
    const CollCounts c = counts_at(bytes, type);
    SizeResult r;
    // nccl-tests' size column: the larger of what a rank sends and receives.
    r.bytes = std::max(c.send, c.recv) * dtype_size(type);
    r.count = c.param;
    r.type = type;
    r.op = op;
    r.reduces = test_.reduces;
    r.root = test_.rooted ? o_.root : -1;
    r.algorithm = engine_.algorithm_for(test_.collective, r.bytes);
    Local oop = measure_placement(c, type, op, false);
    Local ip = measure_placement(c, type, op, true);
    // The numbers meet through the bootstrap, not the engine under test.
    auto all = boot_.allgather(encode(oop) + " " + encode(ip));
    std::vector<Local> oops, ips;
    for (const auto& line : all) {
      std::istringstream in(line);
      oops.push_back(decode(in));
      ips.push_back(decode(in));
    }
    r.out_of_place = combine(r.bytes, oops);
    r.in_place = combine(r.bytes, ips);
    r.in_place.defined = engine_.defines_in_place(test_.collective);
    return r;
  }

  const BenchOptions& o_;
  bootstrap::Bootstrap& boot_;
  BenchEngine& engine_;
  const CollectiveTest& test_;
  BenchBuffers& buffers_;
};

std::vector<RankRails> gather_rails(bootstrap::Bootstrap& boot, const transport::Context& context) {
  std::ostringstream mine;
  for (const auto& rail : context.counters()) mine << rail.rail << ' ' << rail.bytes_sent << ' ' << rail.bytes_received << '\n';
  auto all = boot.allgather(mine.str());
  std::vector<RankRails> ranks;
  for (size_t r = 0; r < all.size(); ++r) {
    RankRails rr{static_cast<int>(r), {}};
    std::istringstream in(all[r]);
    transport::RailCounters c;
    while (in >> c.rail >> c.bytes_sent >> c.bytes_received) rr.rails.push_back(c);
    ranks.push_back(rr);
  }
  return ranks;
}

}  // namespace

void describe_links(bootstrap::Bootstrap& boot, const transport::Context& context, RunDescription& run) {
  double rate = 0;
  for (const auto& link : transport::link_info(context)) {
    run.links.push_back(link.detail);
    rate += link.rate_gbps;
  }
  // The slowest rank bounds a ring: its rate is the one that counts.
  double slowest = rate;
  for (const auto& r : boot.allgather(fmt::format("{}", rate))) slowest = std::min(slowest, std::stod(r));
  run.line_rate_gbps = slowest;
}

namespace {

// Local rank i drives GPU i; where a host has fewer GPUs than ranks they share, i mod the
// count (two processes on one GPU still reach each other's memory through CUDA IPC).
int gpu_of(const bootstrap::Bootstrap& boot) { return boot.launch().local_rank % std::max(gpu::device_count(), 1); }

// What every engine's report shares: the ranks, the hosts, the check, the buffers.
RunDescription describe_run(const BenchOptions& o, bootstrap::Bootstrap& boot) {
  RunDescription run;
  run.launcher = boot.launch().launcher;
  run.hostnames = boot.hostnames();
  for (const auto& pid : boot.allgather(std::to_string(::getpid()))) run.pids.push_back(std::stoi(pid));
  run.check_rule = describe_check();
  run.options = &o;
  run.memory = o.comm.memory == transport::MemoryKind::Cuda ? "cuda" : "host";
  if (o.comm.memory == transport::MemoryKind::Cuda)
    run.devices = boot.allgather(gpu::describe_device(gpu_of(boot)));
  return run;
}

// Runs the sweep of one engine for each collective; rank 0 prints each table and footer
// as it goes. One report per collective, in --coll's order.
std::vector<EngineReport> sweep_engine(const BenchOptions& o, bootstrap::Bootstrap& boot, BenchEngine& engine,
                                       BenchBuffers& buffers, const RunDescription& base) {
  std::vector<EngineReport> reports;
  for (Collective coll : o.collectives) {
    RunDescription run = base;
    run.collective = std::string(collective_name(coll));
    run.engine = engine.name();
    run.engine_detail = engine.describe();
    EngineReport report{run, {}, {}};
    Sweep sweep(o, boot, engine, collective_test(coll), buffers);
    report.results = sweep.run(report.run);
    // NCCL may have connected more transports for other sizes since the header.
    if (std::string now = engine.describe(); now != report.run.engine_detail) {
      report.run.engine_detail = now;
      if (boot.rank() == 0) fmt::print("# engine after the sweep: {}\n", now);
    }
    if (boot.rank() == 0) {
      print_footer(std::cout, report.results, o.check);
      print_algorithms(std::cout, report.results);
      print_iterations(std::cout, report.results);
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

std::vector<EngineReport> run_sxcoll(const BenchOptions& o, bootstrap::Bootstrap& boot, BenchBuffers& buffers,
                                     RunDescription run) {
  // hier needs the hosts, known only now: refused before anything connects.
  check_algorithm(o.algorithm, Topology::from_hostnames(boot.hostnames()));
  transport::TransportOptions transport = o.transport;
  // GPU buffers: the rail a rank drives is the one nearest to its GPU (--rails).
  if (o.comm.memory == transport::MemoryKind::Cuda) transport.gpu_bus_id = gpu::pci_bus_id(gpu_of(boot));
  auto context = transport::make_context(boot, transport);
  Communicator comm(boot, *context, o.comm);
  SxcollEngine engine(comm, o.algorithm, context->describe());
  if (o.comm.memory == transport::MemoryKind::Cuda) run.data_path = comm.data_path();
  run.routes = comm.routes();
  if (o.algorithm == Algorithm::Auto) {
    const CostModel& m = comm.cost();
    run.cost_model = fmt::format("within a host {:.1f} us + {:.2f} GB/s per step, between hosts {:.1f} us + {:.2f} GB/s",
                                 m.alpha_us, m.beta_bytes_per_us / 1000, m.inter_alpha_us,
                                 m.inter_beta_bytes_per_us / 1000);
  }
  describe_links(boot, *context, run);
  std::vector<EngineReport> reports = sweep_engine(o, boot, engine, buffers, run);
  // The rails' counters cover every collective of the run: each report carries them all.
  const std::vector<RankRails> rails = gather_rails(boot, *context);
  for (auto& report : reports) report.rails = rails;
  if (boot.rank() == 0) {
    for (const auto& report : reports) print_line_rate(std::cout, report.results, report.run.line_rate_gbps);
    print_rails(std::cout, rails);
  }
  return reports;
}

std::vector<EngineReport> run_nccl(const BenchOptions& o, bootstrap::Bootstrap& boot, BenchBuffers& buffers,
                                   RunDescription run) {
  auto engine = make_nccl_engine(boot, gpu_of(boot), o.comm.timeout);
  return sweep_engine(o, boot, *engine, buffers, run);
}

std::string local_time_now() {
  char text[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return text;
}

int run_sweep(const BenchOptions& o, bootstrap::Bootstrap& boot) {
  const std::string start_time = local_time_now();
  if (o.comm.memory == transport::MemoryKind::Cuda) gpu::use_device(gpu_of(boot));
  BenchBuffers buffers(o.max_bytes, o.comm.memory);
  const RunDescription run = describe_run(o, boot);
  if (o.root >= boot.size())
    throw UsageError(fmt::format("-r {}: the root is a rank, and this run has {} (0..{})", o.root, boot.size(),
                                 boot.size() - 1));
  std::vector<EngineReport> reports, nccl;
  if (o.engine != EngineChoice::Nccl) reports = run_sxcoll(o, boot, buffers, run);
  if (o.engine != EngineChoice::Sxcoll) nccl = run_nccl(o, boot, buffers, run);
  if (boot.rank() != 0) return 0;
  // --engine both: each collective's two reports side by side.
  if (!reports.empty())
    for (size_t i = 0; i < nccl.size(); ++i) print_comparison(std::cout, reports[i], nccl[i]);
  for (const auto& report : reports) print_concluded(std::cout, report.run);
  for (const auto& report : nccl) print_concluded(std::cout, report.run);
  reports.insert(reports.end(), nccl.begin(), nccl.end());
  if (!o.json_path.empty()) write_json(o.json_path, reports);
  if (!o.csv_path.empty()) write_csv(o.csv_path, reports);
  if (!o.nccl_json_path.empty())
    for (const auto& report : reports)
      write_nccl_tests_json(nccl_json_path_for(o, *parse_collective(report.run.collective)), report, start_time);
  for (const auto& report : reports)
    for (const auto& r : report.results)
      if (r.out_of_place.wrong + r.in_place.wrong > 0) return 1;
  return 0;
}

}  // namespace

int run_rank(const BenchOptions& options, const bootstrap::LaunchInfo& launch,
             const std::function<int(bootstrap::Bootstrap&)>& body) {
  std::unique_ptr<bootstrap::Bootstrap> boot;
  try {
    boot = std::make_unique<bootstrap::Bootstrap>(launch, options.comm.timeout);
    int code = body(*boot);
    // A body that finished despite a lost rank (--validate reports it) has nobody to agree
    // with: waiting for the verdicts would only run into the timeout.
    if (auto reason = boot->poll_abort()) {
      boot->abort(*reason);
      return code != 0 ? code : 1;
    }
    // Rank 0's verdict is the run's: the others learn of failed checks through it.
    auto verdicts = boot->allgather(std::to_string(code));
    return std::stoi(verdicts[0]) != 0 ? std::stoi(verdicts[0]) : code;
  } catch (const UsageError& e) {
    if (boot) boot->abort(e.what());
    print_error(e.what());
    return 2;
  } catch (const std::exception& e) {
    if (boot) boot->abort(e.what());
    print_error(e.what());
    return 1;
  }
}

int run_bench_rank(const BenchOptions& options, const bootstrap::LaunchInfo& launch) {
  return run_rank(options, launch, [&](bootstrap::Bootstrap& boot) { return run_sweep(options, boot); });
}

}  // namespace sxcoll::bench
