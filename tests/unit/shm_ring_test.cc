// The shared-memory backend's mailbox in one process: the ring keeps order across its
// wrap-around, refuses a record when full (never overwrites one), asks for room, and its
// doorbell loses no wake-up between a sleeper and a sender on two threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "transport/shm/mailbox.h"

namespace sxcoll::transport::shm {
namespace {

// Zeroed, page-aligned memory as a fresh segment gives it.
struct Memory {
  explicit Memory(size_t bytes) : p(static_cast<char*>(std::aligned_alloc(4096, bytes))), n(bytes) {
    std::memset(p, 0, n);
  }
  ~Memory() { std::free(p); }
  char* p;
  size_t n;
};

Record record(uint64_t i) { return Record{static_cast<uint32_t>(i * 7 + 1), 0, i}; }

TEST(ShmRing, KeepsOrderAcrossManyWrapArounds) {
  Memory mem(Mailbox::bytes_for(2));
  Mailbox box = Mailbox::create(mem.p, 2);
  RingProducer producer(&box.ring(1));
  RingConsumer consumer(&box.ring(1));
  uint64_t sent = 0, seen = 0;
  // Batches of a size prime to the ring's: every index of the ring is hit at every phase.
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k < 997; ++k) ASSERT_TRUE(producer.push(record(sent++)));
    consumer.drain([&](const Record& r) {
      EXPECT_EQ(r.bytes, seen);
      EXPECT_EQ(r.imm, record(seen).imm);
      ++seen;
    });
    ASSERT_EQ(seen, sent);
  }
  EXPECT_GT(sent, 10 * kRingRecords);
  EXPECT_EQ(consumer.drain([](const Record&) { ADD_FAILURE() << "a record out of nowhere"; }), 0u);
}

TEST(ShmRing, AFullRingRefusesUntilTheConsumerMakesRoom) {
  Memory mem(Mailbox::bytes_for(1));
  Mailbox box = Mailbox::create(mem.p, 1);
  RingProducer producer(&box.ring(0));
  RingConsumer consumer(&box.ring(0));
  for (uint64_t i = 0; i < kRingRecords; ++i) ASSERT_TRUE(producer.push(record(i)));
  EXPECT_FALSE(producer.push(record(kRingRecords))) << "a full ring took one more record";
  EXPECT_FALSE(producer.push(record(kRingRecords)));
  producer.want_room();

  uint64_t seen = 0;
  EXPECT_EQ(consumer.drain([&](const Record& r) { EXPECT_EQ(r.bytes, seen++); }), kRingRecords);
  EXPECT_TRUE(consumer.producer_wants_room()) << "the producer's request for room was lost";
  EXPECT_FALSE(consumer.producer_wants_room()) << "the request is answered once";
  EXPECT_TRUE(producer.push(record(kRingRecords)));
  EXPECT_EQ(consumer.drain([&](const Record& r) { EXPECT_EQ(r.bytes, seen++); }), 1u);
  EXPECT_EQ(seen, kRingRecords + 1);
}

TEST(ShmRing, MailboxesOfAnotherSizeOrUnwrittenMemoryAreRefused) {
  Memory mem(Mailbox::bytes_for(4));
  EXPECT_FALSE(Mailbox::attach(mem.p, mem.n, 4).valid()) << "zeroed memory taken for a mailbox";
  Mailbox::create(mem.p, 4);
  EXPECT_TRUE(Mailbox::attach(mem.p, mem.n, 4).valid());
  EXPECT_FALSE(Mailbox::attach(mem.p, mem.n, 3).valid());
  EXPECT_FALSE(Mailbox::attach(mem.p, Mailbox::bytes_for(4) - 4096, 4).valid());
}

// A consumer that sleeps whenever its ring is empty; a producer on another thread that posts
// one record, rings, and waits until the consumer has taken it before the next. Each record
// thus races a consumer on its way to sleep; a lost wake-up would leave it asleep for the
// whole 2 s timeout, since nothing else comes until it wakes.
TEST(ShmRing, TheDoorbellLosesNoWakeUp) {
  Memory mem(Mailbox::bytes_for(2));
  Mailbox box = Mailbox::create(mem.p, 2);
  constexpr uint64_t kRecords = 20000;
  std::atomic<uint64_t> taken{0};
  std::thread producer_thread([&] {
    RingProducer producer(&box.ring(1));
    for (uint64_t i = 0; i < kRecords; ++i) {
      ASSERT_TRUE(producer.push(record(i)));
      ring_doorbell(box.doorbell());
      while (taken.load(std::memory_order_acquire) <= i) std::this_thread::yield();
    }
  });
  RingConsumer consumer(&box.ring(1));
  DoorbellWaiter waiter(&box.doorbell());
  uint64_t seen = 0;
  int long_sleeps = 0;
  auto take = [&](const Record& r) {
    EXPECT_EQ(r.bytes, seen);
    taken.store(++seen, std::memory_order_release);
  };
  while (seen < kRecords && long_sleeps < 3) {
    if (consumer.drain(take) > 0) continue;
    const uint32_t word = waiter.prepare();
    if (consumer.drain(take) > 0) {
      waiter.cancel();
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    waiter.sleep(word, 2000);
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(1)) ++long_sleeps;
  }
  if (seen < kRecords) taken.store(kRecords, std::memory_order_release);  // lets the producer end
  producer_thread.join();
  EXPECT_EQ(seen, kRecords);
  EXPECT_EQ(long_sleeps, 0) << "a sleeper was not woken by a record posted as it went to sleep";
  EXPECT_EQ(box.doorbell().sleeping.load(), 0u);
}

}  // namespace
}  // namespace sxcoll::transport::shm
