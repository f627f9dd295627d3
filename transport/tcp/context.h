// The TCP backend: sockets between ranks, any Ethernet, and the test fabric on one host.
#pragma once

#include <sys/epoll.h>

#include <map>
#include <memory>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/tcp/pair.h"
#include "transport/transport.h"

namespace sxcoll::transport::tcp {

// epoll hands back this tag for each socket: which pair, which stream.
struct StreamTag {
  Pair* pair;
  size_t stream;
};

struct Options {
  int sockets_per_peer = 1;           // --nsocks: NCCL_NSOCKS_PERTHREAD's analogue
  size_t min_stripe_bytes = 256 << 10;  // smaller writes go whole on one socket
};

class Context final : public transport::Context {
 public:
  Context(bootstrap::Bootstrap& bootstrap, const Options& options);
  ~Context() override;

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string describe() const override;
  void connect(const std::vector<int>& peers) override;
  transport::Pair& pair(int peer) override;
  std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind) override;
  void progress(std::vector<Completion>& out, int timeout_ms) override;
  std::vector<RailCounters> counters() const override { return {counters_}; }

  // For the pairs.
  const Options& options() const { return options_; }
  const MemoryRegion* region(uint32_t id) const;
  void complete(const Completion& c) { completed_.push_back(c); }
  void want_writable(int fd, void* tag, bool on);
  RailCounters& rail() { return counters_; }

 private:
  bootstrap::Bootstrap& bootstrap_;
  Options options_;
  net::Fd listener_;
  net::Fd epoll_;
  std::map<int, std::unique_ptr<Pair>> pairs_;
  std::vector<std::unique_ptr<StreamTag>> tags_;
  std::vector<std::shared_ptr<MemoryRegion>> regions_;  // index = id - 1
  std::map<std::pair<uintptr_t, size_t>, std::shared_ptr<MemoryRegion>> region_cache_;
  std::vector<Completion> completed_;
  RailCounters counters_{"tcp"};
};

}  // namespace sxcoll::transport::tcp
