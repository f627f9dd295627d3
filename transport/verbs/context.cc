#include "transport/verbs/context.h"

#include <poll.h>

#include <algorithm>
#include <sstream>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/verbs/link_rate.h"
#include "transport/verbs/rail_affinity.h"

namespace sxcoll::transport::verbs {

namespace {

std::string gid_hex(const ibv_gid& gid) {
  std::string out;
  for (uint8_t b : gid.raw) out += fmt::format("{:02x}", b);
  return out;
}

bool parse_gid_hex(const std::string& text, ibv_gid& gid) {
  if (text.size() != 32) return false;
  for (size_t i = 0; i < 16; ++i) {
    unsigned value = 0;
    if (std::sscanf(text.c_str() + 2 * i, "%2x", &value) != 1) return false;
    gid.raw[i] = static_cast<uint8_t>(value);
  }
  return true;
}

// What a peer published in connect(): its rails, its key table, its QPs for us.
struct PeerBlob {
  struct RailEntry {
    std::string name;
    ibv_gid gid{};
    int mtu = 0;
    uint64_t max_message = 0;
  };
  std::vector<RailEntry> rails;
  std::map<size_t, RemoteQp> qps;  // by link, the ones meant for `me`
};

PeerBlob parse_blob(const std::string& text, int me, int rank, int peer) {
  PeerBlob blob;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    bool ok = true;
    if (kind == "rail") {
      size_t index = 0;
      PeerBlob::RailEntry r;
      std::string gid;
      ok = static_cast<bool>(in >> index >> r.name >> gid >> r.mtu >> r.max_message) && parse_gid_hex(gid, r.gid) &&
           index == blob.rails.size();
      blob.rails.push_back(r);
    } else if (kind == "qp") {
      int to = 0;
      size_t link = 0;
      RemoteQp q;
      ok = static_cast<bool>(in >> to >> link >> q.qpn >> q.psn);
      if (ok && to == me) blob.qps[link] = q;
    } else {
      ok = false;
    }
    if (!ok)
      throw RunError(fmt::format("rank {}: verbs: rank {} sent a malformed connection line '{}'", rank, peer, line));
  }
  return blob;
}

std::string rail_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool is_fatal(ibv_event_type t) {
  switch (t) {
    case IBV_EVENT_QP_FATAL:
    case IBV_EVENT_QP_REQ_ERR:
    case IBV_EVENT_QP_ACCESS_ERR:
    case IBV_EVENT_PATH_MIG_ERR:
    case IBV_EVENT_CQ_ERR:
    case IBV_EVENT_DEVICE_FATAL:
    case IBV_EVENT_PORT_ERR:
    case IBV_EVENT_SRQ_ERR:
    case IBV_EVENT_WQ_FATAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

Context::Context(bootstrap::Bootstrap& bootstrap, const Options& options) : bootstrap_(bootstrap), options_(options) {
  rails_ = open_rails(options_, rank());
  for (const auto& rail : rails_) {
    options_.send_depth = std::min<uint32_t>(options_.send_depth, static_cast<uint32_t>(rail->max_qp_wr()));
    options_.recv_depth = std::min<uint32_t>(options_.recv_depth, static_cast<uint32_t>(rail->max_qp_wr()));
    counters_.push_back(RailCounters{rail->name()});
  }
  registry_ = std::make_unique<MemoryRegistry>(rails_, rank());
  std::vector<std::optional<int>> hops;
  const auto gpu = pci_device_path(options_.gpu_bus_id, options_.pci_root);
  if (!gpu.empty())
    for (const auto& rail : rails_) hops.push_back(pcie_hops(gpu, rdma_device_path(rail->device(), options_.sysfs_root)));
  choice_ = choose_rail(RailPolicy::parse(options_.rails, "--rails"), bootstrap_.host_local_rank(),
                        bootstrap_.host_local_size(), static_cast<int>(rails_.size()), hops);
}

void Context::learn_driven_rails() {
  if (!driven_by_rank_.empty()) return;
  for (const auto& word : bootstrap_.allgather(std::to_string(choice_.rail))) {
    int r = -1;
    try {
      r = std::stoi(word);
    } catch (const std::exception&) {
      throw RunError(fmt::format("rank {}: verbs: a peer sent '{}' as its rail", rank(), word));
    }
    driven_by_rank_.push_back(r);
  }
}

std::vector<size_t> Context::rails_for(int peer) const {
  const int mine = choice_.rail;
  if (mine >= 0 && static_cast<size_t>(peer) < driven_by_rank_.size() &&
      driven_by_rank_[static_cast<size_t>(peer)] == mine)
    return {static_cast<size_t>(mine)};
  std::vector<size_t> all(rails_.size());
  for (size_t r = 0; r < all.size(); ++r) all[r] = r;
  return all;
}

Context::~Context() = default;

std::string Context::describe() const {
  std::vector<std::string> names;
  for (const auto& r : rails_) names.push_back(r->name());
  const size_t data = static_cast<size_t>(options_.qps) * rails_.size();
  const std::string driven =
      choice_.rail < 0 ? fmt::format("every link on every rail ({})", choice_.why)
                       : fmt::format("drives {} ({}); a peer that drives another rail: every rail",
                                     rails_[static_cast<size_t>(choice_.rail)]->name(), choice_.why);
  return fmt::format("verbs, {} rail{} ({}), {} QP{} per peer and rail{}, tc {}, sl {}, this rank {}", rails_.size(),
                     rails_.size() > 1 ? "s" : "", rail_names(names), options_.qps, options_.qps > 1 ? "s" : "",
                     data > 1 ? " (+1 for credits and small writes)" : "", options_.traffic_class,
                     options_.service_level, driven);
}

std::vector<RailInfo> Context::rail_info() const {
  std::vector<RailInfo> out;
  for (const auto& r : rails_) out.push_back(RailInfo{r->name(), r->describe(), r->rate_gbps()});
  return out;
}

void Context::connect(const std::vector<int>& peers) {
  learn_driven_rails();
  std::vector<int> fresh;
  for (int peer : peers) {
    if (peer == rank() || pairs_.count(peer)) continue;
    if (peer < 0 || peer >= size()) throw RunError(fmt::format("rank {}: verbs: no rank {} to connect to", rank(), peer));
    pairs_[peer] = std::make_unique<Pair>(*this, peer);
    fresh.push_back(peer);
  }
  std::ostringstream mine;
  for (size_t r = 0; r < rails_.size(); ++r)
    mine << "rail " << r << ' ' << rails_[r]->name() << ' ' << gid_hex(rails_[r]->gid()) << ' '
         << rails_[r]->active_mtu() << ' ' << rails_[r]->max_msg_bytes() << '\n';
  for (int peer : fresh) {
    const Pair& p = *pairs_[peer];
    for (size_t i = 0; i < p.link_count(); ++i)
      mine << "qp " << peer << ' ' << i << ' ' << p.link_qp(i).qpn() << ' ' << p.link_qp(i).psn() << '\n';
  }
  auto all = bootstrap_.allgather(mine.str());

  std::vector<std::string> my_names;
  for (const auto& r : rails_) my_names.push_back(r->name());
  for (int peer : fresh) {
    PeerBlob blob = parse_blob(all[static_cast<size_t>(peer)], rank(), rank(), peer);
    Pair& p = *pairs_[peer];
    if (blob.rails.size() != rails_.size()) {
      std::vector<std::string> theirs;
      for (const auto& r : blob.rails) theirs.push_back(r.name);
      throw RunError(fmt::format("rank {}: verbs: rank {} uses {} rail(s) ({}), this rank {} ({}): rails connect rail "
                                 "to rail, so every rank needs the same number (--hca)",
                                 rank(), peer, blob.rails.size(), rail_names(theirs), rails_.size(),
                                 rail_names(my_names)));
    }
    if (blob.qps.size() != p.link_count())
      throw RunError(fmt::format("rank {}: verbs: rank {} offers {} QPs for this connection, this rank {}: were all "
                                 "ranks started with the same --qps and --rails?",
                                 rank(), peer, blob.qps.size(), p.link_count()));
    std::vector<RemoteQp> remote(p.link_count());
    for (size_t i = 0; i < p.link_count(); ++i) {
      auto it = blob.qps.find(i);
      if (it == blob.qps.end())
        throw RunError(fmt::format("rank {}: verbs: rank {} sent no QP for link {}", rank(), peer, i));
      remote[i] = it->second;
      const auto& rail = blob.rails[p.link_rail(i)];
      remote[i].gid = rail.gid;
      remote[i].mtu = rail.mtu;
    }
    std::vector<uint64_t> max_message;
    for (const auto& r : blob.rails) max_message.push_back(r.max_message);
    p.connect(remote, max_message);
  }
  // Nobody writes before every QP of every rank is ready to receive.
  bootstrap_.barrier();
}

transport::Pair& Context::pair(int peer) {
  auto it = pairs_.find(peer);
  if (it == pairs_.end()) throw RunError(fmt::format("rank {}: verbs: not connected to rank {}", rank(), peer));
  return *it->second;
}

std::shared_ptr<MemoryRegion> Context::register_memory(void* base, size_t bytes, MemoryKind kind) {
  return registry_->register_memory(base, bytes, kind);
}

size_t Context::poll_all() {
  size_t n = 0;
  for (auto& [peer, p] : pairs_) n += p->poll();
  return n;
}

void Context::check_async_events(size_t r) {
  ibv_async_event event{};
  while (::ibv_get_async_event(rails_[r]->context(), &event) == 0) {
    const ibv_event_type type = event.event_type;
    uint32_t qpn = 0;
    const bool qp_event = type == IBV_EVENT_QP_FATAL || type == IBV_EVENT_QP_REQ_ERR ||
                          type == IBV_EVENT_QP_ACCESS_ERR || type == IBV_EVENT_PATH_MIG_ERR;
    if (qp_event && event.element.qp) qpn = event.element.qp->qp_num;
    ::ibv_ack_async_event(&event);
    if (!is_fatal(type)) continue;
    for (auto& [peer, p] : pairs_) {
      int link = qp_event ? p->link_of_qpn(qpn) : -1;
      if (link >= 0)
        throw PeerError(peer, fmt::format("{}: asynchronous event {} ({})", p->link_qp(static_cast<size_t>(link)).where(),
                                          static_cast<int>(type), ::ibv_event_type_str(type)));
    }
    throw RunError(fmt::format("rank {}: verbs: {}: asynchronous event {} ({})", rank(), rails_[r]->name(),
                               static_cast<int>(type), ::ibv_event_type_str(type)));
  }
}

void Context::wait_for_events(int timeout_ms) {
  // Arm, then look once more: a completion that came between the last poll and the arming
  // raises no event.
  for (auto& [peer, p] : pairs_) p->arm();
  if (poll_all() > 0 || !completed_.empty()) return;
  std::vector<pollfd> fds;
  for (const auto& rail : rails_) {
    fds.push_back(pollfd{rail->channel()->fd, POLLIN, 0});
    fds.push_back(pollfd{rail->context()->async_fd, POLLIN, 0});
  }
  int rc = ::poll(fds.data(), fds.size(), timeout_ms);
  if (rc < 0 && errno != EINTR) throw RunError(fmt::format("rank {}: verbs: poll: {}", rank(), errno_text(errno)));
  for (size_t r = 0; r < rails_.size(); ++r) {
    ibv_cq* cq = nullptr;
    void* cq_context = nullptr;
    while (::ibv_get_cq_event(rails_[r]->channel(), &cq, &cq_context) == 0) ::ibv_ack_cq_events(cq, 1);
    if (rc > 0 && fds[2 * r + 1].revents != 0) check_async_events(r);
  }
  poll_all();
}

void Context::progress(std::vector<Completion>& out, int timeout_ms) {
  ++progress_calls_;
  const size_t n = poll_all();
  if (n == 0 && completed_.empty() && timeout_ms > 0) {
    wait_for_events(timeout_ms);
  } else if ((progress_calls_ & 4095) == 0) {
    for (size_t r = 0; r < rails_.size(); ++r) check_async_events(r);
  }
  out.insert(out.end(), completed_.begin(), completed_.end());
  completed_.clear();
}

}  // namespace sxcoll::transport::verbs
