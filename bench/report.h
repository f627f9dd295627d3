// What `sxcoll bench` prints and writes: nccl-tests' table on the terminal, the same
// numbers as JSON and CSV for tools.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "bench/options.h"
#include "collectives/collective.h"
#include "collectives/dtype.h"
#include "transport/transport.h"

namespace sxcoll::bench {

struct PlacementResult {
  double time_us = 0;
  double algbw_gbps = 0;  // bytes / time, GB/s (1e9)
  double busbw_gbps = 0;  // algbw * the collective's bus factor
  uint64_t wrong = 0;     // elements outside tolerance, summed over ranks (0 when unchecked)
  // false: this placement's result is not defined by the engine (NCCL's in-place alltoall
  // and sendrecv, as nccl-tests leaves them unchecked): #wrong is N/A.
  bool defined = true;
  std::vector<double> iteration_us;  // -I 1: each iteration, the slowest rank's time
};

struct SizeResult {
  size_t bytes = 0;
  size_t count = 0;
  DataType type = DataType::Float32;
  RedOp op = RedOp::Sum;
  bool reduces = true;  // false: the redop column says "none" (allgather, broadcast, ...)
  int root = -1;        // broadcast, reduce: the root rank
  std::string algorithm;
  PlacementResult out_of_place;
  PlacementResult in_place;
};

struct RunDescription {
  std::string collective;  // "allreduce", "allgather", ... (collective_name)
  std::string engine;      // "sxcoll"
  std::string engine_detail;
  std::string memory;                // "host", or "cuda" (the GPUs are in `devices`)
  std::string data_path;             // sxcoll: "host", "gdr: dmabuf", "gdr: peermem", "gdr: staged"
  std::vector<std::string> devices;  // GPU buffers: each rank's GPU
  std::string launcher;
  std::vector<std::string> hostnames;  // by rank
  std::vector<int> pids;               // by rank
  std::string check_rule;
  const BenchOptions* options = nullptr;
  std::string routes;               // sxcoll: rank 0's links by transport (Communicator::routes)
  std::string cost_model;           // sxcoll with --algo auto: the levels it picks by
  std::vector<std::string> links;  // rank 0's rails as the transport found them (verbs)
  double line_rate_gbps = 0;       // link rate summed over a rank's rails, slowest rank; 0: unknown
};

void print_header(std::ostream& out, const RunDescription& run);
// A data row is nccl-tests' exactly, 13 fields (size, count, type, redop, root, then time,
// algbw, busbw, #wrong out of place and in place): tools that read nccl-tests' output count
// fields from either end. Whatever sxcoll adds goes to '#' lines, JSON and CSV.
void print_row(std::ostream& out, const SizeResult& r, bool checked);
// "Out of bounds values" and "Avg bus bandwidth", as nccl-tests ends.
void print_footer(std::ostream& out, const std::vector<SizeResult>& results, bool checked);
// "# Collective test concluded: all_gather_perf", nccl-tests' last line of a test.
void print_concluded(std::ostream& out, const RunDescription& run);
// The redop column: the op's name, or "none" for a collective that does not reduce.
std::string_view redop_column(const SizeResult& r);
// "8..32K rd, 64K..64M ring": the algorithm each size ran with, runs of sizes joined.
std::string algorithms_by_size(const std::vector<SizeResult>& results);
// "# algorithm per size: ...", after the footer; nothing where the engine names none.
void print_algorithms(std::ostream& out, const std::vector<SizeResult>& results);
double average_busbw(const std::vector<SizeResult>& results);
// busbw against the line rate: ring allreduce's bound is the per-node link bandwidth
// summed over the rails used. Prints nothing when the rate is unknown.
void print_line_rate(std::ostream& out, const std::vector<SizeResult>& results, double line_rate_gbps);

// Per-rank byte counters of each rail, for the JSON file and the summary.
struct RankRails {
  int rank;
  std::vector<transport::RailCounters> rails;
};
void print_rails(std::ostream& out, const std::vector<RankRails>& rails);
// -I 1: "# per-iteration" block, p50/p90/p99/max per size and placement.
void print_iterations(std::ostream& out, const std::vector<SizeResult>& results);

// One engine's sweep: what it was, what it measured, what crossed each rail.
struct EngineReport {
  RunDescription run;
  std::vector<SizeResult> results;
  std::vector<RankRails> rails;
};

// --engine both: busbw of `a` against `b` (the same collective) per size and placement, and the ratio a/b.
void print_comparison(std::ostream& out, const EngineReport& a, const EngineReport& b);

// One engine and collective: one run object. More: {"engines": [..] (one per engine and
// collective), "comparison": [..] (each collective's ratios)}.
void write_json(const std::string& path, const std::vector<EngineReport>& reports);
void write_csv(const std::string& path, const std::vector<EngineReport>& reports);
// -J: nccl-tests' own JSON file (bench/nccl_tests_json.cc), one engine's sweep of one collective.
void write_nccl_tests_json(const std::string& path, const EngineReport& report, const std::string& start_time);

}  // namespace sxcoll::bench
