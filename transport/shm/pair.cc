#include "transport/shm/pair.h"

#include <unistd.h>

#include <charconv>
#include <cstring>

#include <fmt/core.h>

#include "transport/error.h"
#include "transport/shm/context.h"
#include "transport/split.h"

namespace sxcoll::transport::shm {

namespace {

template <typename T>
bool parse_number(std::string_view text, T& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Pair::Pair(Context& context, int peer, pid_t pid, PeerMapping mailbox_mapping, Mailbox mailbox, Ring& inbound,
           int pidfd)
    : context_(context),
      peer_(peer),
      pid_(pid),
      mailbox_mapping_(std::move(mailbox_mapping)),
      mailbox_(mailbox),
      outbound_(&mailbox_.ring(context.rank())),
      inbound_(&inbound),
      pidfd_(pidfd) {}

Pair::~Pair() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

void Pair::write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
                 uint32_t imm, uint64_t cookie) {
  check_write_bounds("shm", context_.rank(), peer_, src, src_offset, len, dst, dst_offset);
  char* to = destination(dst);
  if (len > 0) std::memcpy(to + dst_offset, static_cast<const char*>(src.base) + src_offset, len);
  post(imm, len);
  context_.count_sent(len);
  context_.complete(Completion{Completion::Type::Sent, peer_, imm, 0, cookie});
}

LinkCost Pair::cost() const { return context_.link_cost(); }

void Pair::notify(uint32_t imm, uint64_t cookie) {
  post(imm, 0);
  context_.complete(Completion{Completion::Type::Sent, peer_, imm, 0, cookie});
}

void Pair::post(uint32_t imm, uint64_t bytes) {
  const Record r{imm, 0, bytes};
  if (!backlog_.empty() || !outbound_.push(r)) {
    backlog_.push_back(r);  // behind what waits already: records keep their order
    return;
  }
  ring_doorbell(mailbox_.doorbell());
}

bool Pair::flush_backlog() {
  bool posted = false;
  while (!backlog_.empty() && outbound_.push(backlog_.front())) {
    backlog_.pop_front();
    posted = true;
  }
  if (posted) ring_doorbell(mailbox_.doorbell());
  return backlog_.empty();
}

size_t Pair::drain(std::vector<Completion>& out, uint64_t& bytes) {
  const size_t n = inbound_.drain([&](const Record& r) {
    out.push_back(Completion{Completion::Type::Arrived, peer_, r.imm, static_cast<size_t>(r.bytes), 0});
    bytes += r.bytes;
  });
  // The peer may be asleep with records that did not fit: it has room now.
  if (n > 0 && inbound_.producer_wants_room()) ring_doorbell(mailbox_.doorbell());
  return n;
}

char* Pair::destination(const RemoteRegion& dst) {
  if (last_region_ != nullptr && dst.ipc == last_ipc_) return last_region_;
  if (auto it = regions_.find(dst.ipc); it != regions_.end()) {
    last_ipc_ = dst.ipc;
    last_region_ = it->second;
    return last_region_;
  }
  const std::string what = fmt::format("rank {}: shm: write to rank {}", context_.rank(), peer_);
  if (dst.ipc.empty())
    throw RunError(fmt::format("{}: its region at 0x{:x} ({} bytes) is not in a shared segment (it was not "
                               "allocated with Context::allocate_host), so no process of this host can write into it",
                               what, dst.addr, dst.bytes));
  // "shm:<pid>:<fd>:<serial>:<offset>"
  const auto f = split_list(dst.ipc, ':');
  pid_t pid = 0;
  int fd = -1;
  uint64_t serial = 0, offset = 0;
  if (f.size() != 5 || f[0] != "shm" || !parse_number(f[1], pid) || !parse_number(f[2], fd) ||
      !parse_number(f[3], serial) || !parse_number(f[4], offset))
    throw RunError(fmt::format("{}: malformed shm region handle '{}' (another backend's region?)", what, dst.ipc));
  if (pid != pid_)
    throw RunError(fmt::format("{}: region handle '{}' belongs to pid {}, not to rank {} (pid {})", what, dst.ipc, pid,
                               peer_, pid_));
  auto it = segments_.find(serial);
  if (it == segments_.end())
    it = segments_.emplace(serial, PeerMapping(pid, fd, segment_name(context_.run_id(), peer_, serial), what)).first;
  if (offset > it->second.bytes() || dst.bytes > it->second.bytes() - offset)
    throw RunError(fmt::format("{}: region handle '{}' ({} bytes) runs past its {}-byte segment", what, dst.ipc,
                               dst.bytes, it->second.bytes()));
  char* base = it->second.data() + offset;
  regions_[dst.ipc] = base;
  last_ipc_ = dst.ipc;
  last_region_ = base;
  return base;
}

}  // namespace sxcoll::transport::shm
