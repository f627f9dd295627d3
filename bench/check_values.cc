#include "bench/check_values.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "collectives/half.h"
#include "collectives/reduce.h"

namespace sxcoll::bench {

namespace {

// 4096 windows: expected values are folded once per window (4096 x nranks operations,
// a few ms at 64 ranks), and the per-window tables stay in L1 (32 KiB for double).
constexpr int kWindowBits = 12;
constexpr size_t kWindows = size_t{1} << kWindowBits;

// Elements go to windows in blocks of 64: the block's first window is a hash of the
// block index, the next elements take the next windows. Fill is then a copy and the
// check a vectorizable compare; a chunk moved by any offset still lands in other
// windows (by k < 64 within a block, by a new hash across blocks). The tables carry
// kBlock extra entries (a copy of the first ones) so that a block never wraps.
constexpr size_t kBlock = 64;
constexpr size_t kTableSize = kWindows + kBlock;

// splitmix64's finalizer: the per-window and per-(window, rank) random bits.
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

inline size_t first_window(size_t block) {
  return static_cast<size_t>(mix64(static_cast<uint64_t>(block) + 0x243f6a8885a308d3ull)) &
         (kWindows - 1);
}

// How one (type, op, nranks) combination draws its inputs.
struct Recipe {
  RedOp op;
  int nranks;
  uint64_t salt;     // different data for every type and op
  int sum_limit;     // float sum: |input| <= sum_limit, so |partial sum| <= 256
  int prod_spacing;  // float prod: one rank in prod_spacing contributes a factor 2^+-1
};

Recipe make_recipe(DataType type, RedOp op, int nranks) {
  Recipe recipe{};
  recipe.op = op;
  recipe.nranks = nranks;
  recipe.salt = mix64(0x73786330'6c6c0000ull | (static_cast<uint64_t>(type) << 8) |
                      static_cast<uint64_t>(op));
  // bfloat16 holds integers up to 256 exactly: 3 x 64 ranks = 192 fits.
  recipe.sum_limit = std::clamp(256 / nranks, 1, 3);
  // At most 8 non-unit factors in any window, so partial products stay within
  // [2^-8, 2^8]: normal numbers even in half (2^-14 .. 65504).
  recipe.prod_spacing =
      std::max(8, static_cast<int>(std::bit_ceil(static_cast<unsigned>(nranks)) / 8));
  return recipe;
}

// Min/max inputs are window base + per-rank spread: the base moves the result from
// window to window (a misplaced chunk shows), and the spread decides which rank holds
// the extreme (a missing rank shows). Counting a rank twice cannot change a min or max.
constexpr uint64_t kMinMaxSpread = 32;

// Integer inputs use the whole range: sum and prod wrap, exactly, in any order; prod
// inputs are odd, so a product never collapses to 0 and every factor but 1 shows.
template <class T>
T integer_input(const Recipe& recipe, uint64_t window_bits, uint64_t rank_bits) {
  using U = std::make_unsigned_t<T>;
  switch (recipe.op) {
    case RedOp::Sum:
    case RedOp::Avg: return static_cast<T>(rank_bits);
    case RedOp::Prod: return static_cast<T>(rank_bits | 1u);
    case RedOp::Min:
    case RedOp::Max: break;
  }
  constexpr U kMax = std::numeric_limits<U>::max();
  const auto base = static_cast<U>(window_bits % (uint64_t{kMax} - kMinMaxSpread + 1));
  const auto offset = static_cast<U>(base + rank_bits % kMinMaxSpread);
  return static_cast<T>(static_cast<U>(static_cast<U>(std::numeric_limits<T>::min()) + offset));
}

// Float inputs are small integers times a power of two: exact in bfloat16 (8 bits of
// significand) and within half's normal range, as is every partial result.
double float_input(const Recipe& recipe, uint32_t window, int rank, uint64_t window_bits,
                   uint64_t rank_bits) {
  switch (recipe.op) {
    case RedOp::Sum: {
      // One scale per window (shared by all ranks, so sums stay exact) exercises the
      // exponent; |sum| <= 192 * 2^6 fits half.
      const int limit = recipe.sum_limit;
      const auto mantissa = static_cast<int>(rank_bits % static_cast<uint64_t>(2 * limit + 1)) - limit;
      return std::ldexp(mantissa, static_cast<int>(window_bits % 13) - 6);
    }
    case RedOp::Avg: {
      // -1 or 1 (1/8 each), else 0: a rank's contribution (1/nranks, at least 1/64)
      // stays well above the tolerance, and the sparse partial sums keep the rounding
      // of NCCL's premultiplied sum within one ulp (with dense -1/0/1 inputs it reached
      // three in bfloat16, too close to 1/64).
      const uint64_t pick = rank_bits % 8;
      return pick == 0 ? -1.0 : pick == 1 ? 1.0 : 0.0;
    }
    case RedOp::Prod: {
      const double sign = (rank_bits & 1) != 0 ? -1.0 : 1.0;
      const bool scaled =
          (static_cast<uint64_t>(window) + static_cast<uint64_t>(rank)) %
              static_cast<uint64_t>(recipe.prod_spacing) == 0;
      const int exponent = scaled ? ((rank_bits & 2) != 0 ? 1 : -1) : 0;
      return std::ldexp(sign, exponent);
    }
    case RedOp::Min:
    case RedOp::Max: break;
  }
  const auto base = static_cast<int>(window_bits % (255 - kMinMaxSpread)) - 127;
  const auto mantissa = base + static_cast<int>(rank_bits % kMinMaxSpread);  // [-127, 126]
  return std::ldexp(mantissa, static_cast<int>((window_bits >> 32) % 16) - 8);
}

template <class T>
T from_double(double value) {
  if constexpr (std::is_same_v<T, float16>) {
    return to_float16(static_cast<float>(value));
  } else if constexpr (std::is_same_v<T, bfloat16>) {
    return to_bfloat16(static_cast<float>(value));
  } else {
    return static_cast<T>(value);
  }
}

template <class T>
double to_double(T value) {
  if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
    return static_cast<double>(to_float(value));
  } else {
    return static_cast<double>(value);
  }
}

template <class T>
constexpr bool kIsFloat = !std::is_integral_v<T>;

// The inputs of one rank in every window.
template <class T>
void input_row(const Recipe& recipe, int rank, std::vector<T>& row) {
  row.resize(kTableSize);
  for (uint32_t window = 0; window < kWindows; ++window) {
    const uint64_t window_bits = mix64(recipe.salt + window);
    const uint64_t rank_bits =
        mix64(window_bits ^ (static_cast<uint64_t>(rank) + 1) * 0x9e3779b97f4a7c15ull);
    if constexpr (kIsFloat<T>) {
      row[window] = from_double<T>(float_input(recipe, window, rank, window_bits, rank_bits));
    } else {
      row[window] = integer_input<T>(recipe, window_bits, rank_bits);
    }
  }
  std::copy_n(row.begin(), kBlock, row.begin() + kWindows);
}

// The expected result in every window: inputs folded in rank order with reduce().
template <class T>
std::vector<T> expected_row(const Recipe& recipe, DataType type) {
  std::vector<T> expected;
  std::vector<T> row;
  input_row(recipe, 0, expected);
  for (int rank = 1; rank < recipe.nranks; ++rank) {
    input_row(recipe, rank, row);
    reduce(expected.data(), expected.data(), row.data(), kTableSize, type, recipe.op);
  }
  if (recipe.op == RedOp::Avg) finalize_avg(expected.data(), kTableSize, type, recipe.nranks);
  return expected;
}

// The storage bits of T as an unsigned integer: the fast, vectorizable comparison.
template <class T>
auto bits_of(T value) {
  if constexpr (sizeof(T) == 1) {
    return std::bit_cast<uint8_t>(value);
  } else if constexpr (sizeof(T) == 2) {
    return std::bit_cast<uint16_t>(value);
  } else if constexpr (sizeof(T) == 4) {
    return std::bit_cast<uint32_t>(value);
  } else {
    return std::bit_cast<uint64_t>(value);
  }
}

// Calls fn(i, window, n) for runs of n elements from buffer element i on, element i being
// element first + i of the whole: a run stays in one block, starting at table index window.
template <class Fn>
void for_each_run(size_t first, size_t count, Fn&& fn) {
  for (size_t i = 0; i < count;) {
    const size_t at = first + i;
    const size_t n = std::min(kBlock - at % kBlock, count - i);
    fn(i, first_window(at / kBlock) + at % kBlock, n);
    i += n;
  }
}

template <class T>
void fill_typed(void* buf, size_t count, const Recipe& recipe, int rank, size_t first) {
  std::vector<T> row;
  input_row(recipe, rank, row);
  T* out = static_cast<T*>(buf);
  for_each_run(first, count, [&](size_t i, size_t window, size_t n) {
    std::memcpy(out + i, row.data() + window, n * sizeof(T));
  });
}

// Exact rule: same bits, or (float types) equal values, since +0 and -0 are the same
// result. Bits are compared first, values only in a block where bits differ.
template <class T>
size_t count_block_errors_exact(const T* got, const T* want, size_t n) {
  size_t differ = 0;
  for (size_t i = 0; i < n; ++i) differ += bits_of(got[i]) != bits_of(want[i]);
  if (differ == 0 || !kIsFloat<T>) return differ;
  size_t errors = 0;
  for (size_t i = 0; i < n; ++i) errors += to_double(got[i]) != to_double(want[i]);
  return errors;
}

template <class T>
size_t count_block_errors_within(const T* got, const T* want, size_t n, double tolerance) {
  size_t errors = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = to_double(want[i]);
    // Written so that a NaN result fails.
    errors += !(std::fabs(to_double(got[i]) - w) <= tolerance * std::max(1.0, std::fabs(w)));
  }
  return errors;
}

template <class T>
size_t count_errors_against(const void* buf, size_t count, const std::vector<T>& expected, double tolerance,
                            size_t first) {
  const T* got = static_cast<const T*>(buf);
  size_t errors = 0;
  for_each_run(first, count, [&](size_t i, size_t window, size_t n) {
    const T* want = expected.data() + window;
    errors += tolerance == 0 ? count_block_errors_exact(got + i, want, n)
                             : count_block_errors_within(got + i, want, n, tolerance);
  });
  return errors;
}

void check_ranks(const char* what, int rank, int nranks) {
  if (nranks < 1 || rank < 0 || rank >= nranks) {
    throw std::invalid_argument(
        fmt::format("{}: rank {} of {} ranks is out of range", what, rank, nranks));
  }
}

// Calls fn with a null pointer of the storage type of `type`.
template <class Fn>
decltype(auto) with_storage_type(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::Int8: return fn(static_cast<int8_t*>(nullptr));
    case DataType::Uint8: return fn(static_cast<uint8_t*>(nullptr));
    case DataType::Int32: return fn(static_cast<int32_t*>(nullptr));
    case DataType::Int64: return fn(static_cast<int64_t*>(nullptr));
    case DataType::Float16: return fn(static_cast<float16*>(nullptr));
    case DataType::Bfloat16: return fn(static_cast<bfloat16*>(nullptr));
    case DataType::Float32: return fn(static_cast<float*>(nullptr));
    case DataType::Float64: return fn(static_cast<double*>(nullptr));
  }
  throw std::invalid_argument(fmt::format("invalid DataType {}", static_cast<int>(type)));
}

}  // namespace

void fill_allreduce_input(void* buf, size_t count, DataType type, RedOp op, int rank, int nranks, size_t first) {
  check_ranks("fill_allreduce_input", rank, nranks);
  const Recipe recipe = make_recipe(type, op, nranks);
  with_storage_type(type, [&]<class T>(T*) { fill_typed<T>(buf, count, recipe, rank, first); });
}

size_t count_allreduce_errors(const void* buf, size_t count, DataType type, RedOp op, int nranks, size_t first) {
  check_ranks("count_allreduce_errors", 0, nranks);
  const Recipe recipe = make_recipe(type, op, nranks);
  const double tolerance = check_tolerance(type, op);
  return with_storage_type(type, [&]<class T>(T*) {
    return count_errors_against<T>(buf, count, expected_row<T>(recipe, type), tolerance, first);
  });
}

// Data that only moves takes the min/max inputs: a window base (a block at the wrong offset
// lands on other bases) plus a spread by rank (another rank's block differs too).
void fill_rank_data(void* buf, size_t count, DataType type, int rank, int nranks, size_t first) {
  fill_allreduce_input(buf, count, type, RedOp::Max, rank, nranks, first);
}

size_t count_rank_data_errors(const void* buf, size_t count, DataType type, int rank, int nranks, size_t first) {
  check_ranks("count_rank_data_errors", rank, nranks);
  const Recipe recipe = make_recipe(type, RedOp::Max, nranks);
  return with_storage_type(type, [&]<class T>(T*) {
    std::vector<T> row;
    input_row(recipe, rank, row);
    return count_errors_against<T>(buf, count, row, 0, first);
  });
}

// Float avg is the one result that rounds. sxcoll's engines sum exactly and divide
// once (error <= half an ulp); NCCL multiplies every input by a rounded 1/n and rounds
// after every addition: on these inputs at most one ulp at |x| < 1 (2^-8 in bfloat16,
// 2^-11 in half), measured over 1..64 ranks and every ring start. The tolerances,
// 2^-10, 2^-7, 2^-20 and 2^-40, are twice that or more, and for half and bfloat16 still
// below what one rank's +-1 moves an average of 64 ranks (1/64, less an ulp of rounding
// on each side). tests/unit/check_values_test.cc checks both bounds.
double check_tolerance(DataType type, RedOp op) {
  if (op != RedOp::Avg) return 0;
  switch (type) {
    case DataType::Float16: return 0x1p-10;
    case DataType::Bfloat16: return 0x1p-7;
    case DataType::Float32: return 0x1p-20;
    case DataType::Float64: return 0x1p-40;
    default: return 0;
  }
}

std::string describe_check() {
  return fmt::format(
      "exact for integer types and for float sum/prod/min/max (inputs keep every partial "
      "result exact up to 64 ranks); float avg within tol*max(1,|ref|), tol: half={:.3g}, "
      "bfloat16={:.3g}, float={:.3g}, double={:.3g}",
      check_tolerance(DataType::Float16, RedOp::Avg),
      check_tolerance(DataType::Bfloat16, RedOp::Avg),
      check_tolerance(DataType::Float32, RedOp::Avg),
      check_tolerance(DataType::Float64, RedOp::Avg));
}

}  // namespace sxcoll::bench
