// Runs a test body as N ranks: forked processes joined through sxcoll's own bootstrap,
// each with a transport (TCP between them unless the options say otherwise) and a communicator.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "bench/check_values.h"
#include "collectives/communicator.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/bootstrap/local_launcher.h"
#include "transport/factory.h"

namespace sxcoll::testing {

struct RankEnv {
  bootstrap::Bootstrap& boot;
  Communicator& comm;
};

// TCP between the ranks of this host too (--intra net): what the tests over loopback test.
inline transport::TransportOptions tcp_options() {
  transport::TransportOptions t;
  t.intra = "net";
  return t;
}

// Returns the launcher's exit code: 0 when every rank's body returned 0. `setup` runs
// first in each rank (picking its GPU, say).
inline int run_ranks(int nranks, const std::function<int(RankEnv&)>& body,
                     CommunicatorOptions comm_options = {}, transport::TransportOptions transport_options = tcp_options(),
                     const std::function<void(const bootstrap::LaunchInfo&)>& setup = {}) {
  return bootstrap::launch_local(
      nranks,
      [&](const bootstrap::LaunchInfo& info) {
        if (setup) setup(info);
        bootstrap::Bootstrap boot(info, comm_options.timeout);
        transport_options.memory = comm_options.memory;
        auto context = transport::make_context(boot, transport_options);
        Communicator comm(boot, *context, comm_options);
        RankEnv env{boot, comm};
        int code = body(env);
        boot.barrier();  // nobody closes connections while a peer still reads
        return code;
      },
      comm_options.timeout + std::chrono::seconds(5));
}

// Checks an allreduce result in host memory against the bench's expected values; a
// mismatch is printed by the rank that saw it. True when every element is right.
inline bool result_is_exact(int rank, int nranks, const void* out, size_t count, DataType type, RedOp op,
                            bool in_place) {
  const size_t wrong = bench::count_allreduce_errors(out, count, type, op, nranks);
  if (wrong != 0)
    std::fprintf(stderr, "rank %d: %s %s count %zu %s: %zu wrong\n", rank, std::string(dtype_name(type)).c_str(),
                 std::string(redop_name(op)).c_str(), count, in_place ? "in-place" : "out-of-place", wrong);
  return wrong == 0;
}

// Every dtype and op, counts 0, 1, a prime and a few MiB that is a multiple of nothing, in
// and out of place. Fails loudly: each mismatch is printed by the rank that saw it.
inline int check_every_type_op_and_count(RankEnv& env, Algorithm algorithm) {
  const int n = env.comm.size();
  const int rank = env.comm.rank();
  const size_t few_mib = (size_t{3} << 20) + 123;  // bytes; not a multiple of anything
  int failures = 0;
  std::vector<char> input, output;
  for (DataType type : kAllDataTypes) {
    const size_t esize = dtype_size(type);
    for (RedOp op : kAllRedOps) {
      for (size_t count : {size_t{0}, size_t{1}, size_t{1009}, few_mib / esize}) {
        input.assign(count * esize + 64, 0);
        output.assign(count * esize + 64, 0);
        for (bool in_place : {false, true}) {
          bench::fill_allreduce_input(input.data(), count, type, op, rank, n);
          char* out = in_place ? input.data() : output.data();
          env.comm.allreduce(input.data(), out, count, type, op, algorithm);
          if (!result_is_exact(rank, n, out, count, type, op, in_place)) ++failures;
        }
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace sxcoll::testing
