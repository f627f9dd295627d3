#include "transport/verbs/pair.h"

#include <arpa/inet.h>

#include <algorithm>
#include <utility>

#include <fmt/core.h>

#include "transport/deadline.h"
#include "transport/error.h"
#include "transport/verbs/context.h"
#include "transport/verbs/registry.h"

namespace sxcoll::transport::verbs {

namespace {

constexpr size_t kPartAlign = 4096;  // parts split on page boundaries
constexpr int kPollBatch = 32;

const char* status_name(ibv_wc_status s) {
  switch (s) {
    case IBV_WC_LOC_LEN_ERR: return "IBV_WC_LOC_LEN_ERR";
    case IBV_WC_LOC_QP_OP_ERR: return "IBV_WC_LOC_QP_OP_ERR";
    case IBV_WC_LOC_PROT_ERR: return "IBV_WC_LOC_PROT_ERR";
    case IBV_WC_WR_FLUSH_ERR: return "IBV_WC_WR_FLUSH_ERR";
    case IBV_WC_REM_INV_REQ_ERR: return "IBV_WC_REM_INV_REQ_ERR";
    case IBV_WC_REM_ACCESS_ERR: return "IBV_WC_REM_ACCESS_ERR";
    case IBV_WC_REM_OP_ERR: return "IBV_WC_REM_OP_ERR";
    case IBV_WC_RETRY_EXC_ERR: return "IBV_WC_RETRY_EXC_ERR";
    case IBV_WC_RNR_RETRY_EXC_ERR: return "IBV_WC_RNR_RETRY_EXC_ERR";
    case IBV_WC_FATAL_ERR: return "IBV_WC_FATAL_ERR";
    case IBV_WC_GENERAL_ERR: return "IBV_WC_GENERAL_ERR";
    default: return "IBV_WC_ERROR";
  }
}

const char* work_name(WrKind kind) {
  switch (kind) {
    case WrKind::Write: return "an RDMA write with immediate";
    case WrKind::Notify: return "a notify (send with immediate)";
    case WrKind::Recv: return "a receive";
  }
  return "a work request";
}

}  // namespace

Pair::Pair(Context& context, int peer) : context_(context), peer_(peer) {
  const auto& rails = context_.rails();
  const Options& o = context_.options();
  used_rails_ = context_.rails_for(peer_);
  nrails_ = used_rails_.size();
  ndata_ = static_cast<size_t>(o.qps) * nrails_;
  split_ = ndata_ > 1;
  const size_t links_per_rail = static_cast<size_t>(o.qps) + (split_ ? 1 : 0);
  for (size_t r : used_rails_) {
    const Rail& rail = *rails[r];
    const int cqe = static_cast<int>(links_per_rail * (o.send_depth + o.recv_depth));
    ibv_cq* cq = ::ibv_create_cq(rail.context(), std::min(cqe, rail.max_cqe()), this, rail.channel(), 0);
    if (cq == nullptr)
      throw RunError(fmt::format("rank {}: verbs: ibv_create_cq ({} entries) for rank {} on {} failed: {}",
                                 context_.rank(), cqe, peer_, rail.name(), errno_text(errno)));
    cqs_.push_back(cq);
  }
  auto add_link = [&](size_t used, bool data) {
    Link link;
    link.rail = used_rails_[used];
    link.qp = std::make_unique<QueuePair>(*rails[link.rail], cqs_[used], o, context_.rank(), peer_);
    link.data = data;
    links_.push_back(std::move(link));
  };
  for (size_t u = 0; u < nrails_; ++u)
    for (int q = 0; q < o.qps; ++q) add_link(u, true);
  if (split_)
    for (size_t u = 0; u < nrails_; ++u) add_link(u, false);
  for (size_t i = 0; i < links_.size(); ++i)
    for (uint32_t k = 0; k < o.recv_depth; ++k)
      links_[i].qp->post_recv(make_wr_id(WrKind::Recv, static_cast<uint32_t>(i), 0));
}

Pair::~Pair() {
  links_.clear();  // QPs before their completion queues
  for (ibv_cq* cq : cqs_) ::ibv_destroy_cq(cq);
}

void Pair::connect(const std::vector<RemoteQp>& remote, const std::vector<uint64_t>& max_message) {
  for (size_t i = 0; i < links_.size(); ++i) links_[i].qp->connect(remote[i]);
  max_chunk_.assign(context_.rails().size(), kPartAlign);
  for (size_t r : used_rails_) {
    uint64_t m = std::min<uint64_t>({context_.rails()[r]->max_msg_bytes(), max_message[r], uint64_t{1} << 30});
    max_chunk_[r] = std::max<uint64_t>(m & ~uint64_t{kPartAlign - 1}, kPartAlign);
  }
}

std::string Pair::gpu_direct() const { return context_.gpu_direct(); }

LinkCost Pair::cost() const {
  double gbps = 0;
  for (size_t r : used_rails_) gbps += context_.rails()[r]->rate_gbps();
  // A RoCE write's round of the engine: a few microseconds of NIC, PCIe and polling.
  return LinkCost{8.0, std::max(gbps, 1.0) * 1000.0 / 8.0};
}

int Pair::link_of_qpn(uint32_t qpn) const {
  for (size_t i = 0; i < links_.size(); ++i)
    if (links_[i].qp->qpn() == qpn) return static_cast<int>(i);
  return -1;
}

void Pair::post(size_t index, Work work) {
  Link& link = links_[index];
  if (!link.backlog.empty() || link.outstanding >= context_.options().send_depth) {
    link.backlog.push_back(work);
    return;
  }
  work.wr.sg_list = work.wr.num_sge > 0 ? &work.sge : nullptr;
  work.wr.next = nullptr;
  link.qp->post_send(work.wr);
  ++link.outstanding;
}

void Pair::write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
                 uint32_t imm, uint64_t cookie) {
  check_write_bounds("verbs", context_.rank(), peer_, src, src_offset, len, dst, dst_offset);
  if (len == 0) {
    notify(imm, cookie);
    return;
  }
  const auto* reg = static_cast<const Registration*>(src.handle);
  if (reg == nullptr)
    throw RunError(fmt::format("rank {}: verbs: write from a region this context did not register", context_.rank()));
  const uint64_t id = next_write_++;
  const size_t threshold = std::max(context_.options().min_split_bytes, ndata_ * kPartAlign);
  const bool split = split_ && len >= threshold;
  const size_t nparts = split ? ndata_ : 1;
  part_links_.resize(nparts);
  for (size_t i = 0; i < nparts; ++i) part_links_[i] = split ? i : split_ ? ndata_ + (next_control_++ % nrails_) : 0;
  const char* base = static_cast<const char*>(src.base) + src_offset;
  uint32_t wrs = 0;
  for (size_t i = 0; i < nparts; ++i) {
    const size_t begin = split ? (len * i / nparts) & ~(kPartAlign - 1) : 0;
    const size_t end = !split || i + 1 == nparts ? len : (len * (i + 1) / nparts) & ~(kPartAlign - 1);
    const size_t index = part_links_[i];
    const size_t rail = links_[index].rail;
    context_.rail_counters(rail).bytes_sent += end - begin;
    wrs += post_part(index, base + begin, end - begin, reg->mrs[rail]->lkey, dst.addr + dst_offset + begin,
                     rkey_for(dst, rail), imm, id);
  }
  pending_[id] = PendingWrite{wrs, cookie};
}

uint32_t Pair::post_part(size_t index, const char* addr, size_t len, uint32_t lkey, uint64_t remote_addr,
                         uint32_t rkey, uint32_t imm, uint64_t id) {
  const uint64_t full = max_chunk_[links_[index].rail];
  uint32_t wrs = 0;
  size_t done = 0;
  for (;;) {
    const size_t chunk = std::min<size_t>(len - done, full);
    Work w;
    w.wr.wr_id = make_wr_id(WrKind::Write, static_cast<uint32_t>(index), id);
    w.wr.send_flags = IBV_SEND_SIGNALED;
    w.wr.imm_data = htonl(imm);
    if (chunk == 0) {  // the part ended on a full chunk: an empty send says so
      w.wr.opcode = IBV_WR_SEND_WITH_IMM;
      w.wr.num_sge = 0;
    } else {
      w.sge.addr = reinterpret_cast<uint64_t>(addr + done);
      w.sge.length = static_cast<uint32_t>(chunk);
      w.sge.lkey = lkey;
      w.wr.num_sge = 1;
      w.wr.opcode = IBV_WR_RDMA_WRITE_WITH_IMM;
      w.wr.wr.rdma.remote_addr = remote_addr + done;
      w.wr.wr.rdma.rkey = rkey;
    }
    post(index, w);
    ++wrs;
    done += chunk;
    if (chunk < full) return wrs;
  }
}

void Pair::notify(uint32_t imm, uint64_t cookie) {
  const uint64_t id = next_write_++;
  const size_t index = split_ ? ndata_ + (next_control_++ % nrails_) : 0;
  pending_[id] = PendingWrite{1, cookie};
  Work w;
  w.wr.num_sge = 0;
  w.wr.opcode = IBV_WR_SEND_WITH_IMM;
  w.wr.send_flags = IBV_SEND_SIGNALED;
  w.wr.imm_data = htonl(imm);
  w.wr.wr_id = make_wr_id(WrKind::Notify, static_cast<uint32_t>(index), id);
  post(index, w);
}

uint32_t Pair::rkey_for(const RemoteRegion& dst, size_t rail) const {
  if (rail >= dst.nrkeys)
    throw RunError(fmt::format("rank {}: verbs: rank {}'s region at {:#x} carries {} rkey(s), none for rail {} ({}): was "
                               "it registered by a verbs context with the same rails?",
                               context_.rank(), peer_, dst.addr, dst.nrkeys, rail, context_.rails()[rail]->name()));
  return dst.rkeys[rail];
}

size_t Pair::poll() {
  size_t handled = 0;
  ibv_wc wcs[kPollBatch];
  for (size_t r = 0; r < cqs_.size(); ++r) {
    for (;;) {
      int n = ::ibv_poll_cq(cqs_[r], kPollBatch, wcs);
      if (n < 0)
        throw RunError(fmt::format("rank {}: verbs: ibv_poll_cq for rank {} on {} failed", context_.rank(), peer_,
                                   context_.rails()[used_rails_[r]]->name()));
      for (int i = 0; i < n; ++i) handle(wcs[i], used_rails_[r]);
      handled += static_cast<size_t>(n);
      if (n < kPollBatch) break;
    }
  }
  return handled;
}

void Pair::arm() {
  for (size_t r = 0; r < cqs_.size(); ++r)
    if (int rc = ::ibv_req_notify_cq(cqs_[r], 0))
      throw RunError(fmt::format("rank {}: verbs: ibv_req_notify_cq for rank {} on {} failed: {}", context_.rank(),
                                 peer_, context_.rails()[used_rails_[r]]->name(), errno_text(rc)));
}

void Pair::fail_completion(const ibv_wc& wc, size_t rail) {
  const uint32_t index = wr_link(wc.wr_id);
  std::string where = index < links_.size()
                          ? links_[index].qp->where()
                          : fmt::format("rank {}: verbs: QP {:#x} to rank {} on {}", context_.rank(), wc.qp_num, peer_,
                                        context_.rails()[rail]->name());
  const Options& o = context_.options();
  std::string why;
  switch (wc.status) {
    case IBV_WC_RETRY_EXC_ERR:
      why = fmt::format(" after {} retries of a {:.3g} ms ACK timeout: rank {} stopped answering (process gone, "
                        "link down, or a GID/rail that does not reach it)",
                        o.retry_count, 4.096e-3 * static_cast<double>(uint64_t{1} << o.timeout), peer_);
      break;
    case IBV_WC_RNR_RETRY_EXC_ERR: why = fmt::format(": rank {} had no receive posted", peer_); break;
    case IBV_WC_REM_ACCESS_ERR: why = fmt::format(": rank {} refused the address or rkey", peer_); break;
    case IBV_WC_WR_FLUSH_ERR: why = ": the QP was already in error"; break;
    default: break;
  }
  throw PeerError(peer_, fmt::format("{}: completion error {} ({}) on {}, vendor error {:#x}{}", where,
                                     status_name(wc.status), ::ibv_wc_status_str(wc.status),
                                     work_name(wr_kind(wc.wr_id)), wc.vendor_err, why));
}

void Pair::handle(const ibv_wc& wc, size_t rail) {
  if (wc.status != IBV_WC_SUCCESS) fail_completion(wc, rail);
  const uint32_t index = wr_link(wc.wr_id);
  if (index >= links_.size())
    throw RunError(fmt::format("rank {}: verbs: completion for unknown link {} of rank {}", context_.rank(), index, peer_));
  Link& link = links_[index];
  switch (wc.opcode) {
    case IBV_WC_RECV:
    case IBV_WC_RECV_RDMA_WITH_IMM: {
      link.qp->post_recv(wc.wr_id);  // first, so that the peer never finds the queue empty
      if ((wc.wc_flags & IBV_WC_WITH_IMM) == 0)
        throw PeerError(peer_, fmt::format("{}: a message without immediate data arrived", link.qp->where()));
      const uint32_t imm = ntohl(wc.imm_data);
      if (link.chunk_bytes > 0 && imm != link.chunk_imm)
        throw PeerError(peer_, fmt::format("{}: chunks of one write carry different immediates ({:#x}, {:#x})",
                                           link.qp->where(), link.chunk_imm, imm));
      if (wc.opcode == IBV_WC_RECV) {
        if (link.chunk_bytes == 0) {  // a notify
          context_.complete(Completion{Completion::Type::Arrived, peer_, imm, 0, 0});
          return;
        }
        deliver(link, imm, std::exchange(link.chunk_bytes, 0));  // the end of a part of full chunks
        return;
      }
      context_.rail_counters(link.rail).bytes_received += wc.byte_len;
      if (max_chunk_.size() > link.rail && wc.byte_len == max_chunk_[link.rail]) {
        link.chunk_bytes += wc.byte_len;
        link.chunk_imm = imm;
        return;
      }
      deliver(link, imm, std::exchange(link.chunk_bytes, 0) + wc.byte_len);
      return;
    }
    case IBV_WC_RDMA_WRITE:
    case IBV_WC_SEND: {
      --link.outstanding;
      while (!link.backlog.empty() && link.outstanding < context_.options().send_depth) {
        Work w = link.backlog.front();
        link.backlog.pop_front();
        w.wr.sg_list = w.wr.num_sge > 0 ? &w.sge : nullptr;
        w.wr.next = nullptr;
        link.qp->post_send(w.wr);
        ++link.outstanding;
      }
      auto it = pending_.find(wr_sequence(wc.wr_id));
      if (it == pending_.end())
        throw RunError(fmt::format("{}: completion for an unknown write", link.qp->where()));
      if (--it->second.parts_left > 0) return;
      context_.complete(Completion{Completion::Type::Sent, peer_, 0, 0, it->second.cookie});
      pending_.erase(it);
      return;
    }
    default:
      throw RunError(fmt::format("{}: unexpected completion opcode {}", link.qp->where(), static_cast<int>(wc.opcode)));
  }
}

void Pair::deliver(Link& link, uint32_t imm, uint64_t bytes) {
  if (split_ && link.data)
    part_arrived(link, imm, bytes);
  else
    context_.complete(Completion{Completion::Type::Arrived, peer_, imm, static_cast<size_t>(bytes), 0});
}

void Pair::part_arrived(Link& link, uint32_t imm, uint64_t bytes) {
  const uint64_t k = link.arrivals++;
  if (k < partial_base_)
    throw PeerError(peer_, fmt::format("{}: part of split write {} arrived after that write was complete",
                                       link.qp->where(), k));
  const size_t at = static_cast<size_t>(k - partial_base_);
  if (partials_.size() <= at) partials_.resize(at + 1);
  PartialArrival& p = partials_[at];
  if (p.parts > 0 && p.imm != imm)
    throw PeerError(peer_, fmt::format("{}: parts of split write {} carry different immediates ({:#x}, {:#x})",
                                       link.qp->where(), k, p.imm, imm));
  p.imm = imm;
  p.bytes += bytes;
  if (++p.parts == ndata_) {
    p.done = true;
    context_.complete(Completion{Completion::Type::Arrived, peer_, imm, static_cast<size_t>(p.bytes), 0});
  }
  while (!partials_.empty() && partials_.front().done) {
    partials_.pop_front();
    ++partial_base_;
  }
}

}  // namespace sxcoll::transport::verbs
