// Picks a transport backend by name: the one switch between tcp, verbs and later others.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/transport.h"

namespace sxcoll::transport {

struct TransportOptions {
  std::string name = "tcp";
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

// Throws UsageError for a backend this build lacks.
std::unique_ptr<Context> make_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options);

}  // namespace sxcoll::transport
