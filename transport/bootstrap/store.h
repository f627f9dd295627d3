// The rendezvous store: a small key-value server that rank 0 runs in a thread, and the
// client every rank (rank 0 too) talks to it with.
//
// Besides keys, the store watches every rank's liveness: each client holds a second
// connection that it closes with a goodbye. A connection that closes without one means
// the process died; the store then tells every other rank which one, so that survivors
// name the lost rank even when their own neighbours are alive.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "transport/deadline.h"
#include "transport/socket.h"

namespace sxcoll::bootstrap {

class StoreServer {
 public:
  // Serves on `listener` until destroyed. Only clients presenting `token` are admitted.
  StoreServer(net::Fd listener, std::string token, int world_size);
  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  net::HostPort address() const { return address_; }
  // Waits until every rank has said goodbye or is gone (or the deadline passes), so that
  // rank 0 does not take the store away from ranks still finishing.
  void wait_for_goodbyes(const Deadline& deadline);
  // Ranks whose process ended without a goodbye or an abort (killed or crashed), so far.
  std::vector<int> lost_ranks() const;

 private:
  struct State;
  void serve();

  net::HostPort address_;
  std::unique_ptr<State> state_;
  net::Fd listener_fd_;
  net::Fd wake_read_, wake_write_;
  std::thread thread_;
};

class StoreClient {
 public:
  StoreClient(const net::HostPort& master, const std::string& token, int rank, const Deadline& deadline);

  void set(const std::string& key, const std::string& value);
  // Values of all `keys`, waiting until each is set. On timeout: nullopt.
  std::optional<std::vector<std::string>> get(const std::vector<std::string>& keys, const Deadline& deadline);
  // Ranks that have connected so far (for naming the ones that never came).
  std::vector<int> joined();

  // Non-blocking: the reason the run was aborted, if the store said so or is gone.
  std::optional<std::string> poll_abort();
  // Tells every other rank that this one failed, and why (best effort).
  void abort(const std::string& reason);
  void goodbye();

  // The local address of our store connection: the interface that reaches rank 0, which
  // is the one peers can reach us on as well.
  std::string local_host() const;

 private:
  std::string request(const std::string& frame, const Deadline& deadline);

  net::HostPort master_;
  std::string token_;
  int rank_;
  net::Fd data_;
  net::Fd liveness_;
  bool said_goodbye_ = false;
  std::optional<std::string> abort_reason_;
};

}  // namespace sxcoll::bootstrap
