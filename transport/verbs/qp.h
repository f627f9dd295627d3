// One reliable-connected queue pair, driven INIT -> RTR -> RTS the way rdma-core's
// rc_pingpong does it: each step a call whose failure names itself, the rank, the peer,
// the rail and the QP number.
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>
#include <string>

#include "transport/verbs/device.h"
#include "transport/verbs/options.h"

namespace sxcoll::transport::verbs {

// What the other end of a QP told us through the bootstrap.
struct RemoteQp {
  uint32_t qpn = 0;
  uint32_t psn = 0;
  ibv_gid gid{};
  int mtu = 0;  // ibv_mtu code of its port
};

class QueuePair {
 public:
  // Creates the QP on `cq` (send and receive) and moves it to INIT. `rank` and `peer` go
  // into every message.
  QueuePair(const Rail& rail, ibv_cq* cq, const Options& options, int rank, int peer);
  ~QueuePair();
  QueuePair(const QueuePair&) = delete;
  QueuePair& operator=(const QueuePair&) = delete;

  uint32_t qpn() const { return qp_->qp_num; }
  uint32_t psn() const { return psn_; }
  const Rail& rail() const { return rail_; }
  // "rank 0: verbs: QP 0x1a2 to rank 1 on mlx5_0:1"
  std::string where() const;

  void connect(const RemoteQp& remote);  // RTR, then RTS
  void post_recv(uint64_t wr_id);        // no buffer: RDMA WRITE WITH IMM and empty SENDs only
  void post_send(ibv_send_wr& wr);

 private:
  [[noreturn]] void fail(const std::string& call, int rc) const;

  const Rail& rail_;
  Options options_;
  int rank_;
  int peer_;
  ibv_qp* qp_ = nullptr;
  uint32_t psn_ = 0;
};

}  // namespace sxcoll::transport::verbs
