// Rank, size and rendezvous: how the ranks of one run find each other and agree.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/bootstrap/launch_env.h"
#include "transport/bootstrap/store.h"

namespace sxcoll::bootstrap {

class Bootstrap {
 public:
  // Joins the run described by `info`: rank 0 serves the store, every rank connects to it,
  // and all wait until the whole world has joined (or `timeout` passes, naming who is missing).
  Bootstrap(const LaunchInfo& info, std::chrono::milliseconds timeout);
  // Says goodbye; rank 0 keeps the store up until the others have said theirs.
  ~Bootstrap();
  Bootstrap(const Bootstrap&) = delete;
  Bootstrap& operator=(const Bootstrap&) = delete;

  int rank() const { return info_.rank; }
  int size() const { return info_.size; }
  const LaunchInfo& launch() const { return info_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  // Every rank's hostname, by rank.
  const std::vector<std::string>& hostnames() const { return hostnames_; }
  // The ranks with this rank's hostname, and this rank's place among them in rank order (as
  // collectives' Topology numbers local ranks, whatever the launcher's LOCAL_RANK says).
  int host_local_size() const;
  int host_local_rank() const;
  // The cores this process may run on, shared by the ranks on this host (by hostname):
  // below 1, ranks outnumber cores.
  double cores_per_local_rank() const;
  // The address peers reach this rank on (the interface towards rank 0).
  std::string reachable_host() const { return client_->local_host(); }

  // Collective: every rank's `mine`, by rank. Throws RunError naming missing ranks on timeout.
  std::vector<std::string> allgather(const std::string& mine);
  void barrier() { allgather(""); }

  // Non-blocking: why the run was aborted by another rank, if it was.
  std::optional<std::string> poll_abort() { return client_->poll_abort(); }
  // Rank 0 only (it serves the store; empty elsewhere): the ranks whose process ended
  // without a goodbye or an abort, as the store saw their liveness connection close.
  std::vector<int> lost_ranks() const { return server_ ? server_->lost_ranks() : std::vector<int>{}; }
  // Tells the other ranks this one failed; after this the destructor does not wait.
  void abort(const std::string& reason);

 private:
  std::string missing_ranks_text();

  LaunchInfo info_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<StoreServer> server_;
  std::unique_ptr<StoreClient> client_;
  std::vector<std::string> hostnames_;
  uint64_t sequence_ = 0;
  bool aborted_ = false;
};

}  // namespace sxcoll::bootstrap
