// What travels before each stripe of a write on a TCP stream: where its bytes go.
#pragma once

#include <cstdint>

namespace sxcoll::transport::tcp {

inline constexpr uint32_t kStripeMagic = 0x5358434cu;  // "SXCL"
inline constexpr uint32_t kMaxStripes = 64;            // --nsocks' limit: one stripe per socket

struct StripeHeader {
  uint32_t magic;
  uint32_t imm;
  uint32_t region_id;  // the receiver's RemoteRegion::id
  uint32_t nstripes;   // stripes of this write, over all streams of the pair
  uint64_t write_id;   // per pair, to reassemble stripes that arrive on different streams
  uint64_t offset;     // byte offset in the region
  uint64_t length;     // bytes of this stripe
};
static_assert(sizeof(StripeHeader) == 40);

// First bytes on every new stream: which rank and which of its streams this is.
struct StreamHello {
  uint64_t token_hash;
  uint32_t rank;
  uint32_t stream;
};

}  // namespace sxcoll::transport::tcp
