// Memory registration with a cache: a range is registered once on every rail and reused
// (the bench and the collectives register the same buffers call after call); a range
// inside one already registered reuses that registration. Each registration gets an entry
// in the key table that peers read for the rkeys of rails other than rail 0 (wire.h).
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "transport/memory.h"
#include "transport/verbs/device.h"
#include "transport/verbs/gpu_direct.h"
#include "transport/verbs/wire.h"

namespace sxcoll::transport::verbs {

// One pinned range, registered on every rail; MemoryRegion::handle points here.
struct Registration {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  uint32_t id = 0;           // index in the key table (0: none)
  std::vector<ibv_mr*> mrs;  // by rail
  bool covers(uintptr_t p, size_t len) const { return p >= begin && len <= end - begin && p - begin <= end - begin - len; }
};

class MemoryRegistry {
 public:
  MemoryRegistry(const std::vector<std::unique_ptr<Rail>>& rails, int rank);
  ~MemoryRegistry();
  MemoryRegistry(const MemoryRegistry&) = delete;
  MemoryRegistry& operator=(const MemoryRegistry&) = delete;

  std::shared_ptr<MemoryRegion> register_memory(void* base, size_t bytes, MemoryKind kind);
  size_t registrations() const { return registrations_.size(); }
  // How GPU memory is registered here, found on first use (the caller's CUDA device
  // must be current by then).
  GpuDirect gpu_direct();

  // The key table, for the peers: where it is and rail 0's rkey for it.
  uint64_t key_table_addr() const { return reinterpret_cast<uint64_t>(table_.get()); }
  uint32_t key_table_rkey() const { return table_mr_->rkey; }

 private:
  Registration& register_range(uintptr_t begin, uintptr_t end, MemoryKind kind);

  const std::vector<std::unique_ptr<Rail>>& rails_;
  int rank_;
  struct TableFree {
    void operator()(KeyEntry* p) const;
  };
  std::unique_ptr<KeyEntry, TableFree> table_;
  ibv_mr* table_mr_ = nullptr;
  std::vector<std::unique_ptr<Registration>> registrations_;
  std::map<std::pair<uintptr_t, size_t>, std::shared_ptr<MemoryRegion>> cache_;
  std::optional<GpuDirect> gpu_direct_;
};

}  // namespace sxcoll::transport::verbs
