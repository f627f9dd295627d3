// The routing context: one Context over several backends, each peer reached through the
// best one that can reach it. Peers on this rank's host go through the intra-node backend
// (shared memory for host buffers, CUDA IPC for GPU buffers), the others through the
// network backend (tcp or verbs). Pairs, registration and progress keep the contract of
// transport.h, so the collectives see one context whatever carries each link.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/transport.h"

namespace sxcoll::transport::routing {

class Context final : public transport::Context {
 public:
  // `intra` may be null: then every peer goes through `network`. Collective: every rank
  // builds the same backends in the same order.
  Context(bootstrap::Bootstrap& bootstrap, std::unique_ptr<transport::Context> intra,
          std::unique_ptr<transport::Context> network);
  ~Context() override;

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  // "intra-node: shm; inter-node: tcp, 1 socket per peer, ..."
  std::string describe() const override;
  void connect(const std::vector<int>& peers) override;
  transport::Pair& pair(int peer) override;
  std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind) override;
  bool registers_gpu_memory() const override;
  Allocation allocate_host(size_t bytes) override;
  void progress(std::vector<Completion>& out, int timeout_ms) override;
  std::vector<RailCounters> counters() const override;
  std::vector<int> driven_rails() override { return backends_[kNetwork]->driven_rails(); }

  // The backend that carries the link to `peer`, for the bench header.
  const transport::Context& backend_of(int peer) const;
  const transport::Context* intra() const { return backends_[kIntra].get(); }
  const transport::Context& network() const { return *backends_[kNetwork]; }

  // A routed region: the region as each backend registered it (null where one did not).
  struct Parts {
    std::shared_ptr<MemoryRegion> of[2];
  };

 private:
  static constexpr size_t kIntra = 0, kNetwork = 1;
  class Pair;
  size_t route(int peer) const;

  bootstrap::Bootstrap& bootstrap_;
  std::unique_ptr<transport::Context> backends_[2];
  bool used_[2] = {false, false};  // a backend with pairs: progress() drives it
  int next_sleeper_ = 0;           // both in use: whose wait an idle slice sleeps in
  std::map<int, std::unique_ptr<Pair>> pairs_;
  std::map<std::tuple<uintptr_t, size_t, MemoryKind>, std::shared_ptr<MemoryRegion>> regions_;
};

}  // namespace sxcoll::transport::routing
