// The control block each rank of a host shares with the others: a doorbell it sleeps on,
// and one single-producer single-consumer ring of arrival records per sender.
//
// A write's bytes are copied into the receiver's segment first; its record is published
// afterwards with a release store of the ring's tail, which the receiver reads with an
// acquire load: whoever sees the record sees the bytes. Nothing on the path of a message
// enters the kernel, except a FUTEX_WAKE when the receiver said it is going to sleep.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sxcoll::transport::shm {

inline constexpr size_t kCacheLine = 64;

// One write's arrival: what Completion::Arrived carries.
struct Record {
  uint32_t imm;
  uint32_t reserved;
  uint64_t bytes;
};

// Records in flight per ordered pair. The engine keeps at most a window of slots and
// credits per channel in flight, so a ring of this size fills only with many channels;
// when it does, the sender queues locally (Pair) and never blocks.
inline constexpr uint64_t kRingRecords = 2048;
static_assert((kRingRecords & (kRingRecords - 1)) == 0, "the ring indexes by mask");

// Head and tail count records since the start (64 bits: they never wrap) and sit on cache
// lines of their own, so that the producer's and the consumer's stores do not bounce one line.
struct Ring {
  alignas(kCacheLine) std::atomic<uint64_t> tail;  // written by the producer
  alignas(kCacheLine) std::atomic<uint64_t> head;  // written by the consumer
  // Set by a producer whose records did not fit: the consumer rings its doorbell once it
  // has made room, so that a producer asleep with a backlog is not left waiting.
  alignas(kCacheLine) std::atomic<uint32_t> producer_waiting;
  alignas(kCacheLine) Record records[kRingRecords];
};

// The owner sleeps on `word` (a futex shared between processes) after raising `sleeping`;
// a sender that posted something and then sees `sleeping` bumps `word` and wakes it. Both
// sides put a sequentially consistent fence between their store and their load (posting /
// raising, then looking at the other's), so at least one of them sees the other's: no
// wake-up is lost, and a sender pays for a system call only when the owner sleeps.
struct Doorbell {
  alignas(kCacheLine) std::atomic<uint32_t> word;
  alignas(kCacheLine) std::atomic<uint32_t> sleeping;
};

// A rank's mailbox: a header page-aligned at the start of its own segment, then one ring
// per rank of the run (rings[s] carries sender s's records; only local senders use theirs).
struct MailboxHeader {
  uint64_t magic;
  uint32_t nrings;
  Doorbell doorbell;
};

class Mailbox {
 public:
  Mailbox() = default;
  static size_t bytes_for(uint32_t nrings);
  // Lays a mailbox out in zeroed shared memory of bytes_for(nrings).
  static Mailbox create(void* memory, uint32_t nrings);
  // A mailbox another rank laid out; empty (!valid()) when `memory` does not hold one of `nrings`.
  static Mailbox attach(void* memory, size_t bytes, uint32_t nrings);

  bool valid() const { return header_ != nullptr; }
  Doorbell& doorbell() const { return header_->doorbell; }
  Ring& ring(int sender) const { return rings_[sender]; }

 private:
  static size_t rings_offset();
  MailboxHeader* header_ = nullptr;
  Ring* rings_ = nullptr;
};

// The sender's end of one ring; state it alone touches stays in its own memory.
class RingProducer {
 public:
  RingProducer() = default;
  explicit RingProducer(Ring* ring) : ring_(ring), tail_(ring->tail.load(std::memory_order_relaxed)) {}
  // False when the ring is full.
  bool push(const Record& r);
  // After a push that failed: asks the consumer for a wake-up once it has room.
  // Then push() again: the consumer may have made room before it saw the request.
  void want_room();

 private:
  Ring* ring_ = nullptr;
  uint64_t tail_ = 0;
  uint64_t head_seen_ = 0;  // the consumer's head when last looked at: spares reading its line
};

// The receiver's end of one ring.
class RingConsumer {
 public:
  RingConsumer() = default;
  explicit RingConsumer(Ring* ring) : ring_(ring), head_(ring->head.load(std::memory_order_relaxed)) {}
  // Hands every published record to `f`, in order; returns how many.
  template <typename F>
  size_t drain(F&& f);
  // After a drain that made room: whether the producer asked to be woken (and clears it).
  bool producer_wants_room();

 private:
  Ring* ring_ = nullptr;
  uint64_t head_ = 0;
};

template <typename F>
size_t RingConsumer::drain(F&& f) {
  const uint64_t tail = ring_->tail.load(std::memory_order_acquire);
  if (tail == head_) return 0;
  for (uint64_t i = head_; i != tail; ++i) f(ring_->records[i & (kRingRecords - 1)]);
  const size_t n = static_cast<size_t>(tail - head_);
  head_ = tail;
  ring_->head.store(head_, std::memory_order_release);
  return n;
}

// The owner's side of its doorbell.
class DoorbellWaiter {
 public:
  explicit DoorbellWaiter(Doorbell* d = nullptr) : d_(d) {}
  // Announces the sleep; returns the word to hand to sleep(). The caller then looks at its
  // rings once more and, only if they are empty, sleeps.
  uint32_t prepare();
  // Sleeps until woken, `timeout_ms` passes or a signal comes; then clears `sleeping`.
  void sleep(uint32_t word, int timeout_ms);
  // The caller found something after prepare(): does not sleep.
  void cancel();

 private:
  Doorbell* d_;
};

// A sender's side of a peer's doorbell: after publishing a record.
void ring_doorbell(Doorbell& d);

}  // namespace sxcoll::transport::shm
