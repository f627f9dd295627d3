// One socket of a pair: the stripes queued to go out, how far the one in flight has got,
// and how far the one coming in has got. Its sender and receiver (the context's epoll loop
// on the caller's thread, or the stream's own threads) call send() and receive(); each call
// either waits on the socket (`Io::Wait`: a thread of its own, blocking I/O, one system
// call per wake-up) or returns when the socket is full or empty (`Io::NoWait`).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "transport/socket.h"
#include "transport/tcp/wire.h"

namespace sxcoll::transport::tcp {

class Context;

// The socket broke or the peer broke the protocol; what() is the cause alone (the pair
// adds rank, peer and socket).
class StreamFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OutStripe {
  StripeHeader header;
  const char* payload;  // header.length bytes; null for a notify
  size_t sent = 0;      // of sizeof(header) + header.length
};

enum class Io { Wait, NoWait };

class Stream {
 public:
  // The socket is left blocking: NoWait calls say so per call (MSG_DONTWAIT).
  explicit Stream(net::Fd fd);
  int fd() const { return fd_.get(); }

  // Sends what is left of `op` until it is all out (true) or, NoWait, the socket is full
  // (false).
  bool send(OutStripe& op, Context& context, Io io);
  // Receives until one stripe is complete (its header) or, NoWait, the socket has nothing
  // more (nullopt). The bytes land where the context says the header's region is.
  std::optional<StripeHeader> receive(Context& context, Io io);

  // The send queue. Threaded pairs share it between the caller (who appends) and the
  // sender thread (who alone works on the front and pops it), under `mutex`; the front's
  // address stays valid while others are appended (std::deque only adds at the ends).
  std::deque<OutStripe> sendq;
  std::mutex mutex;
  std::condition_variable wake;  // the sender thread: work queued, or closing
  bool closing = false;
  bool waiting_for_out = false;  // epoll driver: EPOLLOUT requested
  std::thread sender, receiver;

 private:
  net::Fd fd_;
  StripeHeader in_header_{};
  size_t in_header_got_ = 0;
  char* in_dest_ = nullptr;
  size_t in_got_ = 0;
};

}  // namespace sxcoll::transport::tcp
