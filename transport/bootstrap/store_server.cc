#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <cstring>

#include <fmt/core.h>

#include "transport/bootstrap/store.h"
#include "transport/bootstrap/wire.h"
#include "transport/error.h"

namespace sxcoll::bootstrap {

namespace {

struct Connection {
  net::Fd fd;
  std::string inbuf;
  bool admitted = false;
  wire::Role role = wire::Role::Data;
  int rank = -1;
  bool said_goodbye = false;
};

struct PendingGet {
  Connection* conn;
  std::vector<std::string> keys;
};

// Replies are small and clients read them at once; a short deadline keeps a wedged
// client from stalling the store.
void reply(Connection& c, const std::string& frame) {
  try {
    net::send_all(c.fd.get(), frame.data(), frame.size(), Deadline(std::chrono::seconds(5)), "store reply");
  } catch (const std::exception&) {
    // The client is gone; its closed socket is noticed by the poll loop.
  }
}

}  // namespace

struct StoreServer::State {
  std::string token;
  int world_size;
  std::map<std::string, std::string> values;
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<PendingGet> pending;
  bool aborted = false;

  std::mutex mutex;  // guards `finished`, read by wait_for_goodbyes
  std::condition_variable changed;
  std::set<int> finished;  // ranks whose liveness ended, with or without goodbye
  std::set<int> lost;      // those of them without a goodbye or an abort: killed or crashed

  void broadcast_abort(const std::string& reason, const Connection* except) {
    if (aborted) return;
    aborted = true;
    auto frame = wire::Writer().op(wire::Op::Abort).str(reason).frame();
    for (auto& c : conns)
      if (c.get() != except && c->admitted && c->role == wire::Role::Liveness && !c->said_goodbye) reply(*c, frame);
  }

  void mark_finished(int rank) {
    std::lock_guard lock(mutex);
    finished.insert(rank);
    changed.notify_all();
  }

  void serve_pending() {
    for (auto it = pending.begin(); it != pending.end();) {
      if (try_get(*it->conn, it->keys))
        it = pending.erase(it);
      else
        ++it;
    }
  }

  bool try_get(Connection& c, const std::vector<std::string>& keys) {
    wire::Writer w;
    w.op(wire::Op::Values).u32(static_cast<uint32_t>(keys.size()));
    for (const auto& k : keys) {
      auto it = values.find(k);
      if (it == values.end()) return false;
      w.str(it->second);
    }
    reply(c, w.frame());
    return true;
  }

  void handle(Connection& c, std::string_view body) {
    wire::Reader r(body);
    auto op = r.op();
    if (!c.admitted) {
      if (op != wire::Op::Hello) return;
      auto client_token = r.str();
      int rank = static_cast<int>(r.u32());
      auto role = static_cast<wire::Role>(r.u8());
      if (client_token != token) {
        reply(c, wire::Writer().op(wire::Op::Error).str("run token mismatch: this store belongs to another run").frame());
        return;
      }
      if (rank < 0 || rank >= world_size) {
        reply(c, wire::Writer().op(wire::Op::Error).str(fmt::format("rank {} outside 0..{}", rank, world_size - 1)).frame());
        return;
      }
      c.admitted = true;
      c.rank = rank;
      c.role = role;
      reply(c, wire::Writer().op(wire::Op::Ok).frame());
      return;
    }
    switch (op) {
      case wire::Op::Set: {
        auto key = r.str();
        values[key] = r.str();
        reply(c, wire::Writer().op(wire::Op::Ok).frame());
        serve_pending();
        break;
      }
      case wire::Op::Get: {
        uint32_t n = r.u32();
        std::vector<std::string> keys(n);
        for (auto& k : keys) k = r.str();
        if (!try_get(c, keys)) pending.push_back({&c, std::move(keys)});
        break;
      }
      case wire::Op::Joined: {
        std::set<int> ranks;
        for (auto& other : conns)
          if (other->admitted && other->role == wire::Role::Data) ranks.insert(other->rank);
        wire::Writer w;
        w.op(wire::Op::Values).u32(static_cast<uint32_t>(ranks.size()));
        for (int rank : ranks) w.str(std::to_string(rank));
        reply(c, w.frame());
        break;
      }
      case wire::Op::Bye:
        c.said_goodbye = true;
        mark_finished(c.rank);
        break;
      case wire::Op::Abort:
        c.said_goodbye = true;
        broadcast_abort(r.str(), &c);
        mark_finished(c.rank);
        break;
      default:
        break;
    }
  }

  void closed(Connection& c) {
    std::erase_if(pending, [&](const PendingGet& p) { return p.conn == &c; });
    if (!c.admitted || c.role != wire::Role::Liveness) return;
    if (!c.said_goodbye) {
      {
        std::lock_guard lock(mutex);
        lost.insert(c.rank);
      }
      broadcast_abort(fmt::format("rank {} lost: its process ended without saying goodbye (killed or crashed)", c.rank), &c);
    }
    mark_finished(c.rank);
  }
};

std::vector<int> StoreServer::lost_ranks() const {
  std::lock_guard lock(state_->mutex);
  return {state_->lost.begin(), state_->lost.end()};
}

StoreServer::StoreServer(net::Fd listener, std::string token, int world_size)
    : address_(net::local_address(listener.get())), state_(std::make_unique<State>()) {
  state_->token = std::move(token);
  state_->world_size = world_size;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw RunError("bootstrap: pipe() failed");
  wake_read_.reset(fds[0]);
  wake_write_.reset(fds[1]);
  listener_fd_ = std::move(listener);
  thread_ = std::thread([this] { serve(); });
}

StoreServer::~StoreServer() {
  char byte = 0;
  [[maybe_unused]] auto n = ::write(wake_write_.get(), &byte, 1);
  if (thread_.joinable()) thread_.join();
}

void StoreServer::wait_for_goodbyes(const Deadline& deadline) {
  std::unique_lock lock(state_->mutex);
  state_->changed.wait_for(lock, deadline.remaining(),
                           [&] { return static_cast<int>(state_->finished.size()) >= state_->world_size; });
}

void StoreServer::serve() {
  auto& s = *state_;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_read_.get(), POLLIN, 0});
    fds.push_back({listener_fd_.get(), POLLIN, 0});
    for (auto& c : s.conns) fds.push_back({c->fd.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents & POLLIN) {
      net::Fd fd(::accept4(listener_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (fd.valid()) {
        net::set_nodelay(fd.get());
        auto c = std::make_unique<Connection>();
        c->fd = std::move(fd);
        s.conns.push_back(std::move(c));
      }
    }
    // Connections accepted above are not in `fds` yet; index from 2 matches the rest.
    std::vector<Connection*> gone;
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      Connection& c = *s.conns[i - 2];
      char buf[65536];
      ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        gone.push_back(&c);
        continue;
      }
      if (n < 0) continue;
      c.inbuf.append(buf, static_cast<size_t>(n));
      while (c.inbuf.size() >= 4) {
        uint32_t len;
        std::memcpy(&len, c.inbuf.data(), 4);
        if (len > wire::kMaxFrame) {
          gone.push_back(&c);
          break;
        }
        if (c.inbuf.size() < 4 + size_t{len}) break;
        std::string body = c.inbuf.substr(4, len);
        c.inbuf.erase(0, 4 + size_t{len});
        try {
          s.handle(c, body);
        } catch (const std::exception&) {
          gone.push_back(&c);
          break;
        }
      }
    }
    for (Connection* c : gone) {
      s.closed(*c);
      std::erase_if(s.conns, [&](const auto& p) { return p.get() == c; });
    }
  }
}

}  // namespace sxcoll::bootstrap
