// The verbs backend's knobs, with NCCL's meanings (NCCL_IB_HCA, NCCL_IB_QPS_PER_CONNECTION,
// NCCL_IB_TC, NCCL_IB_SL, NCCL_IB_GID_INDEX, NCCL_IB_TIMEOUT, NCCL_IB_RETRY_CNT).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "transport/verbs/gid_table.h"
#include "transport/verbs/rail_affinity.h"

namespace sxcoll::transport::verbs {

struct Options {
  std::string hca;          // --hca: NCCL_IB_HCA syntax; empty: every active RoCE port
  int qps = 1;              // --qps: data QPs per connection on each rail; a large write is split over all
  int traffic_class = 0;    // --tc: GRH traffic class (DSCP << 2 | ECN) of every QP
  int service_level = 0;    // --sl
  int gid_index = -1;       // --gid-index: -1 picks the RoCE v2 GID of the port's IPv4 address
  int timeout = 20;         // --ib-timeout: ACK timeout, 4.096 us * 2^timeout (NCCL's default)
  int retry_count = 7;      // --ib-retry-cnt: retransmissions before IBV_WC_RETRY_EXC_ERR
  int rnr_retry = 7;        // 7: retry forever when the peer has no receive posted (it will)
  size_t min_split_bytes = size_t{64} << 10;  // smaller writes go whole on one QP
  uint32_t send_depth = 128;  // send work requests in flight per QP; more wait in software
  uint32_t recv_depth = 512;  // receive work requests kept posted per QP
  std::string sysfs_root = kSysfsInfiniband;
  std::string rails = "auto";  // --rails: which rail(s) this rank's links use (rail_affinity.h)
  std::string gpu_bus_id;      // the rank's GPU ("0000:18:00.0"), for the PCIe distance to each rail
  std::string pci_root = kSysfsPciDevices;
};

}  // namespace sxcoll::transport::verbs
