// The engine's asynchronous path (what GPU buffers take) on host memory: the arithmetic
// runs on a worker thread that finishes each step later than it was enqueued, as a CUDA
// stream does, and sends go through staging slots as they do when the transport cannot
// read GPU memory. Results must be exact, and the deferral must really have happened.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "bench/check_values.h"
#include "collectives/reduce.h"
#include "multiprocess/rank_harness.h"

namespace sxcoll {
namespace {

// A stream on a thread: work runs in order, each item after a short random pause.
class WorkerStepQueue final : public StepQueue {
 public:
  WorkerStepQueue() : worker_([this] { work(); }) {}
  ~WorkerStepQueue() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
  }

  void reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op) override {
    push([=] { sxcoll::reduce(dst, a, b, count, type, op); });
  }
  void copy(void* dst, const void* src, size_t bytes) override { push([=] { std::memcpy(dst, src, bytes); }); }
  void finalize_avg(void* buf, size_t count, DataType type, int nranks) override {
    push([=] { sxcoll::finalize_avg(buf, count, type, nranks); });
  }
  uint64_t mark() override {
    const uint64_t ticket = ++marks_;
    push([this, ticket] { finished_.store(ticket, std::memory_order_release); });
    return ticket;
  }
  bool done(uint64_t ticket) override {
    if (finished_.load(std::memory_order_acquire) >= ticket) return true;
    ++not_yet_;
    return false;
  }
  bool asynchronous() const override { return true; }
  uint64_t not_yet() const { return not_yet_; }

 private:
  void push(std::function<void()> item) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(item));
    }
    wake_.notify_one();
  }
  void work() {
    std::minstd_rand random(std::random_device{}());
    for (;;) {
      std::function<void()> item;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !items_.empty(); });
        if (items_.empty()) return;
        item = std::move(items_.front());
        items_.pop_front();
      }
      if (random() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(random() % 200));
      item();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> items_;
  bool stopping_ = false;
  uint64_t marks_ = 0;
  std::atomic<uint64_t> finished_{0};
  uint64_t not_yet_ = 0;
  std::thread worker_;
};

struct Case {
  int nranks;
  Algorithm algorithm;
  bool stage_sends;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.nranks << " ranks, " << algorithm_name(c.algorithm) << (c.stage_sends ? ", staged" : ", direct");
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return fmt::format("n{}_{}_{}", info.param.nranks, algorithm_name(info.param.algorithm),
                     info.param.stage_sends ? "staged" : "direct");
}

class DeferredSteps : public ::testing::TestWithParam<Case> {};

int check_deferred(testing::RankEnv& env, const Case& c) {
  auto owned = std::make_unique<WorkerStepQueue>();
  WorkerStepQueue* queue = owned.get();
  env.comm.use_step_queue(std::move(owned), c.stage_sends);
  const int n = env.comm.size();
  const int rank = env.comm.rank();
  int failures = 0;
  std::vector<char> input, output;
  const std::pair<DataType, RedOp> cases[] = {{DataType::Float32, RedOp::Sum},
                                              {DataType::Int32, RedOp::Prod},
                                              {DataType::Float16, RedOp::Avg},
                                              {DataType::Int8, RedOp::Max},
                                              {DataType::Bfloat16, RedOp::Min}};
  for (auto [type, op] : cases) {
    const size_t esize = dtype_size(type);
    for (size_t count : {size_t{1}, size_t{1009}, ((size_t{3} << 20) + 123) / esize}) {
      input.assign(count * esize, 0);
      output.assign(count * esize, 0);
      for (bool in_place : {false, true}) {
        bench::fill_allreduce_input(input.data(), count, type, op, rank, n);
        char* out = in_place ? input.data() : output.data();
        env.comm.allreduce(input.data(), out, count, type, op, c.algorithm);
        if (!testing::result_is_exact(rank, n, out, count, type, op, in_place)) ++failures;
      }
    }
  }
  if (queue->not_yet() == 0) {
    std::fprintf(stderr, "rank %d: no step was ever found unfinished: the deferred path was not exercised\n", rank);
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}

TEST_P(DeferredSteps, ResultsAreExactWhenStepsFinishLate) {
  const Case c = GetParam();
  CommunicatorOptions comm;
  comm.buffsize = 256 << 10;  // small slots: staging slots wrap many times
  comm.timeout = std::chrono::seconds(60);
  int code = testing::run_ranks(c.nranks, [&](testing::RankEnv& env) { return check_deferred(env, c); }, comm);
  EXPECT_EQ(code, 0) << "see the ranks' messages above";
}

INSTANTIATE_TEST_SUITE_P(Paths, DeferredSteps,
                         ::testing::Values(Case{2, Algorithm::Ring, true}, Case{2, Algorithm::Ring, false},
                                           Case{3, Algorithm::Ring, true}, Case{3, Algorithm::Tree, true},
                                           Case{4, Algorithm::Tree, false}, Case{4, Algorithm::RecursiveDoubling, true},
                                           Case{5, Algorithm::Tree, true}),
                         case_name);

}  // namespace
}  // namespace sxcoll
