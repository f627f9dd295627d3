// The verbs backend: libibverbs RC QPs, RDMA WRITE WITH IMMEDIATE into the peers' registered
// memory, several QPs per connection, several rails (HCAs), RoCE v2 GID auto-detection.
// The same binary runs on mlx5 and on Soft-RoCE: nothing here knows which it is.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "transport/bootstrap/bootstrap.h"
#include "transport/transport.h"
#include "transport/verbs/device.h"
#include "transport/verbs/options.h"
#include "transport/verbs/pair.h"
#include "transport/verbs/registry.h"

namespace sxcoll::transport::verbs {

// A rail as the bench header shows it.
struct RailInfo {
  std::string name;    // "mlx5_0:1"
  std::string detail;  // GID, type, MTU, rate
  double rate_gbps = 0;
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
  // How this rank registers GPU memory: every pair of it reaches GPU memory the same way.
  std::string gpu_direct() const { return gpu_direct_name(registry_->gpu_direct()); }
  std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind) override;
  bool registers_gpu_memory() const override { return registry_->gpu_direct() != GpuDirect::None; }
  void progress(std::vector<Completion>& out, int timeout_ms) override;
  std::vector<RailCounters> counters() const override { return counters_; }

  std::vector<RailInfo> rail_info() const;

  // For the pairs.
  const Options& options() const { return options_; }
  const std::vector<std::unique_ptr<Rail>>& rails() const { return rails_; }
  std::chrono::milliseconds timeout() const { return bootstrap_.timeout(); }
  void complete(const Completion& c) { completed_.push_back(c); }
  RailCounters& rail_counters(size_t rail) { return counters_[rail]; }
  // The rails (indices into rails()) that the pair with `peer` uses: the one rail both
  // ranks drive (--rails), or every rail. Known once connect() has run.
  std::vector<size_t> rails_for(int peer) const;
  std::vector<int> driven_rails() override {
    learn_driven_rails();
    return driven_by_rank_;
  }

 private:
  size_t poll_all();
  void wait_for_events(int timeout_ms);
  void check_async_events(size_t rail);
  // Every rank's driven rail, allgathered once: at the first connect() or driven_rails().
  void learn_driven_rails();

  bootstrap::Bootstrap& bootstrap_;
  Options options_;
  RailChoice choice_;
  std::vector<int> driven_by_rank_;  // [rank]: -1 all rails
  // Destroyed in reverse: pairs (QPs, CQs), then memory registrations, then rails (PDs).
  std::vector<std::unique_ptr<Rail>> rails_;
  std::unique_ptr<MemoryRegistry> registry_;
  std::map<int, std::unique_ptr<Pair>> pairs_;
  std::vector<Completion> completed_;
  std::vector<RailCounters> counters_;
  uint64_t progress_calls_ = 0;
};

}  // namespace sxcoll::transport::verbs
