// What the verbs backend exchanges with its peers: the connection blob (through the
// bootstrap), the key table (read by RDMA READ), and how work request ids are laid out.
#pragma once

#include <cstdint>

namespace sxcoll::transport::verbs {

// A buffer registered on several rails has one rkey per rail, but the contract's
// RemoteRegion carries one (rail 0's) and an id. Each context keeps a table of its
// registrations, indexed by that id and registered for remote reading on rail 0; a sender
// that needs another rail's rkey reads the entry once (one RDMA READ) and caches it.
inline constexpr int kMaxRails = 8;
inline constexpr uint32_t kKeyTableEntries = 4096;
inline constexpr uint32_t kKeyEntryMagic = 0x5358524bu;  // "SXRK"

struct KeyEntry {
  uint64_t addr;
  uint64_t bytes;
  uint32_t rkeys[kMaxRails];
  uint32_t id;
  uint32_t magic;  // kKeyEntryMagic once filled
  uint64_t pad;
};
static_assert(sizeof(KeyEntry) == 64);

// wr_id of every work request: [kind:4][link:12][sequence:48]. The link is the QP's index
// in its pair; the sequence names the write a part belongs to.
enum class WrKind : uint64_t { Write = 1, Notify = 2, Read = 3, Recv = 4 };
inline constexpr uint64_t kWrSequenceMask = (uint64_t{1} << 48) - 1;
inline uint64_t make_wr_id(WrKind kind, uint32_t link, uint64_t sequence) {
  return (static_cast<uint64_t>(kind) << 60) | (uint64_t{link & 0xfffu} << 48) | (sequence & kWrSequenceMask);
}
inline WrKind wr_kind(uint64_t wr_id) { return static_cast<WrKind>(wr_id >> 60); }
inline uint32_t wr_link(uint64_t wr_id) { return static_cast<uint32_t>((wr_id >> 48) & 0xfff); }
inline uint64_t wr_sequence(uint64_t wr_id) { return wr_id & kWrSequenceMask; }

}  // namespace sxcoll::transport::verbs
