#include "bench/buffers.h"

#include <cstring>

namespace sxcoll::bench {

namespace {

gpu::Memory host_pages(size_t bytes) { return gpu::Memory(transport::allocate_pages(bytes).release(), std::free); }

}  // namespace

BenchBuffers::BenchBuffers(size_t bytes, transport::MemoryKind kind) : kind_(kind) {
  if (kind_ == transport::MemoryKind::Host) {
    send_ = host_pages(bytes);
    recv_ = host_pages(bytes);
    line_up_ = host_pages(16);
  } else {
    send_ = gpu::alloc_device(bytes);
    recv_ = gpu::alloc_device(bytes);
    line_up_ = gpu::alloc_device(16);
    host_ = transport::allocate_pages(bytes);
  }
}

void BenchBuffers::fill(const CollectiveTest& test, char* input, const CollCounts& counts, DataType type, RedOp op,
                       int rank, int nranks, int root) {
  if (kind_ == transport::MemoryKind::Host) {
    test.fill(input, counts, type, op, rank, nranks, root);
    return;
  }
  test.fill(host_.get(), counts, type, op, rank, nranks, root);
  gpu::copy(input, host_.get(), counts.send * dtype_size(type));
}

void BenchBuffers::poison(char* output, size_t bytes) {
  if (kind_ == transport::MemoryKind::Host) {
    std::memset(output, 0xff, bytes);
    return;
  }
  std::memset(host_.get(), 0xff, bytes);
  gpu::copy(output, host_.get(), bytes);
}

size_t BenchBuffers::count_errors(const CollectiveTest& test, const char* output, const CollCounts& counts,
                                  DataType type, RedOp op, int rank, int nranks, int root) {
  if (kind_ == transport::MemoryKind::Host) return test.count_errors(output, counts, type, op, rank, nranks, root);
  gpu::copy(host_.get(), output, counts.recv * dtype_size(type));
  return test.count_errors(host_.get(), counts, type, op, rank, nranks, root);
}

}  // namespace sxcoll::bench
