#include "bench/nccl/nccl_engine.h"

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <exception>
#include <thread>

#include <fmt/core.h>

#include "bench/nccl/nccl_convert.h"
#include "bench/nccl/nccl_log.h"
#include "transport/deadline.h"
#include "transport/error.h"

namespace sxcoll::bench {

namespace {

// Busy polling keeps a short call's time exact; once a call has run this long, a nap
// between polls costs it little and spares a core.
constexpr auto kSpin = std::chrono::milliseconds(100);
constexpr auto kNap = std::chrono::microseconds(200);
// How often a wait asks the bootstrap whether another rank has failed.
constexpr auto kAbortPoll = std::chrono::milliseconds(10);
// wait() sees progress through events recorded behind the calls. A call of this size or
// more gets one of its own, so that a batch of long calls is never taken for a hang; small
// calls share one per millisecond of enqueueing (a few hundred of them at most), so that
// they run back to back as in nccl-tests, without an extra stream operation each.
constexpr size_t kMarkBytes = size_t{1} << 20;
constexpr auto kMarkEvery = std::chrono::milliseconds(1);

void check_cuda(cudaError_t err, int rank, const std::string& call) {
  if (err != cudaSuccess)
    throw RunError(fmt::format("rank {}: nccl: {} failed: {} ({})", rank, call, cudaGetErrorString(err),
                               cudaGetErrorName(err)));
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string call_text(Collective collective, size_t count, DataType type, RedOp op) {
  return fmt::format("{} of {} x {} ({})", collective_name(collective), count, dtype_name(type), redop_name(op));
}

// What the watchdog names when a call hangs inside NCCL.
const char* nccl_call_name(Collective collective) {
  switch (collective) {
    case Collective::AllReduce: return "ncclAllReduce";
    case Collective::AllGather: return "ncclAllGather";
    case Collective::ReduceScatter: return "ncclReduceScatter";
    case Collective::Broadcast: return "ncclBroadcast";
    case Collective::Reduce: return "ncclReduce";
    case Collective::AllToAll: return "ncclSend/ncclRecv (alltoall)";
    case Collective::SendRecv: return "ncclSend/ncclRecv (sendrecv)";
  }
  return "nccl";
}

std::string count_text(size_t calls) { return fmt::format("{} enqueued call{}", calls, calls == 1 ? "" : "s"); }

}  // namespace

NcclEngine::NcclEngine(bootstrap::Bootstrap& boot, int cuda_device, NcclLibrary& nccl,
                       std::chrono::milliseconds timeout)
    : boot_(boot),
      nccl_(nccl),
      rank_(boot.rank()),
      device_(cuda_device),
      timeout_(timeout),
      algo_(env_or_empty("NCCL_ALGO")),
      watchdog_(rank_, timeout) {
  int devices = 0;
  if (cudaError_t err = cudaGetDeviceCount(&devices); err != cudaSuccess || devices == 0)
    throw UsageError(fmt::format("rank {}: nccl: no CUDA device here ({})", rank_,
                                 err != cudaSuccess ? cudaGetErrorString(err) : "cudaGetDeviceCount found none"));
  if (cuda_device < 0 || cuda_device >= devices)
    throw UsageError(fmt::format("rank {}: nccl: there is no CUDA device {} here: this rank sees {} (0 to {})", rank_,
                                 cuda_device, devices, devices - 1));
  check_cuda(cudaSetDevice(cuda_device), rank_, fmt::format("cudaSetDevice({})", cuda_device));

  auto& log = nccl::LogCapture::process();
  log.arm();
  log_offset_ = log.end();
  try {
    nccl::ncclUniqueId id{};
    if (rank_ == 0) check(nccl_.api().ncclGetUniqueId(&id), "ncclGetUniqueId");
    const auto ids = boot_.allgather(rank_ == 0 ? nccl::to_hex(id) : std::string());
    const auto root_id = nccl::unique_id_from_hex(ids[0]);
    if (!root_id)
      throw RunError(fmt::format("rank {}: nccl: rank 0 sent no ncclUniqueId through the bootstrap ({} characters)",
                                 rank_, ids[0].size()));
    nccl::ncclResult_t r;
    {
      nccl::Watchdog::Guard guard(watchdog_, "ncclCommInitRank");
      r = nccl_.api().ncclCommInitRank(&comm_, boot_.size(), *root_id, rank_);
    }
    if (r != nccl::ncclSuccess) {
      // What a failed init leaves in comm_ differs between NCCL versions; a leak is the safe
      // side of a double free, and the process ends on this error anyway.
      comm_ = nullptr;
      fail(r, fmt::format("ncclCommInitRank (rank {} of {}, CUDA device {})", rank_, boot_.size(), device_));
    }
    log.settle();
    // A blocking stream: it runs after work on the legacy default stream, where a plain
    // cudaMemcpy fills the harness's buffers (from pageable memory such a copy may return
    // before its DMA has landed). Alone on the GPU it runs as a non-blocking one would.
    cudaStream_t stream = nullptr;
    check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamDefault), rank_, "cudaStreamCreateWithFlags");
    stream_ = stream;
  } catch (...) {
    log.settle();
    release(true);
    throw;
  }
}

NcclEngine::~NcclEngine() {
  const bool unwinding = std::uncaught_exceptions() > 0;
  if (!unwinding && comm_ && (unmarked_calls_ > 0 || !markers_.empty())) {
    // ncclCommDestroy would wait for these without a deadline; wait() has one (and aborts).
    try {
      wait();
    } catch (const std::exception& e) {
      print_error(e.what());
    }
  }
  release(unwinding);
}

void NcclEngine::release(bool abort) {
  if (comm_) {
    if (abort)
      nccl_.api().ncclCommAbort(comm_);
    else
      nccl_.api().ncclCommDestroy(comm_);
    comm_ = nullptr;
  }
  // Destroying events and a stream that the GPU still works on is allowed: CUDA frees them
  // when the work is done.
  for (const auto& m : markers_) cudaEventDestroy(m.done);
  markers_.clear();
  unmarked_calls_ = 0;
  for (cudaEvent_t e : idle_events_) cudaEventDestroy(e);
  idle_events_.clear();
  if (stream_) cudaStreamDestroy(stream_);
  stream_ = nullptr;
}

void NcclEngine::check(nccl::ncclResult_t result, const char* call) const {
  if (result != nccl::ncclSuccess) fail(result, call);
}

void NcclEngine::fail(nccl::ncclResult_t result, const std::string& call) const {
  throw RunError(fmt::format("rank {}: nccl: {} failed: {}", rank_, call, nccl_.error_text(result)));
}

void NcclEngine::abort_and_throw(const std::string& why) {
  release(true);
  throw RunError(fmt::format("rank {}: nccl: {}; communicator aborted", rank_, why));
}

std::vector<std::string> NcclEngine::transports() const {
  const auto& log = nccl::LogCapture::process();
  if (!log.capturing()) return {};
  return nccl::parse_transports(log.read_since(log_offset_));
}

std::string NcclEngine::describe() const {
  std::string transport;
  for (const auto& t : transports()) transport += (transport.empty() ? "" : ", ") + t;
  if (transport.empty()) {
    const auto& log = nccl::LogCapture::process();
    transport = log.capturing() ? "not connected yet (NCCL connects at the first collective)"
                                : fmt::format("not known ({})", log.why_not());
  }
  return fmt::format("nccl {}, transport: {}", nccl_.version(), transport);
}

std::string NcclEngine::algorithm_for(Collective, size_t) const { return algo_.empty() ? "nccl" : algo_; }

nccl::ncclResult_t NcclEngine::enqueue(const CollectiveCallArgs& c, const char*& what) {
  const nccl::Api& api = nccl_.api();
  const nccl::ncclDataType_t type = nccl::to_nccl(c.type);
  switch (c.collective) {
    case Collective::AllReduce:
      what = "ncclAllReduce";
      return api.ncclAllReduce(c.input, c.output, c.count, type, nccl::to_nccl(c.op), comm_, stream_);
    case Collective::AllGather:
      what = "ncclAllGather";
      return api.ncclAllGather(c.input, c.output, c.count, type, comm_, stream_);
    case Collective::ReduceScatter:
      what = "ncclReduceScatter";
      return api.ncclReduceScatter(c.input, c.output, c.count, type, nccl::to_nccl(c.op), comm_, stream_);
    case Collective::Broadcast:
      what = "ncclBroadcast";
      return api.ncclBroadcast(c.input, c.output, c.count, type, c.root, comm_, stream_);
    case Collective::Reduce:
      what = "ncclReduce";
      return api.ncclReduce(c.input, c.output, c.count, type, nccl::to_nccl(c.op), c.root, comm_, stream_);
    case Collective::AllToAll:
    case Collective::SendRecv:
      break;
  }
  if (!api.ncclSend || !api.ncclRecv)
    throw RunError(fmt::format("rank {}: nccl: {} needs ncclSend and ncclRecv, which NCCL {} lacks (2.7 and later)",
                               rank_, collective_name(c.collective), nccl_.version()));
  // nccl-tests' alltoall_perf and sendrecv_perf: point-to-point calls in one group.
  what = "ncclGroupStart";
  if (auto r = api.ncclGroupStart(); r != nccl::ncclSuccess) return r;
  const int n = boot_.size();
  const size_t block = c.count * dtype_size(c.type);
  nccl::ncclResult_t r = nccl::ncclSuccess;
  auto send = [&](const char* from, int peer) {
    if (r == nccl::ncclSuccess && (r = api.ncclSend(from, c.count, type, peer, comm_, stream_)) != nccl::ncclSuccess)
      what = "ncclSend";
  };
  auto recv = [&](char* into, int peer) {
    if (r == nccl::ncclSuccess && (r = api.ncclRecv(into, c.count, type, peer, comm_, stream_)) != nccl::ncclSuccess)
      what = "ncclRecv";
  };
  if (c.collective == Collective::SendRecv) {
    send(static_cast<const char*>(c.input), (rank_ + 1) % n);
    recv(static_cast<char*>(c.output), (rank_ + n - 1) % n);
  } else {
    for (int peer = 0; peer < n; ++peer) {
      send(static_cast<const char*>(c.input) + static_cast<size_t>(peer) * block, peer);
      recv(static_cast<char*>(c.output) + static_cast<size_t>(peer) * block, peer);
    }
  }
  // The group ends whatever happened inside it: NCCL's state stays consistent.
  const nccl::ncclResult_t end = api.ncclGroupEnd();
  if (r != nccl::ncclSuccess) return r;
  what = "ncclGroupEnd";
  return end;
}

void NcclEngine::run(const CollectiveCallArgs& c) {
  if (!comm_)
    throw RunError(fmt::format("rank {}: nccl: {} after the communicator was aborted", rank_,
                               collective_name(c.collective)));
  nccl::ncclResult_t r;
  const char* what = "nccl";
  {
    // The first call of a kind connects, inside NCCL.
    nccl::Watchdog::Guard guard(watchdog_, nccl_call_name(c.collective));
    r = enqueue(c, what);
  }
  if (r != nccl::ncclSuccess) fail(r, std::string(what) + ", " + call_text(c.collective, c.count, c.type, c.op));
  ++unmarked_calls_;
  last_call_ = {c.collective, c.count, c.type, c.op};
  if (c.count * dtype_size(c.type) >= kMarkBytes || Clock::now() - last_mark_ >= kMarkEvery) mark();
}

void NcclEngine::mark() {
  cudaEvent_t done = nullptr;
  if (idle_events_.empty()) {
    check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), rank_, "cudaEventCreateWithFlags");
  } else {
    done = idle_events_.back();
    idle_events_.pop_back();
  }
  markers_.push_back({done, unmarked_calls_, last_call_});
  unmarked_calls_ = 0;
  last_mark_ = Clock::now();
  check_cuda(cudaEventRecord(done, stream_), rank_, "cudaEventRecord");
}

void NcclEngine::wait() {
  if (unmarked_calls_ > 0) mark();
  auto last_progress = Clock::now();
  auto last_abort_poll = last_progress;
  while (!markers_.empty()) {
    const Marker& oldest = markers_.front();
    const cudaError_t state = cudaEventQuery(oldest.done);
    if (state == cudaSuccess) {
      idle_events_.push_back(oldest.done);
      markers_.pop_front();
      last_progress = Clock::now();
      continue;
    }
    // Formatted only on the way out: this loop spins.
    auto what = [&] { return call_text(oldest.last.collective, oldest.last.count, oldest.last.type, oldest.last.op); };
    if (state != cudaErrorNotReady)
      abort_and_throw(fmt::format("{} failed on the GPU: {} ({})", what(), cudaGetErrorString(state),
                                  cudaGetErrorName(state)));
    nccl::ncclResult_t async = nccl::ncclSuccess;
    check(nccl_.api().ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
    if (async != nccl::ncclSuccess && async != nccl::ncclInProgress)
      abort_and_throw(fmt::format("{}: NCCL reports {}", what(), nccl_.error_text(async)));
    const auto now = Clock::now();
    if (now - last_abort_poll >= kAbortPoll) {
      last_abort_poll = now;
      if (auto reason = boot_.poll_abort()) abort_and_throw(fmt::format("{} aborted: {}", what(), *reason));
    }
    if (now - last_progress > timeout_) {
      size_t unfinished = 0;
      for (const auto& m : markers_) unfinished += m.calls;
      abort_and_throw(fmt::format("{}: no progress for {} ms ({} unfinished)", what(), timeout_.count(),
                                  count_text(unfinished)));
    }
    if (now - last_progress > kSpin) std::this_thread::sleep_for(kNap);
  }
}

std::unique_ptr<BenchEngine> make_nccl_engine(bootstrap::Bootstrap& boot, int cuda_device,
                                              std::chrono::milliseconds timeout) {
  // Loaded once; kept for the process's life (see NcclLibrary).
  static NcclLibrary library;
  return std::make_unique<NcclEngine>(boot, cuda_device, library, timeout);
}

}  // namespace sxcoll::bench
