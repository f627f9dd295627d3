#include "transport/verbs/qp.h"

#include <algorithm>
#include <random>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/verbs/link_rate.h"

namespace sxcoll::transport::verbs {

namespace {

uint32_t random_psn() {
  static thread_local std::mt19937 gen(std::random_device{}());
  return gen() & 0xffffff;
}

}  // namespace

QueuePair::QueuePair(const Rail& rail, ibv_cq* cq, const Options& options, int rank, int peer)
    : rail_(rail), options_(options), rank_(rank), peer_(peer), psn_(random_psn()) {
  ibv_qp_init_attr init{};
  init.send_cq = cq;
  init.recv_cq = cq;
  init.qp_type = IBV_QPT_RC;
  init.cap.max_send_wr = options.send_depth;
  init.cap.max_recv_wr = options.recv_depth;
  init.cap.max_send_sge = 1;
  init.cap.max_recv_sge = 1;
  qp_ = ::ibv_create_qp(rail.pd(), &init);
  if (qp_ == nullptr)
    throw RunError(fmt::format("rank {}: verbs: ibv_create_qp to rank {} on {} (send depth {}, receive depth {}) "
                               "failed: {}",
                               rank_, peer_, rail.name(), options.send_depth, options.recv_depth, errno_text(errno)));
  ibv_qp_attr attr{};
  attr.qp_state = IBV_QPS_INIT;
  attr.pkey_index = 0;
  attr.port_num = static_cast<uint8_t>(rail.port());
  attr.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
  if (int rc = ::ibv_modify_qp(qp_, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
    fail("ibv_modify_qp to INIT", rc);
}

QueuePair::~QueuePair() {
  if (qp_) ::ibv_destroy_qp(qp_);
}

std::string QueuePair::where() const {
  return fmt::format("rank {}: verbs: QP {:#x} to rank {} on {}", rank_, qpn(), peer_, rail_.name());
}

void QueuePair::fail(const std::string& call, int rc) const {
  throw RunError(fmt::format("{}: {} failed: {}", where(), call, errno_text(rc < 0 ? errno : rc)));
}

void QueuePair::connect(const RemoteQp& remote) {
  ibv_qp_attr attr{};
  attr.qp_state = IBV_QPS_RTR;
  // Both ends must agree: the smaller of the two ports' active MTUs, as perftest does.
  attr.path_mtu = static_cast<ibv_mtu>(std::min(rail_.active_mtu(), remote.mtu));
  attr.dest_qp_num = remote.qpn;
  attr.rq_psn = remote.psn;
  attr.max_dest_rd_atomic = 1;  // the key-table reads
  attr.min_rnr_timer = 12;      // 0.64 ms, NCCL's value
  attr.ah_attr.is_global = 1;
  attr.ah_attr.grh.dgid = remote.gid;
  attr.ah_attr.grh.sgid_index = static_cast<uint8_t>(rail_.gid_index());
  attr.ah_attr.grh.hop_limit = 255;
  attr.ah_attr.grh.traffic_class = static_cast<uint8_t>(options_.traffic_class);
  attr.ah_attr.sl = static_cast<uint8_t>(options_.service_level);
  attr.ah_attr.port_num = static_cast<uint8_t>(rail_.port());
  if (int rc = ::ibv_modify_qp(qp_, &attr,
                               IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
                                   IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
    fail(fmt::format("ibv_modify_qp to RTR (remote QP {:#x}, MTU {}, GID index {}, tc {}, sl {})", remote.qpn,
                     mtu_bytes(attr.path_mtu), rail_.gid_index(), options_.traffic_class, options_.service_level),
         rc);

  attr = ibv_qp_attr{};
  attr.qp_state = IBV_QPS_RTS;
  attr.timeout = static_cast<uint8_t>(options_.timeout);
  attr.retry_cnt = static_cast<uint8_t>(options_.retry_count);
  attr.rnr_retry = static_cast<uint8_t>(options_.rnr_retry);
  attr.sq_psn = psn_;
  attr.max_rd_atomic = 1;
  if (int rc = ::ibv_modify_qp(qp_, &attr,
                               IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
                                   IBV_QP_MAX_QP_RD_ATOMIC))
    fail(fmt::format("ibv_modify_qp to RTS (timeout {}, retry count {})", options_.timeout, options_.retry_count), rc);
}

void QueuePair::post_recv(uint64_t wr_id) {
  ibv_recv_wr wr{};
  wr.wr_id = wr_id;
  wr.sg_list = nullptr;
  wr.num_sge = 0;
  ibv_recv_wr* bad = nullptr;
  if (int rc = ::ibv_post_recv(qp_, &wr, &bad)) fail("ibv_post_recv", rc);
}

void QueuePair::post_send(ibv_send_wr& wr) {
  ibv_send_wr* bad = nullptr;
  if (int rc = ::ibv_post_send(qp_, &wr, &bad)) fail("ibv_post_send", rc);
}

}  // namespace sxcoll::transport::verbs
