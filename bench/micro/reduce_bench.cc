// Host reduction throughput next to memcpy of the same operand size.
//
// Bytes are counted as they cross the memory interface: reduce() reads two operands
// and writes one (3 x size), memcpy reads one and writes one (2 x size), so equal GB/s
// means the reduction runs at memory speed. "baseline" rows force the x86-64 (SSE2)
// kernels to show what the run-time AVX2/F16C dispatch buys.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "collectives/dtype.h"
#include "collectives/half.h"
#include "collectives/reduce.h"
#include "collectives/reduce_kernels.h"

namespace {

using sxcoll::DataType;
using sxcoll::RedOp;

constexpr size_t kOperandBytes[] = {size_t{64} << 10, size_t{1} << 20, size_t{16} << 20,
                                    size_t{64} << 20};

std::string size_name(size_t bytes) {
  return bytes >= (size_t{1} << 20) ? fmt::format("{}MiB", bytes >> 20)
                                    : fmt::format("{}KiB", bytes >> 10);
}

// Ordinary finite values (no NaN, infinities or subnormals, whose handling could be
// slow on some CPUs and would not be what a training job reduces).
template <class T>
void fill(std::vector<std::byte>& buf, int seed) {
  T* p = reinterpret_cast<T*>(buf.data());
  const size_t count = buf.size() / sizeof(T);
  for (size_t i = 0; i < count; ++i) {
    const float v = 1.0f + static_cast<float>((i * 7 + static_cast<size_t>(seed)) % 13) * 0.25f;
    if constexpr (std::is_same_v<T, sxcoll::float16>) {
      p[i] = sxcoll::to_float16(v);
    } else if constexpr (std::is_same_v<T, sxcoll::bfloat16>) {
      p[i] = sxcoll::to_bfloat16(v);
    } else {
      p[i] = static_cast<T>(v);
    }
  }
}

void fill(std::vector<std::byte>& buf, DataType type, int seed) {
  switch (type) {
    case DataType::Int8: return fill<int8_t>(buf, seed);
    case DataType::Uint8: return fill<uint8_t>(buf, seed);
    case DataType::Int32: return fill<int32_t>(buf, seed);
    case DataType::Int64: return fill<int64_t>(buf, seed);
    case DataType::Float16: return fill<sxcoll::float16>(buf, seed);
    case DataType::Bfloat16: return fill<sxcoll::bfloat16>(buf, seed);
    case DataType::Float32: return fill<float>(buf, seed);
    case DataType::Float64: return fill<double>(buf, seed);
  }
}

enum class Variant { Dispatched, InPlace, Baseline };

void bm_reduce(benchmark::State& state, DataType type, RedOp op, size_t bytes, Variant variant) {
  std::vector<std::byte> a(bytes), b(bytes), dst(bytes);
  fill(a, type, 1);
  fill(b, type, 2);
  const size_t count = bytes / sxcoll::dtype_size(type);
  void* out = variant == Variant::InPlace ? static_cast<void*>(a.data()) : dst.data();
  const auto& baseline = sxcoll::reduce_detail::baseline_table();
  const size_t column = op == RedOp::Max ? 3 : 0;
  for (auto _ : state) {
    if (variant == Variant::Baseline) {
      baseline[static_cast<size_t>(type)][column](out, a.data(), b.data(), count);
    } else {
      sxcoll::reduce(out, a.data(), b.data(), count, type, op);
    }
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 3 * bytes));
}

void bm_memcpy(benchmark::State& state, size_t bytes) {
  std::vector<std::byte> a(bytes, std::byte{1}), dst(bytes, std::byte{0});
  for (auto _ : state) {
    std::memcpy(dst.data(), a.data(), bytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * bytes));
}

void register_all() {
  for (size_t bytes : kOperandBytes) {
    const std::string size = size_name(bytes);
    benchmark::RegisterBenchmark(fmt::format("memcpy/{}", size).c_str(), bm_memcpy, bytes);
    for (DataType type : sxcoll::kAllDataTypes) {
      const auto name = sxcoll::dtype_name(type);
      benchmark::RegisterBenchmark(fmt::format("reduce/{}/sum/{}", name, size).c_str(), bm_reduce,
                                   type, RedOp::Sum, bytes, Variant::Dispatched);
    }
    benchmark::RegisterBenchmark(fmt::format("reduce/float/max/{}", size).c_str(), bm_reduce,
                                 DataType::Float32, RedOp::Max, bytes, Variant::Dispatched);
    benchmark::RegisterBenchmark(fmt::format("reduce_inplace/float/sum/{}", size).c_str(),
                                 bm_reduce, DataType::Float32, RedOp::Sum, bytes,
                                 Variant::InPlace);
    for (DataType type : {DataType::Float16, DataType::Bfloat16, DataType::Float32}) {
      benchmark::RegisterBenchmark(
          fmt::format("reduce_baseline/{}/sum/{}", sxcoll::dtype_name(type), size).c_str(),
          bm_reduce, type, RedOp::Sum, bytes, Variant::Baseline);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext(
      "reduce_isa", sxcoll::reduce_detail::selected_isa() == sxcoll::reduce_detail::Isa::Avx2
                        ? "avx2+f16c"
                        : "baseline");
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
