// A deadline for the calls that block inside NCCL: ncclCommInitRank, and the first
// collective of a kind, which connects (NCCL >= 2.22 connects lazily). In NCCL's blocking
// mode nothing can stop such a call from outside, so when one overruns its deadline the
// process names the rank and the call on stderr and exits; the other ranks then see it
// lost and name it, and nothing hangs. Arming is two atomic stores: every enqueue can
// afford it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace sxcoll::bench::nccl {

class Watchdog {
 public:
  Watchdog(int rank, std::chrono::milliseconds timeout);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Guards one call for as long as it lives. `what` must outlive it (a literal).
  class Guard {
   public:
    Guard(Watchdog& dog, const char* what);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Watchdog& dog_;
  };

 private:
  void watch();

  const int rank_;
  const std::chrono::milliseconds timeout_;
  std::atomic<int64_t> armed_since_ns_{0};  // 0: no call in NCCL
  std::atomic<const char*> what_{nullptr};
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sxcoll::bench::nccl
