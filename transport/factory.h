// Picks a transport backend by name: the one switch between tcp, verbs and later others.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/transport.h"

namespace sxcoll::transport {

struct TransportOptions {
  std::string name = "tcp";  // --transport: the network between hosts
  // --intra: what carries the links between ranks of one host: "shm" (host buffers),
  // "cuda_ipc" (GPU buffers), "net" (the network backend, as between hosts), or "auto":
  // shm or cuda_ipc by `memory`, where this build has it and some host runs several ranks.
  std::string intra = "auto";
  // --cuda-ipc: "write" (a sender copies into the receiver's GPU slots) or "read" (the
  // receiver's kernels read the sender's staging slots in place; transport::Pair::receiver_reads).
  std::string cuda_ipc = "write";
  MemoryKind memory = MemoryKind::Host;  // where the collectives' buffers live (--mem)
  int sockets_per_peer = 1;  // tcp: --nsocks
  // tcp: --tcp-io: "threads" (a sender and a receiver thread per socket), "inline" (all I/O
  // on the caller's thread) or "auto": threads where each local rank has 4 cores or more.
  std::string tcp_io = "auto";
  // verbs (NCCL's variable in brackets):
  std::string hca;          // --hca: ports to use, NCCL_IB_HCA syntax; empty: every active RoCE port
  int qps = 1;              // --qps: QPs per connection and rail (NCCL_IB_QPS_PER_CONNECTION)
  int traffic_class = 0;    // --tc (NCCL_IB_TC)
  int service_level = 0;    // --sl (NCCL_IB_SL)
  int gid_index = -1;       // --gid-index (NCCL_IB_GID_INDEX); -1: the RoCE v2 GID of the port's IPv4 address
  int ib_timeout = 20;      // --ib-timeout (NCCL_IB_TIMEOUT): ACK timeout 4.096 us * 2^N
  int ib_retry_count = 7;   // --ib-retry-cnt (NCCL_IB_RETRY_CNT)
  // --rails: auto, all, local, or a rail per local rank (transport/verbs/rail_affinity.h).
  std::string rails = "auto";
  std::string gpu_bus_id;  // the rank's GPU, where its buffers are on one: the nearest rail
};

// A rail of a context, for the bench header; backends without rails have none.
struct LinkInfo {
  std::string name;    // "mlx5_0:1"
  std::string detail;  // "mlx5_0:1 GID 3 ::ffff:10.0.0.1 (RoCE v2, eth0) MTU 4096 400 Gb/s"
  double rate_gbps = 0;
};
std::vector<LinkInfo> link_info(const Context& context);

// One set of options per rail that `options` selects, each selecting that rail alone
// (the per-link check measures rail by rail); a backend without rails gives `options`.
// Opens no connection; for verbs it looks at the devices.
std::vector<TransportOptions> per_rail(const TransportOptions& options);

// Throws UsageError for an unknown backend or a knob out of range.
void validate(const TransportOptions& options);

// Names of the backends this build has.
std::vector<std::string> available_transports();

// The intra-node backend `options` resolves to on this build: "shm", "cuda_ipc" or "net".
std::string resolve_intra(const TransportOptions& options);

// The context of a run: the network backend alone, or the routing context over it and the
// intra-node backend where a host runs several ranks. Collective. Throws UsageError for a
// backend this build lacks.
std::unique_ptr<Context> make_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options);
// The network backend alone, for the per-rail link check.
std::unique_ptr<Context> make_network_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options);

}  // namespace sxcoll::transport
