// A verbs connection to one peer: RC QPs on every rail it uses (every rail of the context,
// or the one rail both ranks drive: --rails), writes spread over them.
//
// Links: each rail has `qps` data QPs, and, when a connection has more than one data QP in
// all, one control QP. A write of at least min_split_bytes is split in one part per data
// QP of every rail, each part an RDMA WRITE WITH IMM carrying the caller's immediate. An
// RC QP delivers in order, and every split write uses every data QP once, so the receiver
// knows that the k-th arrival on each data QP belongs to the k-th split write: when all
// parts of it are in, it reports one Arrived with their total bytes. Smaller writes go
// whole on the control QPs, rail after rail, and are reported as they land; with a single
// data QP in all, that QP carries everything whole. Notifies are SENDs WITH IMM of no
// bytes (they need no rkey), told apart by their completion's opcode.
//
// A part longer than the port's largest message (8 MiB on Soft-RoCE, 1 GiB on mlx5) goes
// as chunks on its QP: full chunks of exactly the agreed maximum, then a shorter one, or,
// when nothing is left, an empty SEND WITH IMM. The receiver adds chunks up until one is
// not full, so every part is self-delimiting and byte counts stay exact.
#pragma once

#include <infiniband/verbs.h>

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "transport/transport.h"
#include "transport/verbs/qp.h"
#include "transport/verbs/wire.h"

namespace sxcoll::transport::verbs {

class Context;

class Pair final : public transport::Pair {
 public:
  // Creates the completion queues and QPs (INIT) and posts their receives.
  Pair(Context& context, int peer);
  ~Pair() override;

  int peer() const override { return peer_; }
  void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
             uint32_t imm, uint64_t cookie) override;
  void notify(uint32_t imm, uint64_t cookie) override;
  std::string gpu_direct() const override;
  std::string_view transport() const override { return "verbs"; }
  // The rails' line rate: a write of 64 KiB and more is split over all of them.
  LinkCost cost() const override;

  // Connection setup: our QPs for the blob, then the peer's side of each link.
  size_t link_count() const { return links_.size(); }
  const QueuePair& link_qp(size_t link) const { return *links_[link].qp; }
  size_t link_rail(size_t link) const { return links_[link].rail; }
  // `max_message` by rail: the peer's ports' largest message sizes.
  void connect(const std::vector<RemoteQp>& remote, const std::vector<uint64_t>& max_message);

  // Progress: polls every completion queue; returns how many completions were handled.
  size_t poll();
  void arm();
  // The link whose QP has this number, or -1; for asynchronous events.
  int link_of_qpn(uint32_t qpn) const;

 private:
  struct Work {
    ibv_send_wr wr{};
    ibv_sge sge{};
  };
  struct Link {
    std::unique_ptr<QueuePair> qp;
    size_t rail = 0;
    bool data = true;
    uint32_t outstanding = 0;  // send work requests posted and not completed
    std::deque<Work> backlog;  // waiting for room in the send queue
    uint64_t arrivals = 0;     // parts received so far (data links of a split connection)
    uint64_t chunk_bytes = 0;  // full chunks of a part still arriving
    uint32_t chunk_imm = 0;
  };
  struct PendingWrite {
    uint32_t parts_left;
    uint64_t cookie;
  };
  struct PartialArrival {
    uint32_t imm = 0;
    uint64_t bytes = 0;
    uint32_t parts = 0;
    bool done = false;
  };

  void post(size_t link, Work work);
  // Posts one part as chunks (see above); returns how many work requests that took.
  uint32_t post_part(size_t link, const char* addr, size_t len, uint32_t lkey, uint64_t remote_addr, uint32_t rkey,
                     uint32_t imm, uint64_t id);
  void deliver(Link& link, uint32_t imm, uint64_t bytes);
  void handle(const ibv_wc& wc, size_t rail);
  void part_arrived(Link& link, uint32_t imm, uint64_t bytes);
  uint32_t rkey_for(const RemoteRegion& dst, size_t rail) const;
  [[noreturn]] void fail_completion(const ibv_wc& wc, size_t rail);

  Context& context_;
  int peer_;
  std::vector<size_t> used_rails_;  // the context's rails this pair uses (Context::rails_for)
  size_t nrails_;                   // used_rails_.size()
  size_t ndata_;  // data links in all: qps * used rails
  bool split_;    // ndata_ > 1: control links exist and large writes are split
  std::vector<ibv_cq*> cqs_;  // by used rail
  std::vector<uint64_t> max_chunk_;  // by rail of the context: the largest message both ends take
  std::vector<Link> links_;   // data links rail by rail, then control links rail by rail (used rails)
  size_t next_control_ = 0;
  std::vector<size_t> part_links_;     // scratch of write(): the link of each part
  uint64_t next_write_ = 0;
  std::unordered_map<uint64_t, PendingWrite> pending_;
  std::deque<PartialArrival> partials_;  // split writes being received, oldest first
  uint64_t partial_base_ = 0;            // split-write index of partials_.front()
};

}  // namespace sxcoll::transport::verbs
