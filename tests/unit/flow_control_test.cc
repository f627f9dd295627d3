// Credit-based flow control over a ring of receive slots (collectives/flow_control.h) and
// the 32-bit immediate that carries channel, sequence and credit flag (collectives/channel.h):
// a sender never overruns the receiver, arrivals are checked against the window, and the
// 24-bit sequence wraps without losing track.
#include "collectives/flow_control.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "collectives/channel.h"

namespace sxcoll {
namespace {

TEST(SendWindow, PostsUpToTheSlotCountThenNeedsCredit) {
  for (uint32_t nslots : {1u, 2u, 8u, 64u}) {
    SendWindow w(nslots);
    for (uint32_t i = 0; i < nslots; ++i) {
      ASSERT_TRUE(w.can_post());
      EXPECT_EQ(w.post(), i);
      EXPECT_EQ(w.slot(i), i);
    }
    EXPECT_FALSE(w.can_post());
    EXPECT_THROW(w.post(), std::logic_error) << nslots;
    EXPECT_EQ(w.posted(), nslots) << "a refused post must not count";
    w.credit();
    ASSERT_TRUE(w.can_post());
    EXPECT_EQ(w.post(), nslots);
    EXPECT_EQ(w.slot(nslots), 0u) << "the freed slot is the oldest";
    EXPECT_FALSE(w.can_post());
  }
}

TEST(SendWindow, CreditForASlotNeverWrittenThrows) {
  SendWindow w(4);
  EXPECT_THROW(w.credit(), std::runtime_error);
  w.post();
  w.post();
  w.credit();
  w.credit();
  EXPECT_THROW(w.credit(), std::runtime_error);
  EXPECT_EQ(w.credited(), 2u);
  EXPECT_TRUE(w.can_post());
}

TEST(RecvWindow, InOrderArrivalsAreConsumedInOrder) {
  RecvWindow w(4);
  EXPECT_FALSE(w.ready());
  EXPECT_THROW(w.consume(), std::logic_error);
  for (uint32_t i = 0; i < 10; ++i) {
    w.arrived(i, 100 + i);
    ASSERT_TRUE(w.ready());
    EXPECT_EQ(w.slot(), i % 4);
    EXPECT_EQ(w.ready_bytes(), 100 + i);
    EXPECT_EQ(w.consume(), i);
    EXPECT_FALSE(w.ready());
  }
  EXPECT_EQ(w.consumed(), 10u);
}

TEST(RecvWindow, OutOfOrderArrivalsWithinTheWindowWaitForTheOldest) {
  RecvWindow w(4);
  w.arrived(2, 30);
  w.arrived(3, 40);
  w.arrived(1, 20);
  EXPECT_FALSE(w.ready()) << "write 0 has not landed: nothing may be consumed";
  w.arrived(0, 10);
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(w.ready());
    EXPECT_EQ(w.ready_bytes(), 10 * (i + 1)) << "bytes follow their slot";
    EXPECT_EQ(w.consume(), i);
  }
  EXPECT_FALSE(w.ready());
}

TEST(RecvWindow, ZeroByteWritesAreArrivals) {
  RecvWindow w(2);
  w.arrived(0, 0);
  EXPECT_TRUE(w.ready());
  EXPECT_EQ(w.ready_bytes(), 0u);
  EXPECT_EQ(w.consume(), 0u);
}

TEST(RecvWindow, AnArrivalBeyondTheWindowThrows) {
  RecvWindow w(4);
  // Slot 0 holds write 0; write 4 would reuse slot 0 before it was consumed and credited.
  w.arrived(0, 1);
  EXPECT_THROW(w.arrived(4, 1), std::runtime_error);
  EXPECT_THROW(w.arrived(7, 1), std::runtime_error);
  w.consume();
  w.arrived(4, 1);  // now inside [1, 5)
  EXPECT_THROW(w.arrived(5, 1), std::runtime_error);
}

TEST(RecvWindow, AWriteToAFullSlotThrows) {
  RecvWindow w(4);
  w.arrived(1, 1);
  EXPECT_THROW(w.arrived(1, 1), std::runtime_error);
}

TEST(RecvWindow, AStaleDuplicateThrows) {
  RecvWindow w(4);
  w.arrived(0, 1);
  w.consume();
  // Write 0 again, after it was consumed: read as 2^24 (the next wrap), far beyond.
  EXPECT_THROW(w.arrived(0, 1), std::runtime_error);
}

// More than 2^24 writes through a window of 8, each batch landing in reverse order: the
// receiver sees only the low 24 bits and must expand them across every wrap.
TEST(FlowControl, SequenceWrapsAround24Bits) {
  constexpr uint32_t kSlots = 8;
  constexpr uint64_t kWrites = (uint64_t{1} << kSequenceBits) + 3 * kSlots + 5;
  SendWindow send(kSlots);
  RecvWindow recv(kSlots);
  uint64_t next_expected = 0;
  std::vector<uint64_t> batch;
  for (uint64_t done = 0; done < kWrites;) {
    batch.clear();
    while (send.can_post() && done + batch.size() < kWrites) batch.push_back(send.post());
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      const uint32_t imm = imm_data(5, *it);
      ASSERT_EQ(imm_channel(imm), 5u);
      ASSERT_FALSE(imm_is_credit(imm));
      recv.arrived(imm_sequence(imm), static_cast<size_t>(*it & 0xff));
    }
    while (recv.ready()) {
      ASSERT_EQ(recv.ready_bytes(), next_expected & 0xff);
      const uint64_t seq = recv.consume();
      ASSERT_EQ(seq, next_expected);
      ++next_expected;
      const uint32_t credit = imm_credit(5, seq);
      ASSERT_TRUE(imm_is_credit(credit));
      ASSERT_EQ(imm_sequence(credit), seq & kSequenceMask);
      send.credit();
    }
    done += batch.size();
  }
  EXPECT_EQ(recv.consumed(), kWrites);
  EXPECT_EQ(send.credited(), kWrites);
  // And the checks still work past the wrap.
  EXPECT_THROW(recv.arrived(static_cast<uint32_t>((kWrites + kSlots) & kSequenceMask), 1), std::runtime_error);
  recv.arrived(static_cast<uint32_t>((kWrites + 1) & kSequenceMask), 1);
  EXPECT_THROW(recv.arrived(static_cast<uint32_t>((kWrites + 1) & kSequenceMask), 1), std::runtime_error);
  EXPECT_FALSE(recv.ready());
}

TEST(Immediate, RoundTripsChannelSequenceAndCreditFlag) {
  for (uint32_t channel : {0u, 1u, 63u, 64u, kMaxChannels - 1}) {
    for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{kSequenceMask}, uint64_t{kSequenceMask} + 1,
                         uint64_t{kSequenceMask} + 2, (uint64_t{1} << 40) + 5, ~uint64_t{0}}) {
      const uint32_t data = imm_data(channel, seq);
      EXPECT_FALSE(imm_is_credit(data)) << channel << " " << seq;
      EXPECT_EQ(imm_channel(data), channel) << seq;
      EXPECT_EQ(imm_sequence(data), seq & kSequenceMask) << channel;
      const uint32_t credit = imm_credit(channel, seq);
      EXPECT_TRUE(imm_is_credit(credit)) << channel << " " << seq;
      EXPECT_EQ(imm_channel(credit), channel) << seq;
      EXPECT_EQ(imm_sequence(credit), seq & kSequenceMask) << channel;
      EXPECT_NE(data, credit);
    }
  }
}

TEST(Immediate, LayoutIsCreditChannelSequence) {
  EXPECT_EQ(kSequenceBits, 24u);
  EXPECT_EQ(kMaxChannels, 128u) << "7 channel bits between the credit flag and the sequence";
  EXPECT_EQ(imm_data(0, 0), 0u);
  EXPECT_EQ(imm_data(1, 0), 1u << 24);
  EXPECT_EQ(imm_data(kMaxChannels - 1, kSequenceMask), 0x7fffffffu);
  EXPECT_EQ(imm_credit(0, 0), 0x80000000u);
  EXPECT_EQ(imm_credit(kMaxChannels - 1, kSequenceMask), 0xffffffffu);
}

}  // namespace
}  // namespace sxcoll
