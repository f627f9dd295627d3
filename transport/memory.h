// Registered memory: what a transport may read from and write into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sxcoll::transport {

enum class MemoryKind : uint8_t { Host, Cuda };

// What a peer needs to write into a region of ours. Plain data: it travels through the
// bootstrap. For verbs it is (address, rkey); for TCP the region's id in our table.
struct RemoteRegion {
  uint64_t addr = 0;
  uint64_t bytes = 0;
  uint32_t rkey = 0;
  uint32_t id = 0;
};

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

// The contract's bounds of Pair::write(): [src_offset, +len) inside `src` and
// [dst_offset, +len) inside `dst`. Throws RunError naming rank, backend and peer.
void check_write_bounds(std::string_view backend, int rank, int peer, const MemoryRegion& src, size_t src_offset,
                        size_t len, const RemoteRegion& dst, size_t dst_offset);

}  // namespace sxcoll::transport
