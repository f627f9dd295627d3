#include "transport/bootstrap/bootstrap.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "transport/bootstrap/mpi_rendezvous.h"
#include "transport/error.h"

namespace sxcoll::bootstrap {

namespace {

std::string this_hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

}  // namespace

Bootstrap::Bootstrap(const LaunchInfo& info, std::chrono::milliseconds timeout) : info_(info), timeout_(timeout) {
  Deadline deadline(timeout);
  net::HostPort master;
  if (info.store_fd >= 0) {
    // sxcoll's local launcher bound the store's socket before forking: no port race.
    server_ = std::make_unique<StoreServer>(net::Fd(info.store_fd), info.token, info.size);
    master = server_->address();
  } else if (info.master) {
    master = net::parse_host_port(*info.master, "rendezvous address (SXCOLL_MASTER or MASTER_ADDR:MASTER_PORT)");
    if (info.rank == 0) server_ = std::make_unique<StoreServer>(net::listen_tcp("", master.port), info.token, info.size);
  } else if (mpi_rendezvous_available(info)) {
    // Rank 0 listens on every interface and names itself by hostname, which the other
    // hosts of an MPI job resolve.
    master = net::parse_host_port(mpi_share_master(info,
                                                   [&] {
                                                     server_ = std::make_unique<StoreServer>(
                                                         net::listen_tcp("", 0), info.token, info.size);
                                                     return net::HostPort{this_hostname(), server_->address().port}.str();
                                                   }),
                                  "store address from rank 0");
  } else if (info.size == 1) {
    server_ = std::make_unique<StoreServer>(net::listen_tcp("127.0.0.1", 0), info.token, 1);
    master = server_->address();
  } else {
    throw UsageError(fmt::format(
        "bootstrap: launched by {} as rank {} of {}, but no rendezvous address is set: export "
        "SXCOLL_MASTER=host:port (or MASTER_ADDR and MASTER_PORT) naming rank 0's host and a free port",
        info.launcher, info.rank, info.size));
  }
  try {
    client_ = std::make_unique<StoreClient>(master, info.token, info.rank, deadline);
  } catch (const RunError& e) {
    // Nobody to rendezvous with is a setup problem the user fixes, not a fault of the run.
    throw UsageError(fmt::format("rank {}: {} (timeout {} ms)", info.rank, e.what(), timeout.count()));
  }
  hostnames_ = allgather(this_hostname());
}

int Bootstrap::host_local_size() const {
  return static_cast<int>(std::count(hostnames_.begin(), hostnames_.end(), hostnames_[static_cast<size_t>(rank())]));
}

int Bootstrap::host_local_rank() const {
  const auto mine = hostnames_.begin() + rank();
  return static_cast<int>(std::count(hostnames_.begin(), mine, *mine));
}

double Bootstrap::cores_per_local_rank() const {
  const int local_ranks = host_local_size();
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const int cores = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
  return static_cast<double>(cores) / static_cast<double>(std::max(local_ranks, 1));
}

Bootstrap::~Bootstrap() {
  if (!aborted_) client_->goodbye();
  if (server_ && !aborted_) server_->wait_for_goodbyes(Deadline(timeout_));
}

void Bootstrap::abort(const std::string& reason) {
  aborted_ = true;
  client_->abort(reason);
}

std::string Bootstrap::missing_ranks_text() {
  std::vector<int> missing;
  try {
    auto joined = client_->joined();
    for (int r = 0; r < info_.size; ++r)
      if (std::find(joined.begin(), joined.end(), r) == joined.end()) missing.push_back(r);
  } catch (const std::exception&) {
    return "some ranks";
  }
  if (missing.empty()) return "a rank that joined but stopped answering";
  return fmt::format("rank{} {}", missing.size() > 1 ? "s" : "", fmt::join(missing, ","));
}

std::vector<std::string> Bootstrap::allgather(const std::string& mine) {
  auto prefix = fmt::format("allgather/{}/", sequence_++);
  client_->set(prefix + std::to_string(info_.rank), mine);
  std::vector<std::string> keys;
  for (int r = 0; r < info_.size; ++r) keys.push_back(prefix + std::to_string(r));
  auto values = client_->get(keys, Deadline(timeout_));
  if (!values)
    throw RunError(fmt::format("rank {}: bootstrap: {} of {} did not arrive within {} ms", info_.rank,
                               missing_ranks_text(), info_.size, timeout_.count()));
  return *values;
}

}  // namespace sxcoll::bootstrap
