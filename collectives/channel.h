// A channel: the links one pipeline of an algorithm uses, each with its receive slots and
// flow-control state. Channels persist across calls so that counters stay in step with
// the peers' and memory stays registered.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "collectives/flow_control.h"
#include "transport/transport.h"

namespace sxcoll {

// The 32-bit immediate of every write: [credit flag:1][channel:7][sequence:24].
inline constexpr uint32_t kMaxChannels = 128;
inline uint32_t imm_data(uint32_t channel, uint64_t seq) { return (channel << kSequenceBits) | (seq & kSequenceMask); }
inline uint32_t imm_credit(uint32_t channel, uint64_t seq) { return (1u << 31) | imm_data(channel, seq); }
inline bool imm_is_credit(uint32_t imm) { return (imm >> 31) != 0; }
inline uint32_t imm_channel(uint32_t imm) { return (imm >> kSequenceBits) & (kMaxChannels - 1); }
inline uint32_t imm_sequence(uint32_t imm) { return imm & kSequenceMask; }

// Slot memory, freed by the allocator it came from (host, pinned host or device).
using SlotMemory = transport::Allocation;

struct InLink {
  int peer = -1;
  transport::Pair* pair = nullptr;
  SlotMemory slots;  // nslots * slot_bytes, written by the peer
  std::shared_ptr<transport::MemoryRegion> region;
  RecvWindow window{1};
  char* slot_data() const;
  size_t slot_bytes = 0;
};

struct OutLink {
  int peer = -1;
  transport::Pair* pair = nullptr;
  transport::RemoteRegion remote;  // the peer's slots for us
  SendWindow window{1};
  // GPU buffers the transport cannot read: what is sent is first copied here, into the
  // slot of the same sequence number (nslots * slot_bytes of pinned host memory).
  SlotMemory staging;
  std::shared_ptr<transport::MemoryRegion> staging_region;
};

struct Channel {
  uint32_t id = 0;  // unique in the communicator: the immediate routes by it
  uint32_t nslots = 0;
  size_t slot_bytes = 0;
  std::vector<InLink> in;
  std::vector<OutLink> out;

  InLink* in_from(int peer);
  OutLink* out_to(int peer);
};

}  // namespace sxcoll
