// A TCP connection to one peer: several sockets ("streams"), writes striped over them.
#pragma once

#include <deque>
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

  int peer() const override { return peer_; }
  void write(const MemoryRegion& src, size_t src_offset, size_t len, const RemoteRegion& dst, size_t dst_offset,
             uint32_t imm, uint64_t cookie) override;
  void notify(uint32_t imm, uint64_t cookie) override;

  size_t stream_count() const { return streams_.size(); }
  int stream_fd(size_t i) const { return streams_[i].fd.get(); }
  void set_epoll_tag(size_t i, void* tag) { streams_[i].epoll_tag = tag; }
  // Called by the context when epoll reports the stream ready.
  void on_readable(size_t stream);
  void on_writable(size_t stream);

 private:
  struct SendStripe {
    StripeHeader header;
    const char* payload;
    size_t sent = 0;  // of sizeof(header) + header.length
  };
  struct Stream {
    net::Fd fd;
    void* epoll_tag = nullptr;
    std::deque<SendStripe> sendq;
    bool waiting_for_out = false;
    StripeHeader rheader{};
    size_t rheader_got = 0;
    char* rdest = nullptr;
    size_t rgot = 0;
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
  void flush(size_t stream);
  void stripe_sent(const StripeHeader& h);
  void stripe_arrived(const StripeHeader& h);
  [[noreturn]] void fail(size_t stream, const std::string& cause);

  Context& context_;
  int peer_;
  std::vector<Stream> streams_;
  uint64_t next_write_id_ = 0;
  size_t next_stream_ = 0;
  std::unordered_map<uint64_t, PendingWrite> pending_writes_;
  std::unordered_map<uint64_t, PartialArrival> partial_arrivals_;
};

}  // namespace sxcoll::transport::tcp
