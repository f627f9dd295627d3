// The progress engine: runs step programs over channels, one loop for all of them, and
// turns every wait into one with a deadline and a reason.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectives/channel.h"
#include "collectives/dtype.h"
#include "collectives/step.h"
#include "collectives/step_queue.h"
#include "transport/bootstrap/bootstrap.h"
#include "transport/error.h"
#include "transport/transport.h"

namespace sxcoll {

struct CollectiveCall {
  std::string_view name;  // "allreduce (ring)": what error messages say was running
  const void* input = nullptr;
  void* output = nullptr;
  DataType type = DataType::Float32;
  RedOp op = RedOp::Sum;
  int nranks = 1;
  // Where the arithmetic runs: null for host buffers (done at once, on this thread).
  StepQueue* queue = nullptr;
  // The user's buffers as the transport sees them; null where every link stages.
  std::shared_ptr<transport::MemoryRegion> input_region;
  std::shared_ptr<transport::MemoryRegion> output_region;
  // Where steps marked to_scratch write and send from (null where no step does).
  void* scratch = nullptr;
  std::shared_ptr<transport::MemoryRegion> scratch_region;
};

// One program running on one channel; `partner` is the program its steps' `after` refers to.
struct Machine {
  Channel* channel = nullptr;
  const StepProgram* program = nullptr;
  const Machine* partner = nullptr;
  size_t next = 0;
  size_t size = 0;
};

class Engine {
 public:
  // An idle engine polls for `spin` before it sleeps in the kernel: a message that comes
  // within that window costs no wake-up. Zero when ranks outnumber cores: then a spinning
  // rank only takes the core its peer needs.
  Engine(transport::Context& context, bootstrap::Bootstrap& bootstrap, std::chrono::milliseconds timeout,
         std::chrono::microseconds spin);

  // Channels must be registered before their first arrival can come.
  uint32_t register_channel(Channel* channel);
  // Runs until every machine has done all its steps and every write of ours completed.
  // Throws RunError naming rank, peer, operation and cause.
  void run(std::vector<Machine>& machines, const CollectiveCall& call);
  // A completion for the engine that another user of the context took from progress()
  // between collectives (a credit that came after the call ended, seen by the link-latency
  // measurement): applied as if run() had seen it.
  void accept(const transport::Completion& c) { handle(c); }

 private:
  enum class Wait { None, Partner, Data, Credit, SendDone };
  struct Blocked {
    const Machine* machine = nullptr;
    Wait wait = Wait::None;
    int peer = -1;
  };
  struct ByteRange {
    const char* begin;
    size_t bytes;
  };
  // A step whose work is enqueued: its writes and credits go out once the work is done.
  struct PendingWrite {
    OutLink* link;
    const transport::MemoryRegion* region;
    size_t offset;
    size_t bytes;
    size_t dst_offset;
    uint32_t imm;
    uint64_t cookie;
  };
  struct PendingCredit {
    InLink* link;
    uint32_t imm;
  };
  struct PendingStep {
    uint64_t ticket = 0;
    uint8_t nwrites = 0;
    uint8_t ncredits = 0;
    std::array<PendingWrite, 2> writes;
    std::array<PendingCredit, 2> credits;
  };

  bool try_advance(Machine& m, const CollectiveCall& call, Blocked& blocked);
  void handle(const transport::Completion& c);
  bool overlaps_inflight(const char* p, size_t bytes) const;
  // Posts the writes and credits of the steps whose work finished, in step order.
  bool post_finished(StepQueue& queue);
  void drive(std::vector<Machine>& machines, const CollectiveCall& call);
  // "rank 0: allreduce (ring): no progress for 30000 ms, waiting for data from rank 1 (...)".
  RunError no_progress(const Blocked& blocked, const CollectiveCall& call) const;
  std::string describe(const Blocked& b, const CollectiveCall& call) const;

  transport::Context& context_;
  bootstrap::Bootstrap& bootstrap_;
  std::chrono::milliseconds timeout_;
  std::chrono::microseconds spin_;
  std::vector<Channel*> channels_;
  std::unordered_map<uint64_t, ByteRange> inflight_;  // cookie -> source bytes of a write
  uint64_t next_cookie_ = 1;                           // 0 marks credits
  size_t credits_in_flight_ = 0;
  std::vector<transport::Completion> completions_;
  std::deque<PendingStep> pending_;
  HostStepQueue host_queue_;
  // Where a call's reductions and copies go: its own queue (GPU buffers), else inline.
  StepQueue& queue_of(const CollectiveCall& call) { return call.queue ? *call.queue : host_queue_; }
};

}  // namespace sxcoll
