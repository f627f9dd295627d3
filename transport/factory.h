// Picks a transport backend by name: the one switch between tcp, verbs and later others.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/transport.h"

namespace sxcoll::transport {

struct TransportOptions {
  std::string name = "tcp";
  int sockets_per_peer = 1;  // tcp: --nsocks
};

// Throws UsageError for an unknown backend or a knob out of range.
void validate(const TransportOptions& options);

// Names of the backends this build has.
std::vector<std::string> available_transports();

// Throws UsageError for a backend this build lacks.
std::unique_ptr<Context> make_context(bootstrap::Bootstrap& bootstrap, const TransportOptions& options);

}  // namespace sxcoll::transport
