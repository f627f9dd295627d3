// Where a step's arithmetic runs. On host buffers it runs at once on the calling thread;
// on GPU buffers it is enqueued on a CUDA stream and finishes later. The engine marks
// each step's work and posts the step's writes and credits only once the mark is done,
// so one engine serves both, and copies, reductions and transfers overlap on the GPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "collectives/dtype.h"
#include "collectives/reduce.h"

namespace sxcoll {

class StepQueue {
 public:
  virtual ~StepQueue() = default;
  // dst = a (op) b, as reduce().
  virtual void reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
  virtual void finalize_avg(void* buf, size_t count, DataType type, int nranks) = 0;
  // A ticket for everything enqueued so far; tickets finish in the order they were made.
  virtual uint64_t mark() = 0;
  // Whether the work up to `ticket` has finished. Throws RunError if it failed.
  virtual bool done(uint64_t ticket) = 0;
  // Whether work may still be running: the engine then polls rather than sleeps.
  virtual bool asynchronous() const = 0;
};

// Host memory: the work is done when it is enqueued.
class HostStepQueue final : public StepQueue {
 public:
  void reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op) override {
    sxcoll::reduce(dst, a, b, count, type, op);
  }
  void copy(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void finalize_avg(void* buf, size_t count, DataType type, int nranks) override {
    sxcoll::finalize_avg(buf, count, type, nranks);
  }
  uint64_t mark() override { return ++marks_; }
  bool done(uint64_t) override { return true; }
  bool asynchronous() const override { return false; }

 private:
  uint64_t marks_ = 0;
};

}  // namespace sxcoll
