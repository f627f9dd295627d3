#include "transport/memory.h"

#include <charconv>
#include <cstdlib>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/split.h"

namespace sxcoll::transport {

namespace {

bool ipc_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '.' ||
         c == '_' || c == '-';
}

template <typename T>
T hex_field(std::string_view word, std::string_view field, std::string_view what) {
  T value{};
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value, 16);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size())
    throw RunError(fmt::format("malformed remote region '{}': {} '{}' is not a hex number", word, what, field));
  return value;
}

}  // namespace

// addr/bytes/tcp_id/rkey:rkey:.../ipc, numbers in hex; an empty rkey list is "-".
std::string RemoteRegion::encode() const {
  for (char c : ipc)
    if (!ipc_char(c)) throw std::logic_error(fmt::format("RemoteRegion::ipc '{}' holds a character outside [A-Za-z0-9:._-]", ipc));
  std::string keys;
  for (size_t i = 0; i < nrkeys; ++i) keys += fmt::format("{}{:x}", i ? ":" : "", rkeys[i]);
  return fmt::format("{:x}/{:x}/{:x}/{}/{}", addr, bytes, tcp_id, keys.empty() ? "-" : keys, ipc);
}

RemoteRegion RemoteRegion::decode(std::string_view word) {
  const auto fields = split_list(word, '/');
  if (fields.size() != 5)
    throw RunError(fmt::format("malformed remote region '{}': {} fields, want 5", word, fields.size()));
  RemoteRegion r;
  r.addr = hex_field<uint64_t>(word, fields[0], "address");
  r.bytes = hex_field<uint64_t>(word, fields[1], "size");
  r.tcp_id = hex_field<uint32_t>(word, fields[2], "tcp id");
  if (fields[3] != "-") {
    for (std::string_view key : split_list(fields[3], ':')) {
      if (r.nrkeys == kMaxRails)
        throw RunError(fmt::format("malformed remote region '{}': more than {} rkeys", word, kMaxRails));
      r.rkeys[r.nrkeys++] = hex_field<uint32_t>(word, key, "rkey");
    }
  }
  for (char c : fields[4])
    if (!ipc_char(c)) throw RunError(fmt::format("malformed remote region '{}': bad character in its ipc handle", word));
  r.ipc = std::string(fields[4]);
  return r;
}

std::shared_ptr<MemoryRegion> make_region(void* base, size_t bytes, MemoryKind kind) {
  auto region = std::make_shared<MemoryRegion>();
  region->base = base;
  region->bytes = bytes;
  region->kind = kind;
  region->remote.addr = reinterpret_cast<uint64_t>(base);
  region->remote.bytes = bytes;
  return region;
}

Allocation allocate_pages(size_t bytes) {
  const size_t rounded = (bytes + 4095) / 4096 * 4096;
  char* p = static_cast<char*>(std::aligned_alloc(4096, rounded == 0 ? 4096 : rounded));
  if (p == nullptr) throw RunError(fmt::format("cannot allocate {} bytes of host memory", bytes));
  return Allocation(p, [](char* q) { std::free(q); });
}

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
