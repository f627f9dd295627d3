// Fixed facts of the fabric, detected rather than tuned, each with how it was found:
// NCCL_IB_HCA (the active RoCE ports), NCCL_IB_GID_INDEX (their RoCE v2 IPv4 GID) and
// NCCL_SOCKET_IFNAME (the interface that carries the rendezvous address). sysfs and procfs
// are read as text (the GID parser is the verbs backend's), so tests run on a fake tree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "transport/bootstrap/launch_env.h"

namespace sxcoll::tune {

struct RdmaPort {
  std::string device;
  int port = 0;
  std::string state;             // "ACTIVE", from sysfs's "4: ACTIVE"
  std::string link_layer;        // "Ethernet" (RoCE) or "InfiniBand"
  std::string rate;              // "400 Gb/sec (4X NDR)"
  std::optional<int> gid_index;  // RoCE: the RoCE v2 GID of the port's IPv4 address
  std::string gid_text, netdev;
  std::string name() const { return device + ":" + std::to_string(port); }
  bool active() const { return state == "ACTIVE"; }
  bool roce() const { return link_layer == "Ethernet"; }
};

// Every port under <root>/<device>/ports/<port>; none when root does not exist.
std::vector<RdmaPort> read_rdma_ports(const std::string& root);

struct FixedFact {
  std::string name;   // "NCCL_IB_HCA"
  std::string value;  // empty: not set, `how` says why
  std::string how;
};

// The ports NCCL should use: the active RoCE ports (active InfiniBand ones when there is no
// RoCE port), written with '=' when a name alone would also select a port not meant.
std::vector<RdmaPort> chosen_ports(const std::vector<RdmaPort>& ports);
FixedFact ib_hca_fact(const std::vector<RdmaPort>& ports, const std::string& root);
FixedFact gid_index_fact(const std::vector<RdmaPort>& ports);

struct Interface {
  std::string name;
  std::string ipv4;
};
std::vector<Interface> list_interfaces();  // getifaddrs, IPv4 only

// The interface of the lowest-metric default route in /proc/net/route's text.
std::optional<std::string> default_route_interface(const std::string& proc_net_route);

// The rendezvous host: SXCOLL_MASTER's or MASTER_ADDR's; nullopt when neither is set.
struct RendezvousHost {
  std::string host;
  std::string source;  // "SXCOLL_MASTER", "MASTER_ADDR"
};
std::optional<RendezvousHost> rendezvous_host(const bootstrap::EnvLookup& env);

// `local_ipv4`: the address this host uses to reach the rendezvous host (its own address when
// it is this host), or nullopt when there is no rendezvous host or it could not be resolved
// (`resolve_note` then says why).
FixedFact socket_ifname_fact(const std::optional<RendezvousHost>& rendezvous,
                             const std::optional<std::string>& local_ipv4, const std::string& resolve_note,
                             const std::vector<Interface>& interfaces, const std::string& proc_net_route);

struct FabricFacts {
  std::vector<RdmaPort> ports;
  std::vector<FixedFact> facts;  // NCCL_IB_HCA, NCCL_IB_GID_INDEX, NCCL_SOCKET_IFNAME
  bool rdma() const { return !chosen_ports(ports).empty(); }
};

// Reads this machine: sysfs at `sysfs_root`, /proc/net/route, getifaddrs, the environment.
FabricFacts detect_fabric(const bootstrap::EnvLookup& env, const std::string& sysfs_root);

}  // namespace sxcoll::tune
