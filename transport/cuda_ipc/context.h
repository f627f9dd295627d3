// The CUDA IPC backend: GPU buffers between the ranks of one host. A region of device
// memory is exported as a CUDA IPC handle (cuIpcGetMemHandle of its allocation, plus the
// offset); a peer opens it once and writes into it with a copy on its own stream, over
// NVLink where the GPUs have it (or within one GPU). A write's arrival is announced through
// the shared-memory mailbox of transport/shm once the copy has finished, so the receiver's
// kernels, launched after the announcement, read landed bytes. The driver API is loaded at
// run time (transport/cuda_driver.h): this backend builds everywhere and says at run time
// when there is no CUDA.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/cuda_driver.h"
#include "transport/shm/context.h"
#include "transport/transport.h"

namespace sxcoll::transport::cuda_ipc {

// Whether this process can load the driver entry points CUDA IPC needs.
bool available();

class Pair;

class Context final : public transport::Context {
 public:
  // Collective (the mailbox below is). The calling thread's CUDA device must be current.
  // `receiver_reads`: the pairs' receivers read the senders' staging slots in place
  // (--cuda-ipc read, transport::Pair::receiver_reads) instead of the senders copying into
  // the receivers' slots.
  explicit Context(bootstrap::Bootstrap& bootstrap, bool receiver_reads = false);
  ~Context() override;

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string describe() const override {
    return receiver_reads_ ? "cuda_ipc (receivers' kernels read the senders' GPU memory, shm mailbox)"
                           : "cuda_ipc (copies into peer GPU memory, shm mailbox)";
  }
  void connect(const std::vector<int>& peers) override;
  transport::Pair& pair(int peer) override;
  std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind) override;
  bool registers_gpu_memory() const override { return true; }
  Allocation allocate_host(size_t bytes) override { return mailbox_.allocate_host(bytes); }
  void progress(std::vector<Completion>& out, int timeout_ms) override;
  std::vector<RailCounters> counters() const override;

  // For the pairs: a copy into a peer's memory, announced once it has landed.
  void copy(int peer, cuda::CUdeviceptr dst, cuda::CUdeviceptr src, size_t len, uint32_t imm, uint64_t cookie);
  // A peer's region, opened once per exported allocation.
  cuda::CUdeviceptr open(int peer, const std::string& ipc);
  bool receiver_reads() const { return receiver_reads_; }
  // Announces bytes that are in place already (receiver_reads): the write is done at once.
  void announce(int peer, uint32_t imm, size_t len, uint64_t cookie);
  shm::Context& mailbox() { return mailbox_; }

 private:
  struct InFlight {
    cuda::CUevent done;
    int peer;
    uint32_t imm;
    size_t bytes;
    uint64_t cookie;
  };
  void check(cuda::CUresult rc, const char* call) const;
  cuda::CUevent take_event();

  bootstrap::Bootstrap& bootstrap_;
  bool receiver_reads_;
  shm::Context mailbox_;
  std::vector<Completion> announced_;  // writes done at once, reported by the next progress()
  cuda::CUstream stream_ = nullptr;
  std::deque<InFlight> in_flight_;  // copies finish in stream order
  std::vector<cuda::CUevent> spare_events_;
  std::map<std::string, cuda::CUdeviceptr> opened_;  // by "allocation handle" of a peer
  std::map<std::pair<uintptr_t, size_t>, std::shared_ptr<MemoryRegion>> regions_;
  std::map<int, std::unique_ptr<Pair>> pairs_;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
};

class Pair final : public transport::Pair {
 public:
  Pair(Context& context, int peer) : context_(context), peer_(peer) {}
  int peer() const override { return peer_; }
  void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
             uint32_t imm, uint64_t cookie) override;
  void notify(uint32_t imm, uint64_t cookie) override;
  std::string gpu_direct() const override { return "cuda_ipc"; }
  std::string_view transport() const override { return "cuda_ipc"; }
  // A copy engine's launch and an event poll per message; NVLink's bandwidth between two
  // H200 (NCCL reaches 348 GB/s busbw there, docs/PERFORMANCE.md).
  LinkCost cost() const override { return LinkCost{12.0, 300000.0}; }
  bool receiver_reads() const override { return context_.receiver_reads(); }
  void* map_peer(const RemoteRegion& region) override;

 private:
  Context& context_;
  int peer_;
};

}  // namespace sxcoll::transport::cuda_ipc
