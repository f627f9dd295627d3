#include "collectives/reduce.h"

#include <cmath>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

#include "collectives/half.h"
#include "collectives/reduce_kernels.h"

namespace sxcoll {

namespace reduce_detail {

namespace {

template <class T, class Op>
struct BaselineKernel {
  static void run(void* dst, const void* a, const void* b, size_t count) {
    reduce_loop<T, Op>(dst, a, b, count);
  }
};

constexpr KernelTable kBaselineTable = make_kernel_table<BaselineKernel>();

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();  // in case reduce() runs from another static initializer
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

}  // namespace

const KernelTable& baseline_table() { return kBaselineTable; }

const KernelTable* kernel_table(Isa isa) {
  switch (isa) {
    case Isa::Baseline: return &kBaselineTable;
    case Isa::Avx2: return cpu_has_avx2() ? avx2_table() : nullptr;
  }
  return nullptr;
}

Isa selected_isa() {
  static const Isa isa = kernel_table(Isa::Avx2) != nullptr ? Isa::Avx2 : Isa::Baseline;
  return isa;
}

}  // namespace reduce_detail

namespace {

size_t op_column(RedOp op) {
  switch (op) {
    case RedOp::Sum:
    case RedOp::Avg: return 0;
    case RedOp::Prod: return 1;
    case RedOp::Min: return 2;
    case RedOp::Max: return 3;
  }
  throw std::invalid_argument(fmt::format("reduce: invalid RedOp {}", static_cast<int>(op)));
}

size_t type_row(DataType type) {
  const auto row = static_cast<size_t>(type);
  if (row >= kAllDataTypes.size()) {
    throw std::invalid_argument(fmt::format("reduce: invalid DataType {}", row));
  }
  return row;
}

// Integer Avg divides in double: for |x| < 2^32 and any n >= 1 the rounded quotient
// cannot cross an integer (its error, below |x/n| * 2^-53 < 1/n, is smaller than the
// distance 1/n from a non-integer x/n to the next integer), so truncating it is exact
// C division, and unlike integer division it vectorizes.
template <class T>
void divide(void* buf, size_t count, int nranks) {
  T* p = static_cast<T*>(buf);
  if constexpr (std::is_same_v<T, int64_t>) {
    for (size_t i = 0; i < count; ++i) p[i] /= nranks;
  } else if constexpr (std::is_integral_v<T>) {
    const double n = nranks;
    for (size_t i = 0; i < count; ++i) p[i] = static_cast<T>(static_cast<double>(p[i]) / n);
  } else if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
    // Correctly rounded: see combine() on float's 24 bits.
    const float n = static_cast<float>(nranks);
    for (size_t i = 0; i < count; ++i) {
      if constexpr (std::is_same_v<T, float16>) {
        p[i] = to_float16(to_float(p[i]) / n);
      } else {
        p[i] = to_bfloat16(to_float(p[i]) / n);
      }
    }
  } else {
    const T n = static_cast<T>(nranks);
    for (size_t i = 0; i < count; ++i) p[i] /= n;
  }
}

}  // namespace

void reduce(void* dst, const void* a, const void* b, size_t count, DataType type, RedOp op) {
  using namespace reduce_detail;
  static const KernelTable& table = *kernel_table(selected_isa());
  table[type_row(type)][op_column(op)](dst, a, b, count);
}

void finalize_avg(void* buf, size_t count, DataType type, int nranks) {
  if (nranks < 1) {
    throw std::invalid_argument(fmt::format("finalize_avg: nranks must be >= 1, got {}", nranks));
  }
  switch (type) {
    case DataType::Int8: return divide<int8_t>(buf, count, nranks);
    case DataType::Uint8: return divide<uint8_t>(buf, count, nranks);
    case DataType::Int32: return divide<int32_t>(buf, count, nranks);
    case DataType::Int64: return divide<int64_t>(buf, count, nranks);
    case DataType::Float16: return divide<float16>(buf, count, nranks);
    case DataType::Bfloat16: return divide<bfloat16>(buf, count, nranks);
    case DataType::Float32: return divide<float>(buf, count, nranks);
    case DataType::Float64: return divide<double>(buf, count, nranks);
  }
  throw std::invalid_argument(
      fmt::format("finalize_avg: invalid DataType {}", static_cast<int>(type)));
}

}  // namespace sxcoll
