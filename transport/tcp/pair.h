// A TCP connection to one peer: several sockets ("streams"), writes striped over them.
//
// Each stream has a sender thread and a receiver thread doing blocking I/O, so that the
// copies between user memory and the kernel's socket buffers, which bound TCP's
// bandwidth, run on as many cores as there are streams and directions. The threads hand
// finished stripes to the context; all accounting stays on the caller's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "transport/socket.h"
#include "transport/tcp/wire.h"
#include "transport/transport.h"

namespace sxcoll::transport::tcp {

class Context;

class Pair final : public transport::Pair {
 public:
  Pair(Context& context, int peer, std::vector<net::Fd> streams);
  // Shuts the sockets down and joins the threads.
  ~Pair() override;
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  int peer() const override { return peer_; }
  void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
             uint32_t imm, uint64_t cookie) override;
  void notify(uint32_t imm, uint64_t cookie) override;

  // On the caller's thread, from Context::progress(): a stripe of ours left, or one of the
  // peer's landed. Turn into completions once every stripe of a write is through.
  void stripe_sent(const StripeHeader& h);
  void stripe_arrived(const StripeHeader& h);

 private:
  struct Stream {
    net::Fd fd;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::pair<StripeHeader, const char*>> sendq;  // header, payload
    bool closing = false;
    std::thread sender;
    std::thread receiver;
  };
  struct PendingWrite {
    uint32_t stripes_left;
    uint64_t cookie;
  };
  struct PartialArrival {
    uint32_t stripes_left;
    uint64_t bytes;
  };

  void post(const char* payload, size_t len, const RemoteRegion& dst, size_t dst_offset, uint32_t imm, uint64_t cookie);
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
