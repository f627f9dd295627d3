#include "transport/routing/context.h"

#include <sched.h>

#include <algorithm>

#include <fmt/core.h>

#include "transport/deadline.h"
#include "transport/error.h"

namespace sxcoll::transport::routing {

namespace {

// Both backends carry links, and neither can wake a wait in the other: an idle wait first
// polls both, yielding the core between looks (as MPI does when ranks share cores), for
// this long; a message between hosts over TCP comes within it (tens of microseconds)...
constexpr auto kYieldBudget = std::chrono::milliseconds(1);
// ...then sleeps a slice in one backend at a time: what a message of the other may wait at
// worst, once the wait has lasted a millisecond already.
constexpr int kSliceMs = 1;

}  // namespace

// A pair of a backend, handed the backend's own registration of each region.
class Context::Pair final : public transport::Pair {
 public:
  Pair(transport::Pair& inner, size_t backend, int rank) : inner_(inner), backend_(backend), rank_(rank) {}

  int peer() const override { return inner_.peer(); }
  void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
             uint32_t imm, uint64_t cookie) override {
    const auto* parts = static_cast<const Parts*>(src.handle);
    const MemoryRegion* own = parts ? parts->of[backend_].get() : nullptr;
    if (own == nullptr)
      throw RunError(fmt::format("rank {}: write to rank {} over {} from {} memory that {} did not register", rank_,
                                 peer(), inner_.transport(), src.kind == MemoryKind::Cuda ? "GPU" : "host",
                                 inner_.transport()));
    inner_.write(*own, src_offset, len, dst, dst_offset, imm, cookie);
  }
  void notify(uint32_t imm, uint64_t cookie) override { inner_.notify(imm, cookie); }
  std::string gpu_direct() const override { return inner_.gpu_direct(); }
  std::string_view transport() const override { return inner_.transport(); }
  LinkCost cost() const override { return inner_.cost(); }
  bool receiver_reads() const override { return inner_.receiver_reads(); }
  void* map_peer(const RemoteRegion& region) override { return inner_.map_peer(region); }

 private:
  transport::Pair& inner_;
  size_t backend_;
  int rank_;
};

Context::Context(bootstrap::Bootstrap& bootstrap, std::unique_ptr<transport::Context> intra,
                 std::unique_ptr<transport::Context> network)
    : bootstrap_(bootstrap) {
  backends_[kIntra] = std::move(intra);
  backends_[kNetwork] = std::move(network);
}

Context::~Context() {
  // Pairs and regions refer to the backends' own.
  pairs_.clear();
  regions_.clear();
}

size_t Context::route(int peer) const {
  const auto& hosts = bootstrap_.hostnames();
  const bool same_host = hosts[static_cast<size_t>(peer)] == hosts[static_cast<size_t>(rank())];
  return same_host && backends_[kIntra] ? kIntra : kNetwork;
}

const transport::Context& Context::backend_of(int peer) const { return *backends_[route(peer)]; }

std::string Context::describe() const {
  if (!backends_[kIntra]) return backends_[kNetwork]->describe();
  return fmt::format("intra-node: {}; inter-node: {}", backends_[kIntra]->describe(), backends_[kNetwork]->describe());
}

void Context::connect(const std::vector<int>& peers) {
  std::vector<int> split[2];
  for (int peer : peers) {
    if (peer < 0 || peer >= size()) throw RunError(fmt::format("rank {}: no rank {} to connect to", rank(), peer));
    if (peer != rank()) split[route(peer)].push_back(peer);
  }
  // Every backend's connect is collective: each is called on every rank, links or none.
  for (size_t b : {kIntra, kNetwork}) {
    if (!backends_[b]) continue;
    backends_[b]->connect(split[b]);
    for (int peer : split[b]) {
      used_[b] = true;
      if (!pairs_.count(peer)) pairs_[peer] = std::make_unique<Pair>(backends_[b]->pair(peer), b, rank());
    }
  }
}

transport::Pair& Context::pair(int peer) {
  auto it = pairs_.find(peer);
  if (it == pairs_.end()) throw RunError(fmt::format("rank {}: not connected to rank {}", rank(), peer));
  return *it->second;
}

bool Context::registers_gpu_memory() const {
  return std::any_of(std::begin(backends_), std::end(backends_), [](const auto& b) { return b && b->registers_gpu_memory(); });
}

std::shared_ptr<MemoryRegion> Context::register_memory(void* base, size_t bytes, MemoryKind kind) {
  const auto key = std::make_tuple(reinterpret_cast<uintptr_t>(base), bytes, kind);
  if (auto it = regions_.find(key); it != regions_.end()) return it->second;
  // The Parts live as long as the region: one allocation holds both.
  struct Routed {
    MemoryRegion region;
    Parts parts;
  };
  auto routed = std::make_shared<Routed>();
  MemoryRegion& r = routed->region;
  r.base = base;
  r.bytes = bytes;
  r.kind = kind;
  r.remote.addr = reinterpret_cast<uint64_t>(base);
  r.remote.bytes = bytes;
  for (size_t b : {kIntra, kNetwork}) {
    if (!backends_[b] || (kind == MemoryKind::Cuda && !backends_[b]->registers_gpu_memory())) continue;
    auto part = backends_[b]->register_memory(base, bytes, kind);
    // One descriptor for every peer: each backend fills in its own fields.
    if (part->remote.tcp_id != 0) r.remote.tcp_id = part->remote.tcp_id;
    if (part->remote.nrkeys != 0) {
      r.remote.nrkeys = part->remote.nrkeys;
      r.remote.rkeys = part->remote.rkeys;
    }
    if (!part->remote.ipc.empty()) r.remote.ipc = part->remote.ipc;
    routed->parts.of[b] = std::move(part);
  }
  r.handle = &routed->parts;
  std::shared_ptr<MemoryRegion> region(routed, &routed->region);
  regions_[key] = region;
  return region;
}

Allocation Context::allocate_host(size_t bytes) {
  // Memory the intra-node peers can map; the network backends register any host pages.
  return backends_[kIntra] ? backends_[kIntra]->allocate_host(bytes) : backends_[kNetwork]->allocate_host(bytes);
}

void Context::progress(std::vector<Completion>& out, int timeout_ms) {
  if (!used_[kIntra] || !used_[kNetwork]) {
    // One backend carries every link: it waits as it would alone.
    backends_[used_[kIntra] ? kIntra : kNetwork]->progress(out, timeout_ms);
    return;
  }
  const size_t before = out.size();
  const auto start = Clock::now();
  Deadline deadline{std::chrono::milliseconds(std::max(timeout_ms, 0))};
  for (;;) {
    backends_[kIntra]->progress(out, 0);
    backends_[kNetwork]->progress(out, 0);
    if (out.size() != before || timeout_ms <= 0 || deadline.expired()) return;
    if (Clock::now() - start < kYieldBudget) {
      ::sched_yield();
      continue;
    }
    // Still nothing: sleep a slice in one backend, then look at both again.
    const size_t sleeper = static_cast<size_t>(next_sleeper_ ^= 1);
    backends_[sleeper]->progress(out, std::max(1, deadline.poll_timeout_ms(kSliceMs)));
    if (out.size() != before) return;
  }
}

std::vector<RailCounters> Context::counters() const {
  // The backends that carry links; the network's rails where none does (a run of one rank).
  std::vector<RailCounters> all;
  for (size_t b : {kIntra, kNetwork})
    if (used_[b])
      for (auto& c : backends_[b]->counters()) all.push_back(c);
  return used_[kIntra] || used_[kNetwork] ? all : backends_[kNetwork]->counters();
}

}  // namespace sxcoll::transport::routing
