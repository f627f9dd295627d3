#include "transport/factory.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "transport/cuda_ipc/context.h"
#include "transport/error.h"
#include "transport/routing/context.h"
#include "transport/shm/context.h"
#include "transport/tcp/context.h"
#include "transport/verbs/rail_affinity.h"
#include "transport/verbs/hca_list.h"
#ifdef SXCOLL_HAVE_IBVERBS
#include "transport/verbs/context.h"
#include "transport/verbs/device.h"
#endif

namespace sxcoll::transport {

namespace {

#ifdef SXCOLL_HAVE_IBVERBS
verbs::Options verbs_options(const TransportOptions& o) {
  verbs::Options v;
  v.hca = o.hca;
  v.qps = o.qps;
  v.traffic_class = o.traffic_class;
  v.service_level = o.service_level;
  v.gid_index = o.gid_index;
  v.timeout = o.ib_timeout;
  v.retry_count = o.ib_retry_count;
  v.rails = o.rails;
  v.gpu_bus_id = o.gpu_bus_id;
  return v;
}
#endif

void check_range(int value, int lo, int hi, std::string_view flag) {
  if (value < lo || value > hi) throw UsageError(fmt::format("{} {}: must be {}..{}", flag, value, lo, hi));
}

}  // namespace

std::vector<std::string> available_transports() {
#ifdef SXCOLL_HAVE_IBVERBS
  return {"tcp", "verbs"};
#else
  return {"tcp"};
#endif
}

void validate(const TransportOptions& options) {
  auto names = available_transports();
  if (std::find(names.begin(), names.end(), options.name) == names.end())
    throw UsageError(fmt::format("--transport {}: not available in this build (available: {})", options.name,
                                 fmt::join(names, ", ")));
  if (options.sockets_per_peer < 1 || options.sockets_per_peer > 64)
    throw UsageError(fmt::format("--nsocks {}: must be 1..64", options.sockets_per_peer));
  if (options.intra != "auto" && options.intra != "shm" && options.intra != "cuda_ipc" && options.intra != "net")
    throw UsageError(fmt::format("--intra '{}': expected auto, shm, cuda_ipc or net", options.intra));
  if (options.intra == "shm" && options.memory == MemoryKind::Cuda)
    throw UsageError("--intra shm carries host buffers: GPU buffers (--mem cuda) use --intra cuda_ipc or net");
  if (options.intra == "cuda_ipc" && options.memory != MemoryKind::Cuda)
    throw UsageError("--intra cuda_ipc carries GPU buffers: host buffers use --intra shm or net (or --mem cuda)");
  if (options.intra == "cuda_ipc" && !cuda_ipc::available())
    throw UsageError("--intra cuda_ipc: not available in this build (no CUDA driver API at run time)");
  if (options.cuda_ipc != "write" && options.cuda_ipc != "read")
    throw UsageError(fmt::format("--cuda-ipc '{}': expected write or read", options.cuda_ipc));
  if (options.tcp_io != "auto" && options.tcp_io != "threads" && options.tcp_io != "inline")
    throw UsageError(fmt::format("--tcp-io '{}': expected auto, threads or inline", options.tcp_io));
  verbs::HcaList::parse(options.hca, "--hca");
  [[maybe_unused]] const auto rails = verbs::RailPolicy::parse(options.rails, "--rails");
  check_range(options.qps, 1, 64, "--qps");
  check_range(options.traffic_class, 0, 255, "--tc");
  check_range(options.service_level, 0, 15, "--sl");
  check_range(options.gid_index, -1, 255, "--gid-index");
  check_range(options.ib_timeout, 1, 31, "--ib-timeout");
  check_range(options.ib_retry_count, 0, 7, "--ib-retry-cnt");
#ifdef SXCOLL_HAVE_IBVERBS
  // A missing device is bad input too: said once, before any rank starts.
  if (options.name == "verbs")
    verbs::check_rails_exist(rails, static_cast<int>(verbs::select_ports(verbs_options(options)).size()));
#endif
}

std::string resolve_intra(const TransportOptions& options) {
  if (options.intra != "auto") return options.intra;
  if (options.memory == MemoryKind::Cuda) return cuda_ipc::available() ? "cuda_ipc" : "net";
  return "shm";
}

std::unique_ptr<Context> make_network_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options) {
  validate(options);
  if (options.name == "tcp") {
    tcp::Options tcp_options;
    tcp_options.sockets_per_peer = options.sockets_per_peer;
    // Threads pay where a rank has cores to spare for them: with about one core per rank
    // they only take turns with the ranks themselves (docs/PERFORMANCE.md: 2 ranks on 2
    // cores, threads doubled the 8 B latency and nearly halved the bandwidth).
    tcp_options.io_threads = options.tcp_io == "threads" ||
                             (options.tcp_io == "auto" && bootstrap.cores_per_local_rank() >= 4);
    return std::make_unique<tcp::Context>(bootstrap, tcp_options);
  }
#ifdef SXCOLL_HAVE_IBVERBS
  if (options.name == "verbs") return std::make_unique<verbs::Context>(bootstrap, verbs_options(options));
#endif
  throw UsageError(fmt::format("--transport {}: not available in this build", options.name));
}

std::unique_ptr<Context> make_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options) {
  auto network = make_network_context(bootstrap, options);
  const std::string intra = resolve_intra(options);
  // Every rank decides alike: the intra-node backend is built everywhere or nowhere.
  const auto& hosts = bootstrap.hostnames();
  const bool shared_host = std::set<std::string>(hosts.begin(), hosts.end()).size() < hosts.size();
  if (intra == "net" || !shared_host) return network;
  std::unique_ptr<Context> local;
  if (intra == "shm") local = std::make_unique<shm::Context>(bootstrap);
  if (intra == "cuda_ipc") local = std::make_unique<cuda_ipc::Context>(bootstrap, options.cuda_ipc == "read");
  return std::make_unique<routing::Context>(bootstrap, std::move(local), std::move(network));
}

std::vector<LinkInfo> link_info([[maybe_unused]] const Context& context) {
  std::vector<LinkInfo> out;
#ifdef SXCOLL_HAVE_IBVERBS
  const Context* network = &context;
  if (const auto* r = dynamic_cast<const routing::Context*>(&context)) network = &r->network();
  if (const auto* v = dynamic_cast<const verbs::Context*>(network))
    for (const auto& r : v->rail_info()) out.push_back(LinkInfo{r.name, r.detail, r.rate_gbps});
#endif
  return out;
}

std::vector<TransportOptions> per_rail(const TransportOptions& options) {
#ifdef SXCOLL_HAVE_IBVERBS
  if (options.name == "verbs") {
    std::vector<TransportOptions> out;
    for (const auto& port : verbs::select_ports(verbs_options(options))) {
      TransportOptions one = options;
      one.hca = fmt::format("={}", port.name());
      out.push_back(one);
    }
    return out;
  }
#endif
  return {options};
}

}  // namespace sxcoll::transport
