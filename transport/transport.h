// The transport contract: what every backend (tcp, verbs) offers the collectives.
//
// The model is the one RDMA hardware offers, so that the verbs backend maps onto it
// one to one: a rank writes bytes from its registered memory into a peer's registered
// memory (RDMA WRITE WITH IMMEDIATE); the peer learns of the arrival through a completion
// carrying the 32-bit immediate. A backend with several streams per connection (QPs,
// sockets) stripes a write over them and reports its arrival once. Nothing blocks except
// progress(), which also is the only place completions come from: one loop drives all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "transport/memory.h"

namespace sxcoll::transport {

// Sent completions of one pair may come in any order (TCP's threads report a striped write
// when its last socket is done, a small write sent by the caller at once): match by cookie.
// Arrived completions may come out of order too (writes striped over several sockets or
// QPs): the engine places each by the sequence number in its immediate.
struct Completion {
  enum class Type : uint8_t {
    Sent,     // a write (or notify) of ours finished: its source may be reused
    Arrived,  // a peer's write landed in our memory, or its notify came
  };
  Type type;
  int peer;
  uint32_t imm;     // Arrived: the immediate the peer sent
  size_t bytes;     // Arrived: bytes written
  uint64_t cookie;  // Sent: the cookie given to write()/notify()
};

// Bytes moved, for the bench's per-rail report.
struct RailCounters {
  std::string rail;  // "lo", "mlx5_0:1", ...
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

// What one message over a pair costs, for the collectives' cost model (--algo auto): a
// latency per message and a bandwidth, from what the backend knows or measured of its link.
struct LinkCost {
  double alpha_us = 20.0;
  double beta_bytes_per_us = 2000.0;
};

// A connection to one peer.
class Pair {
 public:
  virtual ~Pair() = default;
  virtual int peer() const = 0;

  // Writes [src.base + src_offset, +len) into the peer's `dst` at `dst_offset` and signals
  // `imm` to the peer. len may exceed 4 GiB. Returns at once; see Completion.
  virtual void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst,
                     size_t dst_offset, uint32_t imm, uint64_t cookie) = 0;

  // A write of zero bytes: only `imm` reaches the peer (credits, flags).
  virtual void notify(uint32_t imm, uint64_t cookie) = 0;

  // How this connection reaches GPU memory at either end itself: "cuda_ipc" (a peer GPU
  // of this host), "dmabuf" or "peermem" (GPUDirect RDMA), or empty when it cannot and
  // callers stage GPU data through host memory. A property of the pair: one rank may
  // reach its node's GPUs directly and stage towards other hosts.
  virtual std::string gpu_direct() const { return {}; }
  // The backend that carries this connection, for the bench header: "tcp", "shm", ...
  virtual std::string_view transport() const = 0;
  virtual LinkCost cost() const = 0;

  // Whether the receiver reads what this pair carries where the sender left it (cuda_ipc
  // with --cuda-ipc read): the sender stages into slots of its own GPU memory, registered;
  // the receiver maps them (map_peer) and its reduction kernels read them through the
  // mapping, over NVLink between GPUs; a write of a staged slot, naming that same slot as
  // its destination, only announces it. Otherwise a write lands in the receiver's slots.
  virtual bool receiver_reads() const { return false; }
  // This process's address of a peer's region, for receiver_reads pairs.
  virtual void* map_peer(const RemoteRegion&) {
    throw std::logic_error(std::string(transport()) + ": map_peer on a pair whose receiver does not read");
  }
};

// One rank's endpoint: its connections, registered memory and progress engine.
class Context {
 public:
  virtual ~Context() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // For the bench header: "tcp, 2 sockets per peer".
  virtual std::string describe() const = 0;

  // Connects to `peers`. Collective: every rank calls it at the same point, and the peer
  // sets are symmetric (a lists b exactly when b lists a). Peers already connected are kept.
  virtual void connect(const std::vector<int>& peers) = 0;
  virtual Pair& pair(int peer) = 0;

  // Registration is cached by the backend: registering the same range again is cheap.
  // MemoryKind::Cuda only where some pair's gpu_direct() is not empty; a backend that
  // cannot reach GPU memory returns a region no pair of it writes into or from.
  virtual std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind) = 0;
  // Whether register_memory() takes GPU memory that this backend's pairs then write into
  // and from directly (GPUDirect RDMA, CUDA IPC).
  virtual bool registers_gpu_memory() const { return false; }

  // Host memory that peers can write into once registered (receive slots): pages of a
  // segment that the ranks of this host can map (shm), plain pages for the network.
  virtual Allocation allocate_host(size_t bytes) { return allocate_pages(bytes); }

  // Moves bytes; appends completions to `out`. Waits up to `timeout_ms` for the first
  // event when nothing is ready (0: never waits). Throws PeerError on a broken connection.
  virtual void progress(std::vector<Completion>& out, int timeout_ms) = 0;

  virtual std::vector<RailCounters> counters() const = 0;
  // Every rank's rail (0.., in --hca order), by rank: the one its network links keep to
  // where their peer drives it too, or -1 where its links use every rail. Empty for
  // backends without rails. Collective on the first call where not empty (verbs: the same
  // exchange that connect() needs).
  virtual std::vector<int> driven_rails() { return {}; }
};

}  // namespace sxcoll::transport
