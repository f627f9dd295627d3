// Registered memory: what a transport may read from and write into.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sxcoll::transport {

enum class MemoryKind : uint8_t { Host, Cuda };

// The most rails (HCA ports) a rank drives: one rkey each in a RemoteRegion.
inline constexpr size_t kMaxRails = 8;

// What a peer needs to write into a region of ours: a descriptor filled in by each
// backend that registered the region, and decoded by that backend's Pair on the other
// side. It travels through the bootstrap as one word (encode/decode).
struct RemoteRegion {
  uint64_t addr = 0;   // the owner's address of the region's first byte (what RDMA names)
  uint64_t bytes = 0;
  uint32_t tcp_id = 0;  // tcp: the region's slot in the owner's table (0: none)
  uint8_t nrkeys = 0;   // verbs: the owner's rkey on each of its rails, rail by rail
  std::array<uint32_t, kMaxRails> rkeys{};
  // shm, cuda_ipc: how a process on the same host maps the region ("" where none can):
  // letters, digits and ":._-" only, so the encoded word stays one word.
  std::string ipc;

  // One word without spaces; decode(encode()) gives the same descriptor.
  std::string encode() const;
  // Throws RunError naming what is malformed.
  static RemoteRegion decode(std::string_view word);
};

// Memory freed by the allocator it came from (host pages, a shared segment, pinned host
// memory or device memory).
using Allocation = std::unique_ptr<char, std::function<void(char*)>>;

// A region registered with a Context. Backends keep their own handles (an ibv_mr, a
// table slot) behind `handle`; `lkey` is what a local work request names.
struct MemoryRegion {
  void* base = nullptr;
  size_t bytes = 0;
  MemoryKind kind = MemoryKind::Host;
  uint32_t lkey = 0;
  RemoteRegion remote;
  void* handle = nullptr;

  bool contains(const void* p, size_t len) const {
    auto b = reinterpret_cast<uintptr_t>(base), q = reinterpret_cast<uintptr_t>(p);
    return q >= b && len <= bytes && q - b <= bytes - len;
  }
};

// A region of `bytes` at `base` with its descriptor's address and size filled in: what each
// backend's register_memory() starts from before it adds its own handles and keys.
std::shared_ptr<MemoryRegion> make_region(void* base, size_t bytes, MemoryKind kind);

// Page-aligned host memory from the C library: what backends without shared segments give
// for allocate_host(). Throws RunError when the allocation fails.
Allocation allocate_pages(size_t bytes);

// The contract's bounds of Pair::write(): [src_offset, +len) inside `src` and
// [dst_offset, +len) inside `dst`. Throws RunError naming rank, backend and peer.
void check_write_bounds(std::string_view backend, int rank, int peer, const MemoryRegion& src, size_t src_offset,
                        size_t len, const RemoteRegion& dst, size_t dst_offset);

}  // namespace sxcoll::transport
