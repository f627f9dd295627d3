// A shared-memory connection to a rank of this host.
//
// write() copies the bytes straight into the peer's receive segment (mapped here on first
// use, once per segment) and then posts one record into the peer's mailbox ring for us; the
// copy is done when write() returns, so its Sent completion is reported at once. A record
// that finds the ring full waits in a local queue that progress() retries: a sender never
// blocks on a receiver and never drops a record.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "transport/shm/mailbox.h"
#include "transport/shm/segment.h"
#include "transport/transport.h"

namespace sxcoll::transport::shm {

class Context;

class Pair final : public transport::Pair {
 public:
  // `mailbox` is the peer's, mapped here; `inbound` is our ring that the peer writes to.
  Pair(Context& context, int peer, pid_t pid, PeerMapping mailbox_mapping, Mailbox mailbox, Ring& inbound, int pidfd);
  ~Pair() override;
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  int peer() const override { return peer_; }
  void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
             uint32_t imm, uint64_t cookie) override;
  void notify(uint32_t imm, uint64_t cookie) override;
  std::string_view transport() const override { return "shm"; }
  LinkCost cost() const override;
  // Tells the peer that `bytes` for `imm` have landed in its memory by other means (a
  // copy of the cuda_ipc backend): the record a write() posts, without the copy.
  void announce(uint32_t imm, uint64_t bytes) { post(imm, bytes); }

  // For the context, on the caller's thread.
  // Appends the peer's arrivals to `out`; returns how many and the bytes they carried.
  size_t drain(std::vector<Completion>& out, uint64_t& bytes);
  // Posts what the local queue holds while the ring takes it; true when it is empty.
  bool flush_backlog();
  bool has_backlog() const { return !backlog_.empty(); }
  // Asks the peer for a wake-up when it has drained our ring; then flush again.
  void want_room() { outbound_.want_room(); }
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_; }

 private:
  // Where the peer's region `dst` starts in our address space.
  char* destination(const RemoteRegion& dst);
  void post(uint32_t imm, uint64_t bytes);

  Context& context_;
  int peer_;
  pid_t pid_;
  PeerMapping mailbox_mapping_;
  Mailbox mailbox_;
  RingProducer outbound_;
  RingConsumer inbound_;
  int pidfd_;
  std::deque<Record> backlog_;
  // The peer's segments mapped here, by serial; and the last region written to, since a
  // link writes into one region over and over.
  std::unordered_map<uint64_t, PeerMapping> segments_;
  std::unordered_map<std::string, char*> regions_;
  std::string last_ipc_;
  char* last_region_ = nullptr;
};

}  // namespace sxcoll::transport::shm
