#include "transport/factory.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "transport/error.h"
#include "transport/shm/context.h"
#include "transport/tcp/context.h"
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
  return v;
}
#endif

void check_range(int value, int lo, int hi, std::string_view flag) {
  if (value < lo || value > hi) throw UsageError(fmt::format("{} {}: must be {}..{}", flag, value, lo, hi));
}

}  // namespace

std::vector<std::string> available_transports() {
#ifdef SXCOLL_HAVE_IBVERBS
  return {"tcp", "shm", "verbs"};
#else
  return {"tcp", "shm"};
#endif
}

void validate(const TransportOptions& options) {
  auto names = available_transports();
  if (std::find(names.begin(), names.end(), options.name) == names.end())
    throw UsageError(fmt::format("--transport {}: not available in this build (available: {})", options.name,
                                 fmt::join(names, ", ")));
  if (options.sockets_per_peer < 1 || options.sockets_per_peer > 64)
    throw UsageError(fmt::format("--nsocks {}: must be 1..64", options.sockets_per_peer));
  if (options.tcp_io != "auto" && options.tcp_io != "threads" && options.tcp_io != "inline")
    throw UsageError(fmt::format("--tcp-io '{}': expected auto, threads or inline", options.tcp_io));
  verbs::HcaList::parse(options.hca, "--hca");
  check_range(options.qps, 1, 64, "--qps");
  check_range(options.traffic_class, 0, 255, "--tc");
  check_range(options.service_level, 0, 15, "--sl");
  check_range(options.gid_index, -1, 255, "--gid-index");
  check_range(options.ib_timeout, 1, 31, "--ib-timeout");
  check_range(options.ib_retry_count, 0, 7, "--ib-retry-cnt");
#ifdef SXCOLL_HAVE_IBVERBS
  // A missing device is bad input too: said once, before any rank starts.
  if (options.name == "verbs") verbs::select_ports(verbs_options(options));
#endif
}

std::unique_ptr<Context> make_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options) {
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
  if (options.name == "shm") return std::make_unique<shm::Context>(bootstrap);
#ifdef SXCOLL_HAVE_IBVERBS
  if (options.name == "verbs") return std::make_unique<verbs::Context>(bootstrap, verbs_options(options));
#endif
  throw UsageError(fmt::format("--transport {}: not available in this build", options.name));
}

std::vector<LinkInfo> link_info([[maybe_unused]] const Context& context) {
  std::vector<LinkInfo> out;
#ifdef SXCOLL_HAVE_IBVERBS
  if (const auto* v = dynamic_cast<const verbs::Context*>(&context))
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
