// Memory registration with a cache: a range is registered once on every rail and reused
// (the bench and the collectives register the same buffers call after call); a range
// inside one already registered reuses that registration. A region's descriptor carries
// the rkey of every rail.
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

 private:
  Registration& register_range(uintptr_t begin, uintptr_t end, MemoryKind kind);

  const std::vector<std::unique_ptr<Rail>>& rails_;
  int rank_;
  std::vector<std::unique_ptr<Registration>> registrations_;
  std::map<std::pair<uintptr_t, size_t>, std::shared_ptr<MemoryRegion>> cache_;
  std::optional<GpuDirect> gpu_direct_;
};

}  // namespace sxcoll::transport::verbs
