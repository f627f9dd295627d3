// What the verbs backend exchanges with its peers: the rail limit of the connection blob,
// and how work request ids are laid out.
#pragma once

#include <cstdint>

#include "transport/memory.h"

namespace sxcoll::transport::verbs {

// At most this many rails (HCA ports) per rank: a RemoteRegion carries one rkey each.
inline constexpr int kMaxRails = static_cast<int>(transport::kMaxRails);

// wr_id of every work request: [kind:4][link:12][sequence:48]. The link is the QP's index
// in its pair; the sequence names the write a part belongs to.
enum class WrKind : uint64_t { Write = 1, Notify = 2, Recv = 4 };
inline constexpr uint64_t kWrSequenceMask = (uint64_t{1} << 48) - 1;
inline uint64_t make_wr_id(WrKind kind, uint32_t link, uint64_t sequence) {
  return (static_cast<uint64_t>(kind) << 60) | (uint64_t{link & 0xfffu} << 48) | (sequence & kWrSequenceMask);
}
inline WrKind wr_kind(uint64_t wr_id) { return static_cast<WrKind>(wr_id >> 60); }
inline uint32_t wr_link(uint64_t wr_id) { return static_cast<uint32_t>((wr_id >> 48) & 0xfff); }
inline uint64_t wr_sequence(uint64_t wr_id) { return wr_id & kWrSequenceMask; }

}  // namespace sxcoll::transport::verbs
