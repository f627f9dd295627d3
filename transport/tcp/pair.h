// A TCP connection to one peer: several sockets ("streams"), writes striped over them.
//
// Two ways to drive the streams, chosen per context (tcp::Options::io_threads):
// - on the caller's thread: the sockets polled by the context's epoll loop in progress(),
//   every send and receive non-blocking, as MPI's TCP transport does; the right choice where
//   ranks have about one core each, since every other thread would take a core a rank needs;
// - with threads: a sender and a receiver thread per stream, blocking in send and recv, so
//   that the copies between user memory and the kernel's socket buffers, which bound TCP's
//   bandwidth, run on as many cores as there are streams and directions. The threads hand
//   finished stripes to the context; all accounting stays on the caller's thread.
#pragma once

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

#include "transport/socket.h"
#include "transport/tcp/stream.h"
#include "transport/tcp/wire.h"
#include "transport/transport.h"

namespace sxcoll::transport::tcp {

class Context;

class Pair final : public transport::Pair {
 public:
  Pair(Context& context, int peer, std::vector<net::Fd> streams);
  // Shuts the sockets down and joins the threads, if any.
  ~Pair() override;
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  int peer() const override { return peer_; }
  void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
             uint32_t imm, uint64_t cookie) override;
  void notify(uint32_t imm, uint64_t cookie) override;
  std::string_view transport() const override { return "tcp"; }
  // Measured on the 2-vCPU VM over loopback (docs/PERFORMANCE.md): 8 B in 14-20 us per
  // step, 2-3 GB/s per socket; the single-level model's numbers before routing existed.
  LinkCost cost() const override { return LinkCost{20.0, 2000.0 * static_cast<double>(streams_.size())}; }

  size_t stream_count() const { return streams_.size(); }
  int stream_fd(size_t s) const { return streams_[s]->fd(); }

  // On the caller's thread. Threaded: a stripe of ours left, or one of the peer's landed.
  void stripe_sent(const StripeHeader& h);
  void stripe_arrived(const StripeHeader& h);
  // On the caller's thread, without threads: epoll found stream `s` ready.
  void on_readable(size_t s);
  void on_writable(size_t s);

 private:
  struct PendingWrite {
    uint32_t stripes_left;
    uint64_t cookie;
  };
  struct PartialArrival {
    uint32_t stripes_left;
    uint64_t bytes;
  };

  bool threaded() const;
  // Shuts the sockets down and joins the threads.
  void stop();
  void post(const char* payload, size_t len, const RemoteRegion& dst, size_t dst_offset, uint32_t imm, uint64_t cookie);
  void queue_threaded(size_t s, const OutStripe& op, size_t len);
  // Without threads: sends from stream `s`'s queue until it is empty or the socket full.
  void flush(size_t s);
  void send_loop(size_t s);
  void receive_loop(size_t s);
  // "rank 0: tcp: connection with rank 1 (socket 0 of 2): <cause>".
  std::string failure(size_t s, const std::string& cause) const;
  // On an I/O thread: the stream is broken; the context raises it on the caller's thread.
  void report_failure(size_t s, const std::string& cause);

  Context& context_;
  int peer_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::atomic<bool> shutting_down_{false};
  uint64_t next_write_id_ = 0;
  size_t next_stream_ = 0;
  std::unordered_map<uint64_t, PendingWrite> pending_writes_;
  std::unordered_map<uint64_t, PartialArrival> partial_arrivals_;
};

}  // namespace sxcoll::transport::tcp
