#include "transport/verbs/registry.h"

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::verbs {

namespace {

constexpr uintptr_t kPage = 4096;
constexpr int kAccess = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;

}  // namespace

MemoryRegistry::MemoryRegistry(const std::vector<std::unique_ptr<Rail>>& rails, int rank) : rails_(rails), rank_(rank) {}

MemoryRegistry::~MemoryRegistry() {
  cache_.clear();
  for (auto& r : registrations_)
    for (ibv_mr* mr : r->mrs)
      if (mr) ::ibv_dereg_mr(mr);
}

Registration& MemoryRegistry::register_range(uintptr_t begin, uintptr_t end, MemoryKind kind) {
  auto reg = std::make_unique<Registration>();
  reg->begin = begin;
  reg->end = end;
  for (const auto& rail : rails_) {
    // Relaxed ordering is in the optional range of access flags: ignored where unsupported.
    ibv_mr* mr = kind == MemoryKind::Cuda
                     ? register_gpu_memory(rail->pd(), begin, end - begin, kAccess | IBV_ACCESS_RELAXED_ORDERING,
                                           gpu_direct())
                     : ::ibv_reg_mr(rail->pd(), reinterpret_cast<void*>(begin), end - begin,
                                    kAccess | IBV_ACCESS_RELAXED_ORDERING);
    if (mr == nullptr) {
      int err = errno;
      for (ibv_mr* done : reg->mrs) ::ibv_dereg_mr(done);
      throw RunError(fmt::format(
          "rank {}: verbs: {} of {} bytes at {:#x} on {} failed: {}{}", rank_,
          kind != MemoryKind::Cuda                 ? "ibv_reg_mr"
          : gpu_direct() == GpuDirect::DmaBuf ? "ibv_reg_dmabuf_mr (GPU memory)"
                                                   : "ibv_reg_mr (GPU memory, nvidia_peermem)",
          end - begin, begin, rail->name(), errno_text(err),
          err == ENOMEM && kind != MemoryKind::Cuda ? " (locked-memory limit: ulimit -l unlimited)" : ""));
    }
    reg->mrs.push_back(mr);
  }
  registrations_.push_back(std::move(reg));
  return *registrations_.back();
}

GpuDirect MemoryRegistry::gpu_direct() {
  if (!gpu_direct_) gpu_direct_ = detect_gpu_direct();
  return *gpu_direct_;
}

std::shared_ptr<MemoryRegion> MemoryRegistry::register_memory(void* base, size_t bytes, MemoryKind kind) {
  auto key = std::make_pair(reinterpret_cast<uintptr_t>(base), bytes);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  const uintptr_t p = reinterpret_cast<uintptr_t>(base);
  Registration* reg = nullptr;
  if (bytes > 0) {
    for (auto& r : registrations_)
      if (r->covers(p, bytes)) reg = r.get();
    // Whole pages: a neighbouring range of the same pages then finds this registration.
    if (reg == nullptr) reg = &register_range(p & ~(kPage - 1), (p + bytes + kPage - 1) & ~(kPage - 1), kind);
  }
  auto region = make_region(base, bytes, kind);
  region->handle = reg;
  if (reg) {
    region->lkey = reg->mrs[0]->lkey;
    // Every rail's rkey travels with the region: a write split over rails needs each.
    region->remote.nrkeys = static_cast<uint8_t>(reg->mrs.size());
    for (size_t r = 0; r < reg->mrs.size(); ++r) region->remote.rkeys[r] = reg->mrs[r]->rkey;
  }
  cache_[key] = region;
  return region;
}

}  // namespace sxcoll::transport::verbs
