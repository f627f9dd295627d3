#include "bench/buffers.h"

namespace sxcoll::bench {

namespace {

gpu::Memory host_pages(size_t bytes) { return gpu::Memory(transport::allocate_pages(bytes).release(), std::free); }

}  // namespace

BenchBuffers::BenchBuffers(size_t bytes, transport::MemoryKind kind) : kind_(kind) {
  if (kind_ == transport::MemoryKind::Host) {
    send_ = host_pages(bytes);
    recv_ = host_pages(bytes);
  } else {
    send_ = gpu::alloc_device(bytes);
    recv_ = gpu::alloc_device(bytes);
    host_ = transport::allocate_pages(bytes);
  }
}

void BenchBuffers::fill(const CollectiveTest& test, size_t count, DataType type, RedOp op, int rank, int nranks) {
  if (kind_ == transport::MemoryKind::Host) {
    test.fill(send_.get(), count, type, op, rank, nranks);
    return;
  }
  test.fill(host_.get(), count, type, op, rank, nranks);
  gpu::copy(send_.get(), host_.get(), count * dtype_size(type));
}

size_t BenchBuffers::count_errors(const CollectiveTest& test, const char* out, size_t count, DataType type, RedOp op,
                                  int nranks) {
  if (kind_ == transport::MemoryKind::Host) return test.count_errors(out, count, type, op, nranks);
  gpu::copy(host_.get(), out, count * dtype_size(type));
  return test.count_errors(host_.get(), count, type, op, nranks);
}

}  // namespace sxcoll::bench
