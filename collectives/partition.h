// How elements are divided: among channels, and into the blocks of one pipeline loop.
#pragma once

#include <cstddef>

namespace sxcoll {

struct Range {
  size_t offset = 0;
  size_t count = 0;
};

// Part `index` of `parts` near-equal parts of [0, count), each a multiple of `align`
// elements except the last non-empty one. Parts past the data are empty.
inline Range split_range(size_t count, size_t parts, size_t index, size_t align) {
  size_t per = (count + parts - 1) / parts;
  per = (per + align - 1) / align * align;
  size_t begin = per * index < count ? per * index : count;
  size_t end = per * (index + 1) < count ? per * (index + 1) : count;
  return {begin, end - begin};
}

// Elements a pipeline chunk (one slot) holds: a multiple of `align` that fits the slot.
inline size_t chunk_elements(size_t slot_bytes, size_t elem_size, size_t align) {
  size_t elems = slot_bytes / elem_size / align * align;
  return elems > 0 ? elems : align;
}

// Elements per vector-friendly unit: 64 bytes (a cache line) worth.
inline size_t alignment_elements(size_t elem_size) { return elem_size >= 64 ? 1 : 64 / elem_size; }

}  // namespace sxcoll
