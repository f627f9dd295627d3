#include "transport/cuda_ipc/context.h"

#include <unistd.h>

#include <charconv>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::cuda_ipc {

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string hex(const void* data, size_t bytes) {
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<const unsigned char*>(data)[i];
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool unhex(std::string_view text, void* data, size_t bytes) {
  if (text.size() != 2 * bytes) return false;
  auto digit = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  for (size_t i = 0; i < bytes; ++i) {
    const int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    static_cast<unsigned char*>(data)[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

bool available() { return cuda::driver().has_ipc(); }

Context::Context(bootstrap::Bootstrap& bootstrap, bool receiver_reads)
    : bootstrap_(bootstrap), receiver_reads_(receiver_reads), mailbox_(bootstrap) {
  if (!available())
    throw UsageError(fmt::format("rank {}: cuda_ipc: the CUDA driver (libcuda.so.1) with IPC entry points is not "
                                 "loadable here",
                                 rank()));
}

Context::~Context() {
  pairs_.clear();
  const cuda::Driver& d = cuda::driver();
  // Destruction reports nothing: a rank that is going down has said what failed already.
  for (auto& f : in_flight_) d.event_destroy(f.done);
  for (auto e : spare_events_) d.event_destroy(e);
  for (auto& [key, ptr] : opened_) d.ipc_close_mem_handle(ptr);
  if (stream_) d.stream_destroy(stream_);
}

void Context::check(cuda::CUresult rc, const char* call) const {
  if (rc != cuda::kSuccess) throw RunError(fmt::format("rank {}: cuda_ipc: {} failed: {}", rank(), call, cuda::result_name(rc)));
}

void Context::connect(const std::vector<int>& peers) {
  mailbox_.connect(peers);
  for (int peer : peers)
    if (peer != rank() && !pairs_.count(peer)) pairs_[peer] = std::make_unique<Pair>(*this, peer);
}

transport::Pair& Context::pair(int peer) {
  auto it = pairs_.find(peer);
  if (it == pairs_.end()) throw RunError(fmt::format("rank {}: cuda_ipc: not connected to rank {}", rank(), peer));
  return *it->second;
}

std::shared_ptr<MemoryRegion> Context::register_memory(void* base, size_t bytes, MemoryKind kind) {
  const auto key = std::make_pair(reinterpret_cast<uintptr_t>(base), bytes);
  if (auto it = regions_.find(key); it != regions_.end()) return it->second;
  auto region = make_region(base, bytes, kind);
  if (kind == MemoryKind::Cuda && bytes > 0) {
    // A handle names a whole allocation: the region is an offset into it.
    const cuda::Driver& d = cuda::driver();
    cuda::CUdeviceptr alloc = 0;
    size_t alloc_bytes = 0;
    check(d.mem_get_address_range(&alloc, &alloc_bytes, reinterpret_cast<cuda::CUdeviceptr>(base)),
          "cuMemGetAddressRange");
    cuda::CUipcMemHandle handle{};
    check(d.ipc_get_mem_handle(&handle, alloc), "cuIpcGetMemHandle");
    region->remote.ipc = fmt::format("cuda:{}:{:x}", hex(&handle, sizeof handle),
                                     reinterpret_cast<uintptr_t>(base) - static_cast<uintptr_t>(alloc));
  }
  regions_[key] = region;
  return region;
}

cuda::CUdeviceptr Context::open(int peer, const std::string& ipc) {
  // "cuda:<handle hex>:<offset hex>"
  const size_t handle_end = ipc.rfind(':');
  if (ipc.rfind("cuda:", 0) != 0 || handle_end <= 5)
    throw RunError(fmt::format("rank {}: cuda_ipc: rank {}'s region is not exported for CUDA IPC ('{}'): is it GPU "
                               "memory?",
                               rank(), peer, ipc));
  const std::string handle_text = ipc.substr(5, handle_end - 5);
  const std::string key = fmt::format("{}:{}", peer, handle_text);
  auto it = opened_.find(key);
  if (it == opened_.end()) {
    cuda::CUipcMemHandle handle{};
    if (!unhex(handle_text, &handle, sizeof handle))
      throw RunError(fmt::format("rank {}: cuda_ipc: rank {} sent a malformed IPC handle", rank(), peer));
    cuda::CUdeviceptr ptr = 0;
    check(cuda::driver().ipc_open_mem_handle(&ptr, handle, cuda::kIpcLazyEnablePeerAccess), "cuIpcOpenMemHandle");
    it = opened_.emplace(key, ptr).first;
  }
  uint64_t offset = 0;
  const char* first = ipc.data() + handle_end + 1;
  const char* last = ipc.data() + ipc.size();
  if (auto [end, ec] = std::from_chars(first, last, offset, 16); first == last || ec != std::errc() || end != last)
    throw RunError(fmt::format("rank {}: cuda_ipc: rank {} sent a malformed region offset in '{}'", rank(), peer, ipc));
  return it->second + offset;
}

cuda::CUevent Context::take_event() {
  if (!spare_events_.empty()) {
    cuda::CUevent e = spare_events_.back();
    spare_events_.pop_back();
    return e;
  }
  cuda::CUevent e = nullptr;
  check(cuda::driver().event_create(&e, cuda::kEventDisableTiming), "cuEventCreate");
  return e;
}

void Context::copy(int peer, cuda::CUdeviceptr dst, cuda::CUdeviceptr src, size_t len, uint32_t imm, uint64_t cookie) {
  const cuda::Driver& d = cuda::driver();
  // Made on first use, on the device that is current by then (the rank's GPU).
  if (stream_ == nullptr) check(d.stream_create(&stream_, cuda::kStreamNonBlocking), "cuStreamCreate");
  if (len > 0) check(d.memcpy_async(dst, src, len, stream_), "cuMemcpyAsync (into a peer's GPU memory)");
  cuda::CUevent done = take_event();
  check(d.event_record(done, stream_), "cuEventRecord");
  in_flight_.push_back(InFlight{done, peer, imm, len, cookie});
  bytes_sent_ += len;
}

void Context::announce(int peer, uint32_t imm, size_t len, uint64_t cookie) {
  mailbox_.shm_pair(peer).announce(imm, len);
  announced_.push_back(Completion{Completion::Type::Sent, peer, 0, 0, cookie});
  bytes_sent_ += len;
}

void Context::progress(std::vector<Completion>& out, int timeout_ms) {
  const cuda::Driver& d = cuda::driver();
  if (!announced_.empty()) {
    out.insert(out.end(), announced_.begin(), announced_.end());
    announced_.clear();
    timeout_ms = 0;  // something to report: no waiting
  }
  while (!in_flight_.empty()) {
    InFlight& f = in_flight_.front();
    const cuda::CUresult rc = d.event_query(f.done);
    if (rc == cuda::kNotReady) break;
    check(rc, "cuEventQuery (a copy into a peer's GPU memory)");
    // Landed: the peer may read it now.
    mailbox_.shm_pair(f.peer).announce(f.imm, f.bytes);
    out.push_back(Completion{Completion::Type::Sent, f.peer, 0, 0, f.cookie});
    spare_events_.push_back(f.done);
    in_flight_.pop_front();
  }
  // Copies still running finish without waking the mailbox: poll while there are some.
  const size_t before = out.size();
  mailbox_.progress(out, in_flight_.empty() ? timeout_ms : 0);
  for (size_t i = before; i < out.size(); ++i)
    if (out[i].type == Completion::Type::Arrived) bytes_received_ += out[i].bytes;
}

std::vector<RailCounters> Context::counters() const { return {RailCounters{"cuda_ipc", bytes_sent_, bytes_received_}}; }

void Pair::write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
                 uint32_t imm, uint64_t cookie) {
  check_write_bounds("cuda_ipc", context_.rank(), peer_, src, src_offset, len, dst, dst_offset);
  if (src.kind != MemoryKind::Cuda)
    throw RunError(fmt::format("rank {}: cuda_ipc: write to rank {} from host memory (this backend copies GPU memory)",
                               context_.rank(), peer_));
  if (context_.receiver_reads()) {
    // The receiver reads our staging slot itself: the bytes are in place (the engine posts
    // a write once the work that staged it is done), only their arrival is news.
    if (dst.addr != reinterpret_cast<uint64_t>(src.base) || dst_offset != src_offset)
      throw RunError(fmt::format("rank {}: cuda_ipc: a write to rank {} whose receiver reads must name its own "
                                 "staging slot as the destination",
                                 context_.rank(), peer_));
    context_.announce(peer_, imm, len, cookie);
    return;
  }
  const cuda::CUdeviceptr to = context_.open(peer_, dst.ipc) + dst_offset;
  const auto from = reinterpret_cast<cuda::CUdeviceptr>(static_cast<const char*>(src.base) + src_offset);
  context_.copy(peer_, to, from, len, imm, cookie);
}

void* Pair::map_peer(const RemoteRegion& region) {
  return reinterpret_cast<void*>(context_.open(peer_, region.ipc));
}

void Pair::notify(uint32_t imm, uint64_t cookie) { context_.mailbox().pair(peer_).notify(imm, cookie); }

}  // namespace sxcoll::transport::cuda_ipc
