#include "tuner/tuner.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include "bench/size_parse.h"
#include "collectives/dtype.h"
#include "transport/bootstrap/launch_env.h"
#include "transport/error.h"
#include "transport/factory.h"
#include "transport/verbs/gid_table.h"
#include "tuner/env_writer.h"
#include "tuner/nccl_conf.h"
#include "tuner/session.h"
#include "tuner/summary.h"
#include "tuner/trial_store.h"

namespace sxcoll::tune {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw RunError(fmt::format("cannot write {}", tmp));
  }
  fs::rename(tmp, path);
}

struct SignalGuard {
  SignalGuard() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
  }
  ~SignalGuard() {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
  }
};

// The algorithm knob of the engine and its ring and tree values, for the cost model.
struct AlgoValues {
  std::string knob, ring, tree;
};
AlgoValues algo_values(Engine engine) {
  return engine == Engine::Nccl ? AlgoValues{"NCCL_ALGO", "Ring", "Tree"} : AlgoValues{"--algo", "ring", "tree"};
}

nlohmann::json knobs_json(const SearchResult& result) {
  nlohmann::json knobs = nlohmann::json::array();
  for (const auto& k : result.knobs) {
    nlohmann::json cands = nlohmann::json::array();
    for (const auto& c : k.candidates)
      cands.push_back({{"value", c.value},
                       {"busbw_gbps", scores(c.samples)},
                       {"gain", c.vs_current.gain},
                       {"gain_low", c.vs_current.gain_low},
                       {"gain_high", c.vs_current.gain_high},
                       {"level", c.vs_current.level},
                       {"significant", c.vs_current.significant},
                       {"failure", c.failure.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.failure)}});
    knobs.push_back({{"knob", k.knob.name},
                     {"from", k.from},
                     {"to", k.to},
                     {"verdict", verdict_text(k)},
                     {"changed", k.verdict == Verdict::Changed},
                     {"candidates", cands}});
  }
  return knobs;
}

}  // namespace

Tuner::Tuner(TuneOptions options) : options_(std::move(options)) {
  auto& o = options_;
  if (auto launch = bootstrap::detect_launch(bootstrap::process_env()))
    throw UsageError(
        fmt::format("sxcoll tune runs once and starts the ranks of each trial itself, not under {}: give "
                    "the launcher with --launch '...'",
                    launch->launcher));
  // Engine and transport.
  if (o.engine == Engine::Sxcoll) {
    if (o.transport.empty()) o.transport = "tcp";
    transport::TransportOptions t;
    t.name = o.transport;
    transport::validate(t);
  } else {
    if (o.transport.empty()) o.transport = "auto";
    if (o.transport != "auto" && o.transport != "socket" && o.transport != "ib")
      throw UsageError(fmt::format("--transport {}: with --engine nccl expected auto, socket or ib", o.transport));
  }
  if (!o.memory.empty() && o.memory != "host" && o.memory != "cuda")
    throw UsageError(fmt::format("--mem '{}': expected host or cuda", o.memory));
  if (o.engine == Engine::Nccl && o.memory == "host")
    throw UsageError("--mem host: NCCL reduces GPU buffers, its trials run with --mem cuda");
  if (o.memory.empty()) o.memory = o.engine == Engine::Nccl ? "cuda" : "host";
  // Ranks.
  const auto launch = split_words(o.launch);
  if (!o.launch.empty() && launch.empty())
    throw UsageError("--launch '': expected a launcher command such as 'mpirun -np 16 -H a,b'");
  if (!launch.empty() && o.np != 0)
    throw UsageError("--np and --launch: pick one (the launcher's command says how many ranks)");
  if (launch.empty() && o.np == 0) throw UsageError("give --np N (local ranks) or --launch 'mpirun -np N ...'");
  if (launch.empty() && (o.np < 2 || o.np > 1024))
    throw UsageError(fmt::format("--np {}: expected 2..1024 ranks (busbw needs a peer)", o.np));
  // What is measured.
  if (!o.sizes.empty() && !o.workload.empty()) throw UsageError("--sizes and --workload: pick one");
  workload_ = !o.workload.empty() ? named_workload(o.workload) : parse_sizes(o.sizes.empty() ? kDefaultSizes : o.sizes);
  if (o.budget.count() <= 0) throw UsageError("--budget: must be positive");
  if (o.search.repeats < 2 || o.search.repeats > 100)
    throw UsageError(
        fmt::format("--repeats {}: expected 2..100 (an interval needs two measurements)", o.search.repeats));
  if (!(o.search.confidence > 0.5 && o.search.confidence < 1))
    throw UsageError(fmt::format("--confidence {}: expected a level between 0.5 and 1 (0.95)", o.search.confidence));
  if (!(o.search.min_gain >= 0 && o.search.min_gain < 10))
    throw UsageError(fmt::format("--min-gain {}: expected a percentage of at least 0", 100 * o.search.min_gain));
  if (o.iters < 1) throw UsageError(fmt::format("-n {}: need at least one iteration", o.iters));
  if (o.warmup < 0) throw UsageError(fmt::format("-w {}: cannot be negative", o.warmup));
  if (o.check != 0 && o.check != 1) throw UsageError(fmt::format("-c {}: expected 0 or 1", o.check));
  if (!parse_dtype(o.dtype))
    throw UsageError(
        fmt::format("-d '{}': unknown (one of int8, uint8, int32, int64, half, bfloat16, float, double)", o.dtype));

  // The fabric, and the knobs that apply to it.
  if (o.sysfs_root.empty()) o.sysfs_root = transport::verbs::kSysfsInfiniband;
  facts_ = detect_fabric(bootstrap::process_env(), o.sysfs_root);
  std::vector<std::string> ports;
  for (const auto& p : chosen_ports(facts_.ports)) ports.push_back(p.name());
  const std::string rdma_found = facts_.rdma() ? fmt::format("active RDMA port(s) {}", fmt::join(ports, ", "))
                                               : fmt::format("no active RDMA port in {}", o.sysfs_root);
  if (o.engine == Engine::Sxcoll) {
    fabric_ = o.transport == "verbs" ? Fabric::Rdma : Fabric::Socket;
    fabric_note_ = fmt::format("--transport {}", o.transport);
    if (fabric_ == Fabric::Rdma && !facts_.rdma()) throw UsageError(fmt::format("--transport verbs: {}", rdma_found));
  } else if (o.transport == "auto") {
    fabric_ = facts_.rdma() ? Fabric::Rdma : Fabric::Socket;
    fabric_note_ =
        facts_.rdma() ? fmt::format("NCCL uses IB verbs: {}", rdma_found) : rdma_found + ": NCCL uses sockets";
  } else {
    fabric_ = o.transport == "ib" ? Fabric::Rdma : Fabric::Socket;
    fabric_note_ = fmt::format("--transport {}", o.transport);
    if (fabric_ == Fabric::Rdma && !facts_.rdma()) throw UsageError(fmt::format("--transport ib: {}", rdma_found));
  }
  selection_ = select_knobs(o.engine, fabric_, fabric_note_, o.knobs);
  if (selection_.searched.empty()) throw UsageError("no knob to search (every --knob skipped)");

  // The trials' command.
  plan_.engine = o.engine;
  plan_.transport = o.transport;
  plan_.memory = o.memory;
  plan_.launch = launch;
  plan_.np = launch.empty() ? o.np : 0;
  plan_.iters = o.iters;
  plan_.warmup = o.warmup;
  plan_.check = o.check;
  plan_.dtype = o.dtype;
  plan_.knobs = knobs_of(o.engine);
  std::error_code ec;
  plan_.exe = !o.exe.empty() ? o.exe : fs::read_symlink("/proc/self/exe", ec).string();
  if (plan_.exe.empty()) throw RunError(fmt::format("cannot find this executable (/proc/self/exe): {}", ec.message()));
  if (o.engine == Engine::Nccl) {
    for (const auto& f : facts_.facts)
      if (!f.value.empty()) plan_.fixed_env.emplace_back(f.name, f.value);
    // Local ranks share a host: NCCL would connect them through NVLink or shared memory and
    // never touch the transport being tuned.
    if (o.transport == "socket") conditions_.emplace_back("NCCL_IB_DISABLE", "1");
    if (o.transport != "auto" && launch.empty()) {
      conditions_.emplace_back("NCCL_P2P_DISABLE", "1");
      conditions_.emplace_back("NCCL_SHM_DISABLE", "1");
    }
    for (const auto& c : conditions_) plan_.fixed_env.push_back(c);
    for (const auto& k : plan_.knobs)
      for (const auto& var : k.env)
        if (const char* v = std::getenv(var.c_str())) ignored_env_.push_back(fmt::format("{}={}", var, v));
    for (const auto& [name, value] : plan_.fixed_env)
      if (const char* v = std::getenv(name.c_str()); v != nullptr && value != v)
        replaced_env_.push_back(fmt::format("{}={}", name, v));
  }

  // The output folder: created now, so that an unwritable one is bad input, not a late failure.
  if (o.out_dir.empty()) {
    const std::string base = "results/tune-" + utc_time("%Y%m%d-%H%M%S");
    o.out_dir = base;
    for (int k = 2; fs::exists(o.out_dir); ++k) o.out_dir = fmt::format("{}-{}", base, k);
  }
  fs::create_directories(o.out_dir + "/raw", ec);
  if (ec) throw UsageError(fmt::format("--out {}: cannot create {}/raw: {}", o.out_dir, o.out_dir, ec.message()));
  for (const std::string& p : {o.out_dir, o.out_dir + "/raw"})
    if (::access(p.c_str(), W_OK) != 0) throw UsageError(fmt::format("--out {}: {} is not writable", o.out_dir, p));
  for (const char* name : {"/trials.jsonl", "/nccl_env.sh", "/nccl.conf", "/nccl_tuner.conf", "/summary.json"}) {
    const std::string p = o.out_dir + name;
    if (fs::exists(p) && ::access(p.c_str(), W_OK) != 0)
      throw UsageError(fmt::format("--out {}: {} is not writable", o.out_dir, p));
  }
}

void Tuner::print_header(std::ostream& out, size_t loaded, size_t reusable, size_t bad_lines) const {
  const auto& o = options_;
  const std::string ranks =
      plan_.launch.empty() ? fmt::format("{} local ranks", o.np) : fmt::format("ranks by '{}'", o.launch);
  fmt::print(out, "# sxcoll tune: engine {} (--transport {}), {}, budget {}, a trial stopped after {}\n",
             engine_name(o.engine), o.transport, ranks, clock_text(o.budget.count() / 1000.0),
             clock_text(o.trial_timeout.count() / 1000.0));
  fmt::print(out,
             "# statistics: {} fresh processes per value; Welch's t interval on the busbw log-ratio, {:g} % over "
             "the values of each knob (Bonferroni); a default changes only when the interval is above 0 and the "
             "gain at least {:g} %\n",
             o.search.repeats, 100 * o.search.confidence, 100 * o.search.min_gain);
  fmt::print(out, "# {}: {}\n", workload_.name, workload_.description);
  for (const auto& sw : workload_.sizes)
    if (!sw.note.empty())
      fmt::print(out, "#   {} ({:.0f} %): {}\n", bench::format_size(sw.bytes), 100 * sw.weight, sw.note);
  fmt::print(out, "# each trial: sxcoll bench -b {} -e {} -f 2 -n {} -w {} -c {} -d {}{}{}\n", workload_.min_bytes(),
             workload_.max_bytes(), o.iters, o.warmup, o.check, o.dtype,
             o.engine == Engine::Nccl ? " --engine nccl" : "", o.memory == "cuda" ? " --mem cuda" : "");
  for (const auto& f : facts_.facts)
    fmt::print(out, "# fixed: {}{}: {}\n", f.name, f.value.empty() ? "" : "=" + f.value, f.how);
  fmt::print(out, "# fabric: {} ({})\n", fabric_name(fabric_), fabric_note_);
  if (!conditions_.empty()) {
    std::vector<std::string> c;
    for (const auto& [k, v] : conditions_) c.push_back(k + "=" + v);
    fmt::print(out, "# trials run with {} (--transport {}{})\n", fmt::join(c, " "), o.transport,
               plan_.launch.empty() ? ": the local ranks talk through it, not through NVLink or shared memory" : "");
  } else if (o.engine == Engine::Nccl && plan_.launch.empty()) {
    fmt::print(out,
               "# note: local ranks share this host; NCCL connects them through NVLink or shared memory unless "
               "--transport socket or ib\n");
  }
  if (!ignored_env_.empty())
    fmt::print(out, "# from the environment, not passed to the trials (they start from NCCL's defaults): {}\n",
               fmt::join(ignored_env_, " "));
  if (!replaced_env_.empty())
    fmt::print(out, "# from the environment, replaced in the trials by what was detected: {}\n",
               fmt::join(replaced_env_, " "));
  std::vector<std::string> knobs;
  for (const auto& k : selection_.searched) {
    std::vector<std::string> values;
    for (const auto& v : k.values) values.push_back(display_value(k, v));
    knobs.push_back(fmt::format("{} {} -> {}", k.name, display_value(k, k.default_value), fmt::join(values, ",")));
  }
  fmt::print(out, "# knobs, in search order: {}\n", fmt::join(knobs, "; "));
  for (const auto& [name, why] : selection_.skipped) fmt::print(out, "# skipped: {}: {}\n", name, why);
  fmt::print(out, "# results: {}/ (trials.jsonl: {} trial(s) from an earlier run, {} to reuse{}{})\n", o.out_dir,
             loaded, reusable, loaded > reusable ? "; failed ones run again" : "",
             bad_lines > 0 ? fmt::format("; {} unreadable line(s) skipped", bad_lines) : "");
  out.flush();
}

std::vector<std::string> Tuner::env_header(int ranks, const SearchResult& result, const SizeComparison& total,
                                          const std::string& source) const {
  const auto& o = options_;
  std::vector<std::string> h;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  h.push_back(fmt::format("nccl_env.sh written by sxcoll tune on {} (host {})", utc_time("%Y-%m-%dT%H:%M:%SZ"), host));
  h.push_back(fmt::format("engine {} (--transport {}), {} ranks{}", engine_name(o.engine), o.transport, ranks,
                          plan_.launch.empty() ? " on this host" : fmt::format(" by '{}'", o.launch)));
  h.push_back(fmt::format("{}: {}", workload_.name, workload_.description));
  h.push_back(
      fmt::format("{} fresh processes per value, Welch's t interval on the busbw log-ratio, {:g} % over the "
                  "values of each knob (Bonferroni); a default changes only when the interval is above 0 and "
                  "the gain at least {:g} %",
                  o.search.repeats, 100 * o.search.confidence, 100 * o.search.min_gain));
  const std::string ratio =
      result.tuned == result.defaults
          ? " (every default kept)"
          : fmt::format(", ratio {:.3f} [{:g} % interval {:.3f}, {:.3f}]", 1 + total.ratio.gain,
                        100 * o.search.confidence, 1 + total.ratio.gain_low, 1 + total.ratio.gain_high);
  h.push_back(fmt::format("busbw of the workload: default {:.3f} GB/s, tuned {:.3f} GB/s{} ({})", total.default_gbps,
                          total.tuned_gbps, ratio, source));
  std::vector<std::string> changed, not_tried;
  for (const auto& k : result.knobs) {
    if (k.verdict == Verdict::Changed) changed.push_back(fmt::format("{} {}", k.knob.name, k.to));
    if (k.verdict == Verdict::NotTried || k.partial) not_tried.push_back(k.knob.name);
  }
  if (o.engine == Engine::Sxcoll)
    h.push_back(
        fmt::format("sxcoll engine: the SXCOLL_* lines set sxcoll bench's flags ({}): bench reads them where "
                    "the flag is not given; NCCL does not",
                    changed.empty() ? "none changed" : fmt::format("{}", fmt::join(changed, " "))));
  if (!not_tried.empty())
    h.push_back(
        fmt::format("the budget ran out before {} were fully measured: rerun with --out {} and a larger "
                    "--budget to go on",
                    fmt::join(not_tried, ", "), o.out_dir));
  h.push_back(
      fmt::format("evidence: every trial in {}/trials.jsonl, the summary in {}/summary.json", o.out_dir, o.out_dir));
  return h;
}

int Tuner::run(std::ostream& out) {
  const auto& o = options_;
  TrialStore store(o.out_dir + "/trials.jsonl");
  print_header(out, store.loaded(), store.reusable(), store.bad_lines());
  SignalGuard signals;
  const Settings defaults = default_settings(selection_.searched);
  TrialSession session(plan_, workload_, store, o, defaults, o.out_dir + "/raw", out, g_stop);
  CoordinateDescent search(session, o.search);
  search.on_decision = [&](const KnobOutcome& k) {
    if (k.verdict == Verdict::NotTried) return;
    if (k.verdict == Verdict::Changed)
      fmt::print(out, "# {}: {} -> {}: {}\n", k.knob.name, display_value(k.knob, k.from), display_value(k.knob, k.to),
                 verdict_text(k));
    else
      fmt::print(out, "# {}: {}\n", k.knob.name, verdict_text(k));
    out.flush();
  };

  // 1. The defaults. 2. One ring-only and one tree-only trial for the cost model (small
  // sizes too, for the latency term). 3. The knobs, one at a time.
  const AlgoValues algo = algo_values(o.engine);
  const size_t model_min = std::min<size_t>(workload_.min_bytes(), 64 << 10), model_max = workload_.max_bytes();
  std::vector<const TrialRecord*> model_trials[2];
  std::string model_note = "no cost model: the budget ran out before the ring-only and tree-only trials";
  bool baseline = search.measure_baseline(defaults);
  if (baseline) {
    fmt::print(out, "# defaults: {:.3f} GB/s\n", summarize(scores(search.result().baseline)).mean);
    for (int i = 0; i < 2; ++i) {
      Settings s = defaults;
      s[algo.knob] = i == 0 ? algo.ring : algo.tree;
      if (!session.affordable(s, 1, model_min, model_max)) break;
      const TrialRecord* r = session.trial(s, 0, 1, model_min, model_max, "model: ");
      if (r == nullptr) break;
      if (r->ok())
        model_trials[i].push_back(r);
      else
        model_note = fmt::format("no cost model: the {}-only trial failed: {}", i == 0 ? "ring" : "tree", r->error);
    }
    session.set_reserve(2 * o.search.repeats);
    search.run(selection_.searched);
  }
  const SearchResult& result = search.result();
  const bool same = result.tuned == result.defaults;

  // 4. The tuned values won against others, so their own samples flatter them: default and
  // tuned are measured again, alternating, and the summary compares those (same run, fresh).
  std::vector<Sample> table_default = result.baseline, table_tuned = result.final;
  std::string source = fmt::format("{} processes each, from the search", o.search.repeats);
  if (baseline && !same && !session.interrupted()) {
    const int r = o.search.repeats;
    const size_t lo = workload_.min_bytes(), hi = workload_.max_bytes();
    std::vector<Sample> d, t;
    std::string failure;
    if (session.fits(session.missing(defaults, 2 * r, lo, hi) + session.missing(result.tuned, 2 * r, lo, hi))) {
      for (int k = r; k < 2 * r && failure.empty(); ++k)
        for (auto [settings, into] : {std::pair{&defaults, &d}, std::pair{&result.tuned, &t}}) {
          const TrialRecord* rec = session.trial(*settings, k, 2 * r, lo, hi, "confirm: ");
          if (rec == nullptr) {
            failure = "the budget ran out during it";
            break;
          }
          into->push_back(session.sample_of(*rec));
          if (!into->back().ok) failure = "a trial failed: " + into->back().error;
          if (!failure.empty()) break;
        }
    } else {
      failure = "no budget left for it";
    }
    if (failure.empty()) {
      table_default = d;
      table_tuned = t;
      source = fmt::format("{} more processes each, default and tuned alternating after the search", r);
    } else {
      source += fmt::format(" (the tuned values were the best of several, so the gain may be overstated; no "
                            "confirmation run: {})",
                            failure);
    }
  }

  if (session.interrupted()) {
    fmt::print(stderr,
               "sxcoll: tune interrupted; {} trial(s) kept in {}/trials.jsonl: run the same command with --out {} "
               "to resume\n",
               store.records().size(), o.out_dir, o.out_dir);
    return 130;
  }
  if (!baseline) {
    fmt::print(stderr,
               "sxcoll: the budget ran out before the defaults were measured {} times; {} trial(s) kept in "
               "{}/trials.jsonl: rerun with --out {} and a larger --budget\n",
               o.search.repeats, store.records().size(), o.out_dir, o.out_dir);
    return 1;
  }
  const ModelReport model = build_model(model_trials[0], model_trials[1], model_note);

  // Outputs: derived from the trials file, so rewritten whole by each completed run.
  const auto rows = compare_sizes(workload_, table_default, table_tuned, same, o.search.confidence);
  const TrialRecord* first =
      store.find(session.config(defaults, workload_.min_bytes(), workload_.max_bytes()).dump(), 0);
  const int ranks = first != nullptr ? first->ranks : 0;
  const bool ran_out = result.stopped || session.budget_spent();
  EnvFile env;
  env.header = env_header(ranks, result, rows.back(), source);
  env.facts = facts_.facts;
  env.conditions = conditions_;
  env.result = &result;
  env.skipped = selection_.skipped;
  env.confidence = o.search.confidence;
  env.repeats = o.search.repeats;
  write_atomically(o.out_dir + "/nccl_env.sh", nccl_env_text(env));
  // The same NCCL settings in files NCCL reads itself (tuner/nccl_conf.h).
  // Their header names the file, the rest is nccl_env.sh's.
  auto header_for = [&](const std::string& name) {
    EnvFile f = env;
    if (!f.header.empty() && f.header[0].starts_with("nccl_env.sh ")) f.header[0].replace(0, 11, name);
    return f;
  };
  write_atomically(o.out_dir + "/nccl.conf", nccl_conf_text(header_for("nccl.conf")));
  const auto tuner_lines = tuner_conf_lines(result, ranks);
  if (!tuner_lines.empty())
    write_atomically(o.out_dir + "/nccl_tuner.conf",
                     nccl_tuner_conf_text(tuner_lines, header_for("nccl_tuner.conf").header));
  nlohmann::json summary{{"tool", "sxcoll tune"},
                         {"engine", engine_name(o.engine)},
                         {"transport", o.transport},
                         {"memory", o.memory},
                         {"ranks", ranks},
                         {"launch", o.launch},
                         {"workload", workload_.name},
                         {"repeats", o.search.repeats},
                         {"confidence", o.search.confidence},
                         {"min_gain", o.search.min_gain},
                         {"budget_s", o.budget.count() / 1000.0},
                         {"elapsed_s", session.elapsed_s()},
                         {"trials_run", session.fresh()},
                         {"trials_reused", session.reused()},
                         {"budget_ran_out", ran_out},
                         {"defaults", result.defaults},
                         {"tuned", result.tuned},
                         {"knobs", knobs_json(result)},
                         {"sizes", sizes_json(rows)},
                         {"sizes_from", source},
                         {"model", model_json(model)}};
  write_atomically(o.out_dir + "/summary.json", summary.dump(2) + "\n");

  print_summary_table(out, rows, same, o.search.confidence, source);
  print_model(out, model);
  fmt::print(out, "#\n# {} trial(s) run, {} reused from {}/trials.jsonl; {:.0f} s of the {:.0f} s budget{}\n",
             session.fresh(), session.reused(), o.out_dir, session.elapsed_s(), o.budget.count() / 1000.0,
             ran_out ? " (ran out: knobs left are at their defaults)" : "");
  fmt::print(out, "# wrote {}/nccl_env.sh, {}/nccl.conf{} and {}/summary.json\n", o.out_dir, o.out_dir,
             tuner_lines.empty() ? "" : fmt::format(", {}/nccl_tuner.conf", o.out_dir), o.out_dir);
  out.flush();
  return 0;
}

}  // namespace sxcoll::tune
