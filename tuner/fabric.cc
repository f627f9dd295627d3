#include "tuner/fabric.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>

#include "transport/verbs/gid_table.h"
#include "transport/verbs/hca_list.h"
#include "transport/verbs/sysfs.h"

namespace sxcoll::tune {

namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string describe(const RdmaPort& p) {
  return fmt::format("{} ({}, {}{})", p.name(), p.state.empty() ? "state unknown" : p.state,
                     p.link_layer.empty() ? "link layer unknown" : p.link_layer, p.rate.empty() ? "" : ", " + p.rate);
}

// The local IPv4 address this host sends from to reach `ipv4`: a connected UDP socket
// sends nothing, but the kernel picks its route and source address.
std::optional<std::string> source_address_towards(const std::string& ipv4) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  if (::inet_pton(AF_INET, ipv4.c_str(), &to.sin_addr) != 1) return std::nullopt;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> out;
  sockaddr_in from{};
  socklen_t len = sizeof from;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&from), &len) == 0) {
    char buf[INET_ADDRSTRLEN] = {};
    if (::inet_ntop(AF_INET, &from.sin_addr, buf, sizeof buf) != nullptr) out = buf;
  }
  ::close(fd);
  return out;
}

std::optional<std::string> resolve_ipv4(const std::string& host, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    error = ::gai_strerror(rc);
    return std::nullopt;
  }
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
  ::freeaddrinfo(res);
  return std::string(buf);
}

// NCCL reads a bare interface name as a prefix: '=' asks for the exact name when another
// interface starts with it (eth1 and eth10).
std::string exact_if_needed(const std::string& name, const std::vector<Interface>& interfaces) {
  for (const auto& i : interfaces)
    if (i.name != name && i.name.rfind(name, 0) == 0) return "=" + name;
  return name;
}

}  // namespace

std::vector<RdmaPort> read_rdma_ports(const std::string& root) {
  std::vector<RdmaPort> ports;
  std::error_code ec;
  for (const auto& dev : fs::directory_iterator(root, ec)) {
    std::error_code ec2;
    for (const auto& port_dir : fs::directory_iterator(dev.path() / "ports", ec2)) {
      RdmaPort p;
      p.device = dev.path().filename().string();
      try {
        p.port = std::stoi(port_dir.path().filename().string());
      } catch (const std::exception&) {
        continue;
      }
      const std::string state = transport::verbs::read_sysfs_line(port_dir.path() / "state");  // "4: ACTIVE"
      const size_t colon = state.find(':');
      p.state = colon == std::string::npos ? state : state.substr(state.find_first_not_of(' ', colon + 1));
      p.link_layer = transport::verbs::read_sysfs_line(port_dir.path() / "link_layer");
      p.rate = transport::verbs::read_sysfs_line(port_dir.path() / "rate");
      if (p.roce()) {
        try {
          auto table = transport::verbs::GidTable::read(root, p.device, p.port);
          p.gid_index = table.choose_roce_v2();
          if (p.gid_index) {
            p.gid_text = table.at(*p.gid_index)->text();
            p.netdev = table.at(*p.gid_index)->netdev;
          }
        } catch (const std::exception&) {
          // No GID table: the port has no usable GID, which gid_index_fact reports.
        }
      }
      ports.push_back(std::move(p));
    }
  }
  std::sort(ports.begin(), ports.end(), [](const RdmaPort& a, const RdmaPort& b) {
    return std::tie(a.device, a.port) < std::tie(b.device, b.port);
  });
  return ports;
}

std::vector<RdmaPort> chosen_ports(const std::vector<RdmaPort>& ports) {
  std::vector<RdmaPort> roce, ib;
  for (const auto& p : ports) {
    if (!p.active()) continue;
    (p.roce() ? roce : ib).push_back(p);
  }
  return roce.empty() ? ib : roce;
}

FixedFact ib_hca_fact(const std::vector<RdmaPort>& ports, const std::string& root) {
  FixedFact f{"NCCL_IB_HCA", "", ""};
  const auto chosen = chosen_ports(ports);
  if (chosen.empty()) {
    f.how = ports.empty() ? fmt::format("not set: no RDMA device in {}", root)
                          : fmt::format("not set: no active port in {} ({})", root,
                                        fmt::join(
                                            [&] {
                                              std::vector<std::string> d;
                                              for (const auto& p : ports) d.push_back(describe(p));
                                              return d;
                                            }(),
                                            ", "));
    return f;
  }
  std::vector<std::string> names, used, unused;
  for (const auto& p : chosen) {
    names.push_back(p.name());
    used.push_back(describe(p));
  }
  for (const auto& p : ports)
    if (std::none_of(chosen.begin(), chosen.end(), [&](const RdmaPort& c) { return c.name() == p.name(); }))
      unused.push_back(describe(p));
  // NCCL reads a bare name as a prefix (mlx5_1 also selects mlx5_10): exact names when that matters.
  std::string value = fmt::format("{}", fmt::join(names, ","));
  auto list = transport::verbs::HcaList::parse(value, "NCCL_IB_HCA");
  for (const auto& p : ports) {
    const bool meant = std::find(names.begin(), names.end(), p.name()) != names.end();
    if (list.selects(p.device, p.port) != meant) value = "=" + value;
    if (value[0] == '=') break;
  }
  f.value = value;
  f.how =
      fmt::format("active {} port(s) in {}: {}{}", chosen.front().roce() ? "RoCE" : "InfiniBand", root,
                  fmt::join(used, ", "), unused.empty() ? "" : fmt::format("; not used: {}", fmt::join(unused, ", ")));
  return f;
}

FixedFact gid_index_fact(const std::vector<RdmaPort>& ports) {
  FixedFact f{"NCCL_IB_GID_INDEX", "", ""};
  const auto chosen = chosen_ports(ports);
  if (chosen.empty()) {
    f.how = "not set: no active RDMA port";
    return f;
  }
  if (!chosen.front().roce()) {
    f.how = "not set: InfiniBand link layer (GIDs are for RoCE)";
    return f;
  }
  std::vector<std::string> found;
  std::optional<int> common;
  bool agree = true;
  for (const auto& p : chosen) {
    if (!p.gid_index) {
      f.how = fmt::format("not set: {} has no RoCE v2 GID of an IP address (gid_attrs/types)", p.name());
      return f;
    }
    found.push_back(fmt::format("{} GID {} {}{}", p.name(), *p.gid_index, p.gid_text,
                                p.netdev.empty() ? "" : " (" + p.netdev + ")"));
    if (common && *common != *p.gid_index) agree = false;
    common = p.gid_index;
  }
  if (!agree) {
    f.how = fmt::format(
        "not set: the ports' RoCE v2 GIDs have different indices ({}) and NCCL_IB_GID_INDEX is "
        "one number; NCCL picks per port by itself",
        fmt::join(found, ", "));
    return f;
  }
  f.value = std::to_string(*common);
  f.how =
      fmt::format("the RoCE v2 GID of the port's IPv4 address (gid_attrs/types = \"RoCE v2\", gids ::ffff:a.b.c.d): {}",
                  fmt::join(found, ", "));
  return f;
}

std::vector<Interface> list_interfaces() {
  std::vector<Interface> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    out.push_back({a->ifa_name, buf});
  }
  ::freeifaddrs(list);
  return out;
}

std::optional<std::string> default_route_interface(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  std::optional<std::string> best;
  long best_metric = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, dest, gateway, flags, refcnt, use, metric, mask;
    if (!(fields >> iface >> dest >> gateway >> flags >> refcnt >> use >> metric >> mask)) continue;
    long f = 0, m = 0;
    try {
      f = std::stol(flags, nullptr, 16);
      m = std::stol(metric);
    } catch (const std::exception&) {
      continue;
    }
    if (dest != "00000000" || mask != "00000000" || (f & 1) == 0) continue;  // RTF_UP
    if (!best || m < best_metric) {
      best = iface;
      best_metric = m;
    }
  }
  return best;
}

std::optional<RendezvousHost> rendezvous_host(const bootstrap::EnvLookup& env) {
  if (auto master = env(bootstrap::kEnvMaster); master && !master->empty()) {
    std::string host = master->substr(0, master->rfind(':'));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return RendezvousHost{host, bootstrap::kEnvMaster};
  }
  if (auto addr = env("MASTER_ADDR"); addr && !addr->empty()) return RendezvousHost{*addr, "MASTER_ADDR"};
  return std::nullopt;
}

FixedFact socket_ifname_fact(const std::optional<RendezvousHost>& rendezvous,
                             const std::optional<std::string>& local_ipv4, const std::string& resolve_note,
                             const std::vector<Interface>& interfaces, const std::string& proc_net_route) {
  FixedFact f{"NCCL_SOCKET_IFNAME", "", ""};
  std::string fallback_note;
  if (rendezvous && local_ipv4) {
    for (const auto& i : interfaces)
      if (i.ipv4 == *local_ipv4) {
        f.value = exact_if_needed(i.name, interfaces);
        f.how = fmt::format("{} holds {}, the address the rendezvous {} ({}={}) is reached from", i.name, i.ipv4,
                            rendezvous->host, rendezvous->source, rendezvous->host);
        return f;
      }
    fallback_note = fmt::format("no interface holds {}, the address towards {}={}; ", *local_ipv4, rendezvous->source,
                                rendezvous->host);
  } else if (rendezvous) {
    fallback_note = fmt::format("{}={}: {}; ", rendezvous->source, rendezvous->host, resolve_note);
  } else {
    fallback_note = "no SXCOLL_MASTER or MASTER_ADDR set; ";
  }
  auto iface = default_route_interface(proc_net_route);
  if (!iface) {
    f.how = fallback_note + "not set: no default route in /proc/net/route";
    return f;
  }
  std::string addr;
  for (const auto& i : interfaces)
    if (i.name == *iface) addr = i.ipv4;
  f.value = exact_if_needed(*iface, interfaces);
  f.how = fallback_note + fmt::format("the interface of the default route in /proc/net/route{}",
                                      addr.empty() ? "" : fmt::format(" ({})", addr));
  return f;
}

FabricFacts detect_fabric(const bootstrap::EnvLookup& env, const std::string& sysfs_root) {
  FabricFacts facts;
  facts.ports = read_rdma_ports(sysfs_root);
  facts.facts.push_back(ib_hca_fact(facts.ports, sysfs_root));
  facts.facts.push_back(gid_index_fact(facts.ports));
  const auto rendezvous = rendezvous_host(env);
  std::optional<std::string> local;
  std::string note;
  if (rendezvous) {
    std::string error;
    if (auto ip = resolve_ipv4(rendezvous->host, error)) {
      local = source_address_towards(*ip);
      if (!local) note = fmt::format("no route to {}", *ip);
    } else {
      note = fmt::format("cannot resolve: {}", error);
    }
  }
  facts.facts.push_back(socket_ifname_fact(rendezvous, local, note, list_interfaces(), read_all("/proc/net/route")));
  return facts;
}

}  // namespace sxcoll::tune
