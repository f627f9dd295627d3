// Credit-based flow control over a ring of receive slots, the scheme RDMA needs: a sender
// may write into slot k only after the receiver has consumed what was in it and said so.
// Both sides count; slot = count mod nslots. No state crosses the wire but the counts.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

namespace sxcoll {

// The immediate carries the low bits of the sender's count, to check arrivals against.
inline constexpr uint32_t kSequenceBits = 24;
inline constexpr uint32_t kSequenceMask = (1u << kSequenceBits) - 1;

class SendWindow {
 public:
  explicit SendWindow(uint32_t nslots) : nslots_(nslots) {}
  bool can_post() const { return posted_ - credited_ < nslots_; }
  // The sequence number of the write being posted; its slot is seq % nslots.
  uint64_t post() {
    if (!can_post()) throw std::logic_error("flow control: post without credit");
    return posted_++;
  }
  void credit() {
    if (credited_ == posted_) throw std::runtime_error("flow control: credit for a slot that was never written");
    ++credited_;
  }
  uint32_t slot(uint64_t seq) const { return static_cast<uint32_t>(seq % nslots_); }
  uint64_t posted() const { return posted_; }
  uint64_t credited() const { return credited_; }

 private:
  uint32_t nslots_;
  uint64_t posted_ = 0;
  uint64_t credited_ = 0;
};

class RecvWindow {
 public:
  explicit RecvWindow(uint32_t nslots) : nslots_(nslots), full_(nslots, 0), bytes_(nslots, 0) {}
  // A write landed. Writes may land out of order (striped over streams), never beyond
  // the window: that would mean the sender wrote a slot we had not freed.
  void arrived(uint32_t seq_low_bits, size_t bytes) {
    uint64_t seq = expand(seq_low_bits);
    if (seq >= consumed_ + nslots_)
      throw std::runtime_error(fmt::format("flow control: write {} arrived beyond the window [{}, {})", seq, consumed_,
                                           consumed_ + nslots_));
    uint32_t s = static_cast<uint32_t>(seq % nslots_);
    if (full_[s]) throw std::runtime_error(fmt::format("flow control: slot {} written twice before consumption", s));
    full_[s] = 1;
    bytes_[s] = bytes;
  }
  bool ready() const { return full_[slot()] != 0; }
  uint32_t slot() const { return static_cast<uint32_t>(consumed_ % nslots_); }
  size_t ready_bytes() const { return bytes_[slot()]; }
  // Frees the oldest slot; returns its sequence number (for the credit).
  uint64_t consume() {
    if (!ready()) throw std::logic_error("flow control: consuming an empty slot");
    full_[slot()] = 0;
    return consumed_++;
  }
  uint64_t consumed() const { return consumed_; }

 private:
  // The full sequence number nearest above `consumed_` with these low bits.
  uint64_t expand(uint32_t low) const {
    uint64_t base = consumed_ & ~uint64_t{kSequenceMask};
    uint64_t seq = base | low;
    if (seq < consumed_) seq += uint64_t{1} << kSequenceBits;
    return seq;
  }

  uint32_t nslots_;
  uint64_t consumed_ = 0;
  std::vector<uint8_t> full_;
  std::vector<size_t> bytes_;
};

}  // namespace sxcoll
