#include "bench/nccl/nccl_watchdog.h"

#include <cstdlib>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench::nccl {

namespace {

// How often the watchdog looks: the deadline is met to within this.
constexpr auto kLook = std::chrono::milliseconds(100);

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Watchdog::Watchdog(int rank, std::chrono::milliseconds timeout)
    : rank_(rank), timeout_(timeout), thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_one();
  thread_.join();
}

Watchdog::Guard::Guard(Watchdog& dog, const char* what) : dog_(dog) {
  dog_.what_.store(what, std::memory_order_relaxed);
  dog_.armed_since_ns_.store(now_ns(), std::memory_order_release);
}

Watchdog::Guard::~Guard() { dog_.armed_since_ns_.store(0, std::memory_order_release); }

void Watchdog::watch() {
  std::unique_lock lock(mutex_);
  while (!stop_.wait_for(lock, kLook, [this] { return stopping_; })) {
    const int64_t since = armed_since_ns_.load(std::memory_order_acquire);
    if (since == 0 || now_ns() - since < std::chrono::nanoseconds(timeout_).count()) continue;
    print_error(fmt::format("rank {}: nccl: {} did not return within {} ms (a rank missing, or unreachable over "
                            "the transport NCCL chose?); exiting",
                            rank_, what_.load(std::memory_order_relaxed), timeout_.count()));
    std::_Exit(1);
  }
}

}  // namespace sxcoll::bench::nccl
