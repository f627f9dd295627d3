// Every wait in sxcoll has a deadline; this is the one clock they all use.
#pragma once

#include <algorithm>
#include <chrono>

namespace sxcoll {

using Clock = std::chrono::steady_clock;

class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds budget) : end_(Clock::now() + budget) {}
  static Deadline never() { return Deadline(std::chrono::hours(24 * 365)); }

  bool expired() const { return Clock::now() >= end_; }
  std::chrono::milliseconds remaining() const {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(end_ - Clock::now()));
  }
  // Milliseconds to hand to poll(2)/epoll_wait(2), capped so that callers wake up to
  // check other conditions (an abort from the bootstrap, say).
  int poll_timeout_ms(int cap_ms) const {
    return static_cast<int>(std::min<long long>(remaining().count(), cap_ms));
  }

 private:
  Clock::time_point end_;
};

}  // namespace sxcoll
