// Rails: the RDMA ports a rank uses, found by ibv_get_device_list and ibv_query_port,
// chosen by --hca, each with its protection domain, completion channel, RoCE v2 GID,
// active MTU and line rate.
#pragma once

#include <infiniband/verbs.h>

#include <memory>
#include <string>
#include <vector>

#include "transport/verbs/options.h"

namespace sxcoll::transport::verbs {

class Rail {
 public:
  ~Rail();
  Rail(const Rail&) = delete;
  Rail& operator=(const Rail&) = delete;

  const std::string& device() const { return device_; }
  int port() const { return port_; }
  const std::string& name() const { return name_; }  // "mlx5_0:1": NCCL_IB_HCA's spelling
  ibv_context* context() const { return context_; }
  ibv_pd* pd() const { return pd_; }
  ibv_comp_channel* channel() const { return channel_; }
  int gid_index() const { return gid_index_; }
  const ibv_gid& gid() const { return gid_; }
  const std::string& gid_text() const { return gid_text_; }
  const std::string& gid_type() const { return gid_type_; }
  const std::string& netdev() const { return netdev_; }
  int active_mtu() const { return active_mtu_; }  // ibv_mtu code
  double rate_gbps() const { return rate_gbps_; }
  uint32_t max_msg_bytes() const { return max_msg_bytes_; }
  int max_qp_wr() const { return max_qp_wr_; }
  int max_cqe() const { return max_cqe_; }
  // "mlx5_0:1 GID 3 ::ffff:10.0.0.1 (RoCE v2, eth0) MTU 4096 400 Gb/s"
  std::string describe() const;

 private:
  friend std::vector<std::unique_ptr<Rail>> open_rails(const Options&, int);
  Rail() = default;

  std::string device_, name_;
  int port_ = 0;
  ibv_context* context_ = nullptr;
  ibv_pd* pd_ = nullptr;
  ibv_comp_channel* channel_ = nullptr;
  int gid_index_ = -1;
  ibv_gid gid_{};
  std::string gid_text_, gid_type_, netdev_;
  int active_mtu_ = 0;
  double rate_gbps_ = 0;
  uint32_t max_msg_bytes_ = 0;
  int max_qp_wr_ = 0;
  int max_cqe_ = 0;
};

// A port as discovery found it, before it is opened for use.
struct PortFound {
  std::string device;
  int port = 0;
  bool active = false;
  bool ethernet = false;
  std::string name() const { return device + ":" + std::to_string(port); }
};

// Every port of every device, in name order.
std::vector<PortFound> list_ports();
// The ports `options.hca` selects that are active RoCE ports, in name order; throws
// UsageError (naming what was found and why it was left out) when none is.
std::vector<PortFound> select_ports(const Options& options);
// Opens the selected ports as rails. `rank` only goes into messages.
std::vector<std::unique_ptr<Rail>> open_rails(const Options& options, int rank);

}  // namespace sxcoll::transport::verbs
