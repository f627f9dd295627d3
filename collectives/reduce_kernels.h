// Internal: the kernel tables behind reduce(), one per instruction set. reduce() picks
// a table once per process; the tests run every table this CPU supports.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "collectives/dtype.h"
#include "collectives/reduce_ops.h"

namespace sxcoll::reduce_detail {

using Kernel = void (*)(void* dst, const void* a, const void* b, size_t count);

// Rows in DataType order; columns Sum, Prod, Min, Max (Avg reduces as Sum).
using KernelTable = std::array<std::array<Kernel, 4>, kAllDataTypes.size()>;

enum class Isa : uint8_t {
  Baseline,  // x86-64 (SSE2) or whatever the build targets
  Avx2,      // AVX2 + F16C, chosen at run time on CPUs that have both
};

// nullptr where this build or this CPU lacks the instruction set.
const KernelTable* kernel_table(Isa isa);
// The table reduce() uses: the widest one available.
Isa selected_isa();

const KernelTable& baseline_table();
const KernelTable* avx2_table();  // nullptr on non-x86 builds; defined in reduce_avx2.cc

// KernelFor<T, Op>::run is one kernel; the instruction set is KernelFor's business.
template <template <class, class> class KernelFor>
constexpr KernelTable make_kernel_table() {
  constexpr auto row = []<class T>(T*) {
    return std::array<Kernel, 4>{&KernelFor<T, SumOp>::run, &KernelFor<T, ProdOp>::run,
                                 &KernelFor<T, MinOp>::run, &KernelFor<T, MaxOp>::run};
  };
  static_assert(static_cast<int>(DataType::Int8) == 0 && static_cast<int>(DataType::Float64) == 7);
  return {row(static_cast<int8_t*>(nullptr)),  row(static_cast<uint8_t*>(nullptr)),
          row(static_cast<int32_t*>(nullptr)), row(static_cast<int64_t*>(nullptr)),
          row(static_cast<float16*>(nullptr)), row(static_cast<bfloat16*>(nullptr)),
          row(static_cast<float*>(nullptr)),   row(static_cast<double*>(nullptr))};
}

}  // namespace sxcoll::reduce_detail
