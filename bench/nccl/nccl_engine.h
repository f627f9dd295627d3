// NCCL as an engine of the bench harness: the same allreduce, through libnccl loaded at
// run time, on device memory, with the deadlines and error messages of sxcoll's own.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "bench/engine.h"
#include "bench/nccl/nccl_api.h"
#include "bench/nccl/nccl_library.h"
#include "bench/nccl/nccl_watchdog.h"
#include "transport/bootstrap/bootstrap.h"

// cudaStream_t and cudaEvent_t are pointers to these; declared here so that files which
// include this one need no CUDA headers.
struct CUstream_st;
struct CUevent_st;

namespace sxcoll::bench {

class NcclEngine final : public BenchEngine {
 public:
  // Collective over `boot`'s ranks: makes `cuda_device` this thread's device, has rank 0
  // create the unique id and hand it to the others through the bootstrap, and creates the
  // communicator (ncclCommInitRank) and a stream. `timeout` bounds every wait: see wait().
  // ncclCommInitRank and a call that makes NCCL connect block inside NCCL: the watchdog
  // ends the process when one overruns `timeout`.
  NcclEngine(bootstrap::Bootstrap& boot, int cuda_device, NcclLibrary& nccl,
             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Destroys the communicator, or aborts it when unwinding from an error: a peer may be gone,
  // and only ncclCommAbort never waits for one.
  ~NcclEngine() override;
  NcclEngine(const NcclEngine&) = delete;
  NcclEngine& operator=(const NcclEngine&) = delete;

  std::string name() const override { return "nccl"; }
  // "nccl 2.28.9, transport: P2P/CUMEM/read". NCCL connects at the first collective, so the
  // transports are known only after one (each call reads NCCL's log afresh).
  std::string describe() const override;
  // NCCL picks per call and says nothing: NCCL_ALGO when the user set it, else "nccl".
  std::string algorithm_for(Collective collective, size_t bytes) const override;
  // Enqueues the collective on the engine's stream and returns (alltoall and sendrecv as
  // nccl-tests runs them: ncclSend/ncclRecv in a group); `input` and `output` are device
  // memory of cuda_device. The result is there once wait() returns.
  void run(const CollectiveCallArgs& call) override;
  // NCCL has no in-place alltoall or sendrecv (point-to-point calls on one buffer race);
  // nccl-tests does not check them either.
  bool defines_in_place(Collective c) const override {
    return c != Collective::AllToAll && c != Collective::SendRecv;
  }
  // Waits for every allreduce enqueued so far, so that a batch is timed as nccl-tests times
  // it: enqueue n, wait once. The deadline is `timeout` without progress (a large call, or a
  // millisecond's worth of small ones, finishing), so a batch of long calls is not cut short.
  // At the deadline, on an asynchronous NCCL error, or when the bootstrap says that another
  // rank failed, the communicator is aborted and RunError names rank, call and cause.
  void wait() override;

  // The transports NCCL connected so far on this rank; empty when not known (see describe()).
  std::vector<std::string> transports() const;

 private:
  struct Call {
    Collective collective;
    size_t count;
    DataType type;
    RedOp op;
  };
  // The NCCL calls of one collective; the first failing one's result, and its name.
  nccl::ncclResult_t enqueue(const CollectiveCallArgs& call, const char*& what);
  // An event recorded on the stream behind `calls` calls, the last of them `last`.
  struct Marker {
    CUevent_st* done;
    size_t calls;
    Call last;
  };

  void mark();
  void check(nccl::ncclResult_t result, const char* call) const;
  [[noreturn]] void fail(nccl::ncclResult_t result, const std::string& call) const;
  [[noreturn]] void abort_and_throw(const std::string& why);
  void release(bool abort);

  bootstrap::Bootstrap& boot_;
  NcclLibrary& nccl_;
  const int rank_;
  const int device_;
  const std::chrono::milliseconds timeout_;
  const std::string algo_;  // NCCL_ALGO, or empty
  nccl::Watchdog watchdog_;
  uint64_t log_offset_ = 0;
  nccl::ncclComm_t comm_ = nullptr;
  CUstream_st* stream_ = nullptr;
  std::deque<Marker> markers_;  // oldest first
  std::vector<CUevent_st*> idle_events_;
  size_t unmarked_calls_ = 0;  // enqueued since the last marker
  Call last_call_{};
  std::chrono::steady_clock::time_point last_mark_{};
};

}  // namespace sxcoll::bench
