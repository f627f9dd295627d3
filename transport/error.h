// Errors that name their place: which rank, which peer, which operation, which cause.
#pragma once

#include <stdexcept>
#include <string>

namespace sxcoll {

// Input the user can fix (flags, environment, config): reported in one line, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure of the run itself (a peer lost, a timeout, a transport fault): exit code 1.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A connection to `peer` broke or misbehaved. `what()` already names rank, peer and cause.
class PeerError : public RunError {
 public:
  PeerError(int peer, const std::string& message) : RunError(message), peer_(peer) {}
  int peer() const { return peer_; }

 private:
  int peer_;
};

// errno as text, for messages.
std::string errno_text(int err);

// Prints "sxcoll: <message>" on stderr in a single write, so that the lines of several
// ranks sharing one terminal or pipe never run into each other.
void print_error(const std::string& message);

}  // namespace sxcoll
