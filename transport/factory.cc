#include "transport/factory.h"

#include <algorithm>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "transport/error.h"
#include "transport/tcp/context.h"

namespace sxcoll::transport {

std::vector<std::string> available_transports() { return {"tcp"}; }

void validate(const TransportOptions& options) {
  auto names = available_transports();
  if (std::find(names.begin(), names.end(), options.name) == names.end())
    throw UsageError(fmt::format("--transport {}: not available in this build (available: {})", options.name,
                                 fmt::join(names, ", ")));
  if (options.sockets_per_peer < 1 || options.sockets_per_peer > 64)
    throw UsageError(fmt::format("--nsocks {}: must be 1..64", options.sockets_per_peer));
}

std::unique_ptr<Context> make_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options) {
  validate(options);
  if (options.name == "tcp") {
    tcp::Options tcp_options;
    tcp_options.sockets_per_peer = options.sockets_per_peer;
    return std::make_unique<tcp::Context>(bootstrap, tcp_options);
  }
  throw UsageError(fmt::format("--transport {}: not available in this build", options.name));
}

}  // namespace sxcoll::transport
