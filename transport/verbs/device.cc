#include "transport/verbs/device.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/verbs/gid_table.h"
#include "transport/verbs/hca_list.h"
#include "transport/verbs/link_rate.h"
#include "transport/verbs/wire.h"

namespace sxcoll::transport::verbs {

namespace {

struct DeviceList {
  ibv_device** devices = nullptr;
  int count = 0;
  DeviceList() { devices = ::ibv_get_device_list(&count); }
  ~DeviceList() {
    if (devices) ::ibv_free_device_list(devices);
  }
};

struct OpenedDevice {
  ibv_context* context = nullptr;
  explicit OpenedDevice(ibv_device* device) : context(::ibv_open_device(device)) {}
  ~OpenedDevice() {
    if (context) ::ibv_close_device(context);
  }
  ibv_context* release() { return std::exchange(context, nullptr); }
};

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

Rail::~Rail() {
  if (channel_) ::ibv_destroy_comp_channel(channel_);
  if (pd_) ::ibv_dealloc_pd(pd_);
  if (context_) ::ibv_close_device(context_);
}

std::string Rail::describe() const {
  std::string type = gid_type_.empty() ? "" : gid_type_;
  if (!netdev_.empty()) type += (type.empty() ? "" : ", ") + netdev_;
  return fmt::format("{} GID {} {}{} MTU {} {} Gb/s", name_, gid_index_, gid_text_,
                     type.empty() ? "" : fmt::format(" ({})", type), mtu_bytes(active_mtu_), rate_gbps_);
}

std::vector<PortFound> list_ports() {
  DeviceList list;
  std::vector<PortFound> ports;
  if (list.devices == nullptr) return ports;
  for (int d = 0; d < list.count; ++d) {
    const char* name = ::ibv_get_device_name(list.devices[d]);
    OpenedDevice dev(list.devices[d]);
    if (dev.context == nullptr) continue;
    ibv_device_attr attr{};
    if (::ibv_query_device(dev.context, &attr) != 0) continue;
    for (int p = 1; p <= attr.phys_port_cnt; ++p) {
      ibv_port_attr port{};
      if (::ibv_query_port(dev.context, static_cast<uint8_t>(p), &port) != 0) continue;
      ports.push_back(PortFound{name, p, port.state == IBV_PORT_ACTIVE, port.link_layer == IBV_LINK_LAYER_ETHERNET});
    }
  }
  std::sort(ports.begin(), ports.end(), [](const PortFound& a, const PortFound& b) {
    return a.device != b.device ? a.device < b.device : a.port < b.port;
  });
  return ports;
}

std::vector<PortFound> select_ports(const Options& options) {
  const HcaList hca = HcaList::parse(options.hca);
  const auto ports = list_ports();
  std::vector<PortFound> chosen;
  std::vector<std::string> left_out;
  for (const auto& p : ports) {
    if (!hca.selects(p.device, p.port)) {
      left_out.push_back(fmt::format("{} (not in --hca)", p.name()));
    } else if (!p.active) {
      left_out.push_back(fmt::format("{} (port not active)", p.name()));
    } else if (!p.ethernet) {
      left_out.push_back(fmt::format("{} (link layer InfiniBand, not RoCE)", p.name()));
    } else {
      chosen.push_back(p);
    }
  }
  if (chosen.empty()) {
    std::string found = ports.empty() ? "no RDMA device found (is the driver loaded, /dev/infiniband present?)"
                                      : "found: " + [&] {
                                          std::string s;
                                          for (const auto& l : left_out) s += (s.empty() ? "" : ", ") + l;
                                          return s;
                                        }();
    throw UsageError(fmt::format("--transport verbs: no active RoCE port{}; {}",
                                 hca.empty() ? "" : fmt::format(" matches --hca {}", hca.str()), found));
  }
  if (chosen.size() > static_cast<size_t>(kMaxRails))
    throw UsageError(fmt::format("--hca: {} ports selected, at most {} rails are supported; name them with --hca",
                                 chosen.size(), kMaxRails));
  return chosen;
}

std::vector<std::unique_ptr<Rail>> open_rails(const Options& options, int rank) {
  const auto chosen = select_ports(options);
  DeviceList list;
  std::vector<std::unique_ptr<Rail>> rails;
  for (const auto& p : chosen) {
    ibv_device* device = nullptr;
    for (int d = 0; d < list.count; ++d)
      if (p.device == ::ibv_get_device_name(list.devices[d])) device = list.devices[d];
    auto fail = [&](const std::string& call, int err) -> RunError {
      return RunError(fmt::format("rank {}: verbs: {} on {} failed: {}", rank, call, p.name(), errno_text(err)));
    };
    if (device == nullptr) throw RunError(fmt::format("rank {}: verbs: {} disappeared", rank, p.name()));
    std::unique_ptr<Rail> rail(new Rail());
    rail->device_ = p.device;
    rail->port_ = p.port;
    rail->name_ = p.name();
    OpenedDevice dev(device);
    if (dev.context == nullptr) throw fail("ibv_open_device", errno);
    rail->context_ = dev.release();
    set_nonblocking(rail->context_->async_fd);

    ibv_device_attr dattr{};
    if (int rc = ::ibv_query_device(rail->context_, &dattr); rc != 0) throw fail("ibv_query_device", rc);
    rail->max_qp_wr_ = dattr.max_qp_wr;
    rail->max_cqe_ = dattr.max_cqe;
    ibv_port_attr pattr{};
    if (int rc = ::ibv_query_port(rail->context_, static_cast<uint8_t>(p.port), &pattr); rc != 0)
      throw fail("ibv_query_port", rc);
    rail->active_mtu_ = pattr.active_mtu;
    rail->rate_gbps_ = port_rate_gbps(pattr.active_speed, pattr.active_width);
    rail->max_msg_bytes_ = pattr.max_msg_sz;

    if (options.gid_index >= 0) {
      if (options.gid_index >= pattr.gid_tbl_len)
        throw UsageError(fmt::format("--gid-index {}: {} has {} GID entries", options.gid_index, p.name(),
                                     pattr.gid_tbl_len));
      rail->gid_index_ = options.gid_index;
    } else {
      GidTable table = GidTable::read(options.sysfs_root, p.device, p.port);
      auto chosen_index = table.choose_roce_v2();
      if (!chosen_index)
        throw UsageError(fmt::format(
            "--transport verbs: {} has no RoCE v2 GID of an IPv4 (or global IPv6) address ({}); give --gid-index",
            p.name(), table.summary()));
      rail->gid_index_ = *chosen_index;
    }
    if (int rc = ::ibv_query_gid(rail->context_, static_cast<uint8_t>(p.port), rail->gid_index_, &rail->gid_); rc != 0)
      throw fail(fmt::format("ibv_query_gid (index {})", rail->gid_index_), rc == -1 ? errno : rc);
    GidEntry entry;
    std::memcpy(entry.raw.data(), rail->gid_.raw, 16);
    rail->gid_text_ = entry.text();
    try {
      GidTable table = GidTable::read(options.sysfs_root, p.device, p.port);
      if (const GidEntry* e = table.at(rail->gid_index_)) {
        rail->gid_type_ = e->type;
        rail->netdev_ = e->netdev;
      }
    } catch (const RunError&) {
      // No sysfs (a container without it): the GID still works, only its type is unknown.
    }
    if (std::all_of(entry.raw.begin(), entry.raw.end(), [](uint8_t b) { return b == 0; }))
      throw UsageError(fmt::format("--gid-index {}: entry {} of {} is empty", rail->gid_index_, rail->gid_index_,
                                   p.name()));

    rail->pd_ = ::ibv_alloc_pd(rail->context_);
    if (rail->pd_ == nullptr) throw fail("ibv_alloc_pd", errno);
    rail->channel_ = ::ibv_create_comp_channel(rail->context_);
    if (rail->channel_ == nullptr) throw fail("ibv_create_comp_channel", errno);
    set_nonblocking(rail->channel_->fd);
    rails.push_back(std::move(rail));
  }
  return rails;
}

}  // namespace sxcoll::transport::verbs
