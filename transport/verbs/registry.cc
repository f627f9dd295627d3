#include "transport/verbs/registry.h"

#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::verbs {

namespace {

constexpr uintptr_t kPage = 4096;
constexpr int kAccess = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;

}  // namespace

void MemoryRegistry::TableFree::operator()(KeyEntry* p) const { std::free(p); }

MemoryRegistry::MemoryRegistry(const std::vector<std::unique_ptr<Rail>>& rails, int rank) : rails_(rails), rank_(rank) {
  const size_t bytes = sizeof(KeyEntry) * kKeyTableEntries;
  void* memory = std::aligned_alloc(kPage, bytes);
  if (memory == nullptr) throw RunError(fmt::format("rank {}: verbs: cannot allocate the key table", rank_));
  std::memset(memory, 0, bytes);
  table_.reset(static_cast<KeyEntry*>(memory));
  table_mr_ = ::ibv_reg_mr(rails_[0]->pd(), memory, bytes, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);
  if (table_mr_ == nullptr)
    throw RunError(fmt::format("rank {}: verbs: ibv_reg_mr of the {}-byte key table on {} failed: {}", rank_, bytes,
                               rails_[0]->name(), errno_text(errno)));
}

MemoryRegistry::~MemoryRegistry() {
  cache_.clear();
  for (auto& r : registrations_)
    for (ibv_mr* mr : r->mrs)
      if (mr) ::ibv_dereg_mr(mr);
  if (table_mr_) ::ibv_dereg_mr(table_mr_);
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
  if (registrations_.size() + 1 < kKeyTableEntries) {
    reg->id = static_cast<uint32_t>(registrations_.size() + 1);
    KeyEntry& e = table_.get()[reg->id];
    e.addr = begin;
    e.bytes = end - begin;
    for (size_t r = 0; r < reg->mrs.size(); ++r) e.rkeys[r] = reg->mrs[r]->rkey;
    e.id = reg->id;
    e.magic = kKeyEntryMagic;
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
  auto region = std::make_shared<MemoryRegion>();
  region->base = base;
  region->bytes = bytes;
  region->kind = kind;
  region->handle = reg;
  region->remote.addr = p;
  region->remote.bytes = bytes;
  if (reg) {
    region->lkey = reg->mrs[0]->lkey;
    region->remote.rkey = reg->mrs[0]->rkey;
    region->remote.id = reg->id;
  }
  cache_[key] = region;
  return region;
}

}  // namespace sxcoll::transport::verbs
