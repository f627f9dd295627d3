// A communicator: the ranks of a run, connected by a transport, and the collectives over
// them. Plans (channels, slots, registered memory) are built on first use of an
// algorithm and kept.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collectives/algorithm.h"
#include "collectives/algorithm_layout.h"
#include "collectives/channel.h"
#include "collectives/collective.h"
#include "collectives/dtype.h"
#include "collectives/engine.h"
#include "collectives/step_queue.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/transport.h"

namespace sxcoll {

struct CommunicatorOptions {
  int channels = 2;                   // --channels: pipelines in flight at once
  size_t buffsize = size_t{4} << 20;  // --buffsize: receive buffer per link and channel (NCCL_BUFFSIZE)
  uint32_t slots = 8;                 // pipeline depth: the buffer is split in this many slots (NCCL_STEPS)
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // no progress for this long is an error
  // Busy-poll this long before sleeping when idle; negative: 50 us when this host's ranks
  // fit its cores, else 0 (spinning ranks would take the cores their peers need).
  std::chrono::microseconds spin{-1};
  // --algo auto's model; empty: the levels from this rank's links (transport::Pair::cost),
  // the slowest link within the host and the slowest to another host.
  std::optional<CostModel> cost;
  // Where the user's buffers live. Cuda: device memory of this thread's current device
  // (gpu::use_device); reductions then run on that GPU, and what the transport cannot
  // read there directly is staged through pinned host memory.
  transport::MemoryKind memory = transport::MemoryKind::Host;
  // Every rank's host, by rank, where the bootstrap's hostnames should not decide (tests
  // that place local ranks on pretend hosts); empty: Bootstrap::hostnames().
  std::vector<std::string> hostnames;
};

// Throws UsageError naming the flag that is out of range.
void validate_options(const CommunicatorOptions& options);

class Communicator {
 public:
  // Connects to the peers the algorithms need. Collective.
  Communicator(bootstrap::Bootstrap& bootstrap, transport::Context& context, const CommunicatorOptions& options);

  int rank() const { return bootstrap_.rank(); }
  int size() const { return bootstrap_.size(); }
  const CommunicatorOptions& options() const { return options_; }
  const Topology& topology() const { return topology_; }
  // The model --algo auto picks by: options().cost, or what the links say (same on every
  // rank). Without options().cost the first call measures the links' latency: collective
  // then (every rank calls it, or an allreduce with Algorithm::Auto, at the same point), so
  // that a run with a fixed algorithm never pays for the measurement.
  const CostModel& cost();

  // In place when input == output. Collective: every rank calls it with the same count,
  // type, op and algorithm.
  void allreduce(const void* input, void* output, size_t count, DataType type, RedOp op,
                 Algorithm algorithm = Algorithm::Auto);
  // The algorithm an allreduce of `bytes` runs; collective where cost() is (Auto, first call).
  Algorithm resolve(Algorithm algorithm, size_t bytes);

  // The rest of nccl-tests' set, with NCCL's arguments (collective_layout.h says how each
  // runs). Counts are NCCL's: allgather's and reduce_scatter's count is one rank's block
  // (the input of one, the output of the other), alltoall's one peer's block; in place
  // where NCCL's is (allgather: input = output + rank * count elements; reduce_scatter:
  // output = input + rank * count; the others: input == output). Broadcast's and reduce's
  // `root` is a rank; reduce writes only the root's output. sendrecv sends the input to
  // rank + 1 and receives rank - 1's, as nccl-tests' sendrecv_perf. Collective.
  void allgather(const void* input, void* output, size_t count, DataType type);
  void reduce_scatter(const void* input, void* output, size_t count, DataType type, RedOp op);
  void broadcast(const void* input, void* output, size_t count, DataType type, int root);
  void reduce(const void* input, void* output, size_t count, DataType type, RedOp op, int root);
  void alltoall(const void* input, void* output, size_t count, DataType type);
  void sendrecv(const void* input, void* output, size_t count, DataType type);
  // How the bytes move between the user's buffers and the wire, for the bench header:
  // "host", or for GPU buffers "gdr: dmabuf", "gdr: peermem" or "gdr: staged".
  std::string data_path() const;
  // How this rank's links go, for the bench header: "shm to 3 ranks of this host, tcp to
  // 4 ranks of other hosts".
  std::string routes() const;

  // Runs the arithmetic of every step on `queue` instead of inline, and with
  // `stage_sends` sends through staging slots instead of from the user's buffers: what
  // GPU buffers do, here for tests that drive the same engine paths on host memory.
  // Before the first collective only.
  void use_step_queue(std::unique_ptr<StepQueue> queue, bool stage_sends);

 private:
  struct Plan {
    std::vector<std::unique_ptr<Channel>> channels;
    std::unique_ptr<Layout> layout;
    std::string name;  // "allreduce (ring)": what the engine's errors say was running
    // The programs of the last call's shape, kept: a latency-bound loop calls with the same
    // count over and over, and building them costs more than an 8-byte allreduce over shm.
    size_t count = 0;
    size_t esize = 0;
    std::vector<ChannelProgram> programs;
    std::vector<Machine> machines;
  };
  // The programs and machines of `plan` for a call of `count` elements of `esize` bytes.
  std::vector<Machine>& machines_for(Plan& plan, size_t count, size_t esize);
  // Plans by collective, algorithm (allreduce) and root (broadcast, reduce).
  struct PlanKey {
    Collective collective = Collective::AllReduce;
    Algorithm algorithm = Algorithm::Auto;
    int root = -1;
    auto operator<=>(const PlanKey&) const = default;
  };
  Plan& plan(Algorithm algorithm);
  Plan& plan(const PlanKey& key);  // the collectives but allreduce (communicator_collectives.cc)
  // Runs `plan`'s programs for `count` elements (in the layout's sense) on buffers of
  // `in_bytes` and `out_bytes`, with `scratch_bytes` of scratch where its steps use some.
  void run_plan(Plan& plan, const void* input, void* output, size_t count, DataType type, RedOp op, size_t in_bytes,
                size_t out_bytes, size_t scratch_bytes);
  // One rank: the output is the input.
  void copy_alone(const void* input, void* output, size_t bytes);
  void* scratch(size_t bytes);
  // Each channel of plan.layout: its links, receive slots registered, peers' slots learnt. Collective.
  void build_links(Plan& plan);
  // Receive slots (or staging) of `bytes` for a link over `pair`, in the memory that its
  // data path needs, registered.
  SlotMemory allocate_slots(size_t bytes, const transport::Pair& pair, bool staging,
                            std::shared_ptr<transport::MemoryRegion>& region);
  bool on_gpu() const { return options_.memory == transport::MemoryKind::Cuda; }
  // Whether GPU data to or from this pair goes through pinned host slots: the pair cannot
  // reach GPU memory itself (or a test asked every link to stage).
  bool stages(const transport::Pair& pair) const;

  bootstrap::Bootstrap& bootstrap_;
  transport::Context& context_;
  CommunicatorOptions options_;
  Topology topology_;
  Engine engine_;
  std::unique_ptr<StepQueue> queue_;  // null: arithmetic inline (host buffers)
  bool stage_all_ = false;            // every write leaves from a staging slot (tests)
  std::vector<int> peers_;  // connected, in rank order
  bool registers_buffers_ = false;  // some link writes from the user's buffers (does not stage)
  bool some_link_writes_from_buffers() const;
  std::optional<CostModel> cost_;
  CostModel cost_from_links();
  // One step of the engine between hosts, timed on a flat ring (collective).
  double ring_step_us();
  struct Resolved {
    Algorithm asked = Algorithm::Auto;
    size_t bytes = SIZE_MAX;
    Algorithm chosen = Algorithm::Auto;
  };
  Resolved last_resolved_;
  std::map<PlanKey, Plan> plans_;
  // Scratch, grown (at least doubling) to the largest call's need. Outgrown buffers are
  // kept: a transport may cache their registration by address, which a new buffer could reuse.
  std::vector<transport::Allocation> scratch_;
  size_t scratch_bytes_ = 0;
};

}  // namespace sxcoll
