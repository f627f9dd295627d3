// What `sxcoll bench` was asked to do: nccl-tests' flags plus sxcoll's engine knobs.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "collectives/algorithm.h"
#include "collectives/collective.h"
#include "collectives/communicator.h"
#include "collectives/dtype.h"
#include "transport/factory.h"

namespace sxcoll::bench {

enum class TimeAggregate { Rank0 = 0, Average = 1, Min = 2, Max = 3 };  // nccl-tests' -a

// Which engines run the sweep: --engine both runs sxcoll's and NCCL's on the same buffers.
enum class EngineChoice { Sxcoll, Nccl, Both };

struct BenchOptions {
  size_t min_bytes = 8;
  size_t max_bytes = size_t{64} << 20;
  size_t step_factor = 2;  // -f: multiply ...
  size_t step_bytes = 0;   // -i: ... or add (when non-zero)
  int iters = 20;
  int warmup_iters = 5;
  bool check = true;
  TimeAggregate aggregate = TimeAggregate::Average;
  std::vector<DataType> types{DataType::Float32};
  std::vector<RedOp> ops{RedOp::Sum};
  std::vector<Collective> collectives{Collective::AllReduce};  // --coll, in the order run
  int root = 0;  // -r: broadcast's and reduce's root
  Algorithm algorithm = Algorithm::Auto;
  EngineChoice engine = EngineChoice::Sxcoll;
  transport::TransportOptions transport;
  CommunicatorOptions comm;
  std::string knob_settings;  // the header's "# knobs:" line (bench/knob_table.h)
  int np = 0;  // --np: local ranks to fork (0: none asked)
  bool per_iteration = false;  // -I 1: each iteration timed on its own, percentiles reported
  std::string json_path;
  std::string nccl_json_path;  // -J: nccl-tests' own JSON schema
  std::string csv_path;
};

// The byte sizes of the sweep, in order.
std::vector<size_t> sweep_sizes(const BenchOptions& options);

// Checks that need no network; throws UsageError naming the problem.
void validate(const BenchOptions& options);

// -J's file for `collective`: the path given where one collective runs, else the path
// with ".<collective>" before its extension (out.json: out.all_gather.json), nccl-tests
// writing one collective per file.
std::string nccl_json_path_for(const BenchOptions& options, Collective collective);

}  // namespace sxcoll::bench
