// Page-aligned host buffers for the bench's inputs and outputs.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using PageBuffer = std::unique_ptr<char, FreeDeleter>;

// Page-aligned (what registration and DMA like), and never zero-sized, so that a count of
// 0 still has a valid pointer.
inline PageBuffer allocate_pages(size_t bytes) {
  const size_t rounded = std::max<size_t>((bytes + 4095) / 4096 * 4096, 4096);
  void* p = std::aligned_alloc(4096, rounded);
  if (p == nullptr) throw RunError(fmt::format("cannot allocate {} bytes of bench buffers", bytes));
  return PageBuffer(static_cast<char*>(p));
}

}  // namespace sxcoll::bench
