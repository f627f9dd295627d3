#include "transport/shm/mailbox.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>
#include <cstddef>

namespace sxcoll::transport::shm {

namespace {

constexpr uint64_t kMagic = 0x73786d61696c6231ull;  // "sxmailb1"

// Not FUTEX_PRIVATE_FLAG: the word lives in memory shared by several processes.
long futex(std::atomic<uint32_t>* word, int op, uint32_t value, const timespec* timeout) {
  return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, timeout, nullptr, 0);
}

}  // namespace

size_t Mailbox::rings_offset() { return (sizeof(MailboxHeader) + kCacheLine - 1) / kCacheLine * kCacheLine; }

size_t Mailbox::bytes_for(uint32_t nrings) {
  const size_t raw = rings_offset() + size_t{nrings} * sizeof(Ring);
  return (raw + 4095) / 4096 * 4096;
}

Mailbox Mailbox::create(void* memory, uint32_t nrings) {
  // The memory is zeroed (a fresh segment): every counter and flag starts at 0 already.
  Mailbox m;
  m.header_ = static_cast<MailboxHeader*>(memory);
  m.rings_ = reinterpret_cast<Ring*>(static_cast<char*>(memory) + rings_offset());
  m.header_->nrings = nrings;
  std::atomic_ref<uint64_t>(m.header_->magic).store(kMagic, std::memory_order_release);
  return m;
}

Mailbox Mailbox::attach(void* memory, size_t bytes, uint32_t nrings) {
  if (bytes < bytes_for(nrings)) return {};
  auto* header = static_cast<MailboxHeader*>(memory);
  if (std::atomic_ref<uint64_t>(header->magic).load(std::memory_order_acquire) != kMagic || header->nrings != nrings)
    return {};
  Mailbox m;
  m.header_ = header;
  m.rings_ = reinterpret_cast<Ring*>(static_cast<char*>(memory) + rings_offset());
  return m;
}

bool RingProducer::push(const Record& r) {
  if (tail_ - head_seen_ == kRingRecords) {
    head_seen_ = ring_->head.load(std::memory_order_acquire);
    if (tail_ - head_seen_ == kRingRecords) return false;
  }
  ring_->records[tail_ & (kRingRecords - 1)] = r;
  ++tail_;
  // Release: the record, and the bytes copied before it, are visible to whoever sees the tail.
  ring_->tail.store(tail_, std::memory_order_release);
  return true;
}

void RingProducer::want_room() {
  ring_->producer_waiting.store(1, std::memory_order_relaxed);
  // Pairs with the fence in producer_wants_room(): our request before our next look at the head.
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

bool RingConsumer::producer_wants_room() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (ring_->producer_waiting.load(std::memory_order_relaxed) == 0) return false;
  ring_->producer_waiting.store(0, std::memory_order_relaxed);
  return true;
}

uint32_t DoorbellWaiter::prepare() {
  const uint32_t word = d_->word.load(std::memory_order_acquire);
  d_->sleeping.store(1, std::memory_order_relaxed);
  // Pairs with the fence in ring_doorbell(): our flag before our last look at the rings.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return word;
}

void DoorbellWaiter::sleep(uint32_t word, int timeout_ms) {
  timespec t{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1000000L};
  // Returns at once (EAGAIN) when a sender bumped the word since prepare().
  futex(&d_->word, FUTEX_WAIT, word, &t);
  d_->sleeping.store(0, std::memory_order_relaxed);
}

void DoorbellWaiter::cancel() { d_->sleeping.store(0, std::memory_order_relaxed); }

void ring_doorbell(Doorbell& d) {
  // Pairs with the fence in prepare(): our record before our look at the flag.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (d.sleeping.load(std::memory_order_relaxed) == 0) return;
  d.word.fetch_add(1, std::memory_order_release);
  futex(&d.word, FUTEX_WAKE, INT_MAX, nullptr);
}

}  // namespace sxcoll::transport::shm
