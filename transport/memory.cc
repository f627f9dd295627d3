#include "transport/memory.h"

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport {

void check_write_bounds(std::string_view backend, int rank, int peer, const MemoryRegion& src, size_t src_offset,
                        size_t len, const RemoteRegion& dst, size_t dst_offset) {
  if (!src.contains(static_cast<char*>(src.base) + src_offset, len))
    throw RunError(fmt::format("rank {}: {}: write of {} bytes at offset {} runs past its {}-byte source region", rank,
                               backend, len, src_offset, src.bytes));
  if (dst_offset > dst.bytes || len > dst.bytes - dst_offset)
    throw RunError(fmt::format("rank {}: {}: write of {} bytes at offset {} runs past rank {}'s {}-byte region", rank,
                               backend, len, dst_offset, peer, dst.bytes));
}

}  // namespace sxcoll::transport
