// device_reduce() and device_finalize_avg() against the host reduce() and finalize_avg(),
// bit for bit, for every DataType x RedOp. The one allowed difference: where the host
// result is a NaN made by arithmetic (sum, prod, avg), the GPU gives its canonical NaN,
// so there only "both NaN" is checked. Min/max pass operands through and must match
// exactly, NaN bits included. Without a CUDA device every test is skipped.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "collectives/cuda/device_reduce.h"
#include "collectives/dtype.h"
#include "collectives/half.h"
#include "collectives/reduce.h"

namespace sxcoll {
namespace {

bool have_device() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

#define SXCOLL_CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

class DeviceReduce : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_device()) GTEST_SKIP() << "no CUDA device";
  }
};

// Device memory freed at scope exit.
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) {
    if (cudaMalloc(&ptr, bytes == 0 ? 1 : bytes) != cudaSuccess) ptr = nullptr;
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

std::vector<unsigned char> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> v(n);
  for (auto& c : v) c = static_cast<unsigned char>(rng());
  return v;
}

bool is_nan(const unsigned char* p, DataType type) {
  switch (type) {
    case DataType::Float16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return (h & 0x7fff) > 0x7c00;
    }
    case DataType::Bfloat16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return (h & 0x7fff) > 0x7f80;
    }
    case DataType::Float32: {
      uint32_t u;
      std::memcpy(&u, p, 4);
      return (u & 0x7fffffffu) > 0x7f800000u;
    }
    case DataType::Float64: {
      uint64_t u;
      std::memcpy(&u, p, 8);
      return (u & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
    }
    default: return false;
  }
}

// Counts mismatches between host `want` and device `got`; describes the first.
size_t compare(const std::vector<unsigned char>& want, const std::vector<unsigned char>& got,
               size_t count, DataType type, bool arithmetic, std::string* first) {
  const size_t es = dtype_size(type);
  size_t wrong = 0;
  for (size_t i = 0; i < count; ++i) {
    const unsigned char* w = want.data() + i * es;
    const unsigned char* g = got.data() + i * es;
    if (std::memcmp(w, g, es) == 0) continue;
    if (arithmetic && is_nan(w, type) && is_nan(g, type)) continue;
    if (wrong++ == 0) {
      std::string wb, gb;
      for (size_t k = es; k-- > 0;) {
        wb += fmt::format("{:02x}", w[k]);
        gb += fmt::format("{:02x}", g[k]);
      }
      *first = fmt::format("element {}: host 0x{} device 0x{}", i, wb, gb);
    }
  }
  return wrong;
}

enum class Alias { None, DstIsA, DstIsB };

// One case: random a and b (every bit pattern, so NaN, inf, subnormals and -0 appear),
// `offset` elements past a 256-byte-aligned base (the unaligned head path).
void check_case(DataType type, RedOp op, size_t count, Alias alias, size_t offset) {
  SCOPED_TRACE(fmt::format("{} {} count {} alias {} offset {}", dtype_name(type), redop_name(op),
                           count, static_cast<int>(alias), offset));
  const size_t es = dtype_size(type);
  const size_t bytes = count * es;
  const size_t off = offset * es;
  const auto a = random_bytes(bytes, static_cast<uint32_t>(count * 131 + 7));
  const auto b = random_bytes(bytes, static_cast<uint32_t>(count * 131 + 8));

  std::vector<unsigned char> want(bytes);
  if (count > 0) reduce(want.data(), a.data(), b.data(), count, type, op);

  DeviceBuffer da(bytes + off), db(bytes + off), dd(bytes + off);
  ASSERT_NE(da.ptr, nullptr);
  ASSERT_NE(db.ptr, nullptr);
  ASSERT_NE(dd.ptr, nullptr);
  auto* pa = static_cast<unsigned char*>(da.ptr) + off;
  auto* pb = static_cast<unsigned char*>(db.ptr) + off;
  auto* pd = static_cast<unsigned char*>(dd.ptr) + off;
  if (alias == Alias::DstIsA) pd = pa;
  if (alias == Alias::DstIsB) pd = pb;
  SXCOLL_CUDA_OK(cudaMemcpy(pa, a.data(), bytes, cudaMemcpyHostToDevice));
  SXCOLL_CUDA_OK(cudaMemcpy(pb, b.data(), bytes, cudaMemcpyHostToDevice));

  cudaStream_t stream;
  SXCOLL_CUDA_OK(cudaStreamCreate(&stream));
  device_reduce(pd, pa, pb, count, type, op, stream);
  SXCOLL_CUDA_OK(cudaStreamSynchronize(stream));
  SXCOLL_CUDA_OK(cudaStreamDestroy(stream));

  std::vector<unsigned char> got(bytes);
  SXCOLL_CUDA_OK(cudaMemcpy(got.data(), pd, bytes, cudaMemcpyDeviceToHost));
  std::string first;
  const bool arithmetic = op == RedOp::Sum || op == RedOp::Prod || op == RedOp::Avg;
  EXPECT_EQ(compare(want, got, count, type, arithmetic, &first), 0u) << first;
}

TEST_F(DeviceReduce, MatchesHostForEveryTypeAndOp) {
  for (DataType type : kAllDataTypes) {
    for (RedOp op : kAllRedOps) {
      for (size_t count : {size_t{0}, size_t{1}, size_t{17}, size_t{1000003}}) {
        check_case(type, op, count, Alias::None, 0);
      }
    }
  }
}

TEST_F(DeviceReduce, ExactAliasing) {
  for (DataType type : kAllDataTypes) {
    for (RedOp op : kAllRedOps) {
      for (size_t count : {size_t{1}, size_t{17}, size_t{1000003}}) {
        check_case(type, op, count, Alias::DstIsA, 0);
        check_case(type, op, count, Alias::DstIsB, 0);
      }
    }
  }
}

TEST_F(DeviceReduce, UnalignedPointers) {
  for (DataType type : kAllDataTypes) {
    for (RedOp op : {RedOp::Sum, RedOp::Max}) {
      for (size_t count : {size_t{17}, size_t{1000003}}) {
        check_case(type, op, count, Alias::None, 1);
        check_case(type, op, count, Alias::DstIsA, 3);
      }
    }
  }
}

TEST_F(DeviceReduce, FinalizeAvgMatchesHost) {
  for (DataType type : kAllDataTypes) {
    for (int nranks : {1, 3, 8}) {
      for (size_t count : {size_t{0}, size_t{1}, size_t{17}, size_t{1000003}}) {
        SCOPED_TRACE(fmt::format("{} nranks {} count {}", dtype_name(type), nranks, count));
        const size_t bytes = count * dtype_size(type);
        auto want = random_bytes(bytes, static_cast<uint32_t>(count + nranks));
        DeviceBuffer d(bytes);
        ASSERT_NE(d.ptr, nullptr);
        SXCOLL_CUDA_OK(cudaMemcpy(d.ptr, want.data(), bytes, cudaMemcpyHostToDevice));
        if (count > 0) finalize_avg(want.data(), count, type, nranks);
        device_finalize_avg(d.ptr, count, type, nranks, nullptr);
        SXCOLL_CUDA_OK(cudaDeviceSynchronize());
        std::vector<unsigned char> got(bytes);
        SXCOLL_CUDA_OK(cudaMemcpy(got.data(), d.ptr, bytes, cudaMemcpyDeviceToHost));
        std::string first;
        EXPECT_EQ(compare(want, got, count, type, true, &first), 0u) << first;
      }
    }
  }
}

// More than 2^31 elements (int8, 2 GiB + 33 per buffer): the grid-stride loops and the
// size_t indices. Skipped where the card has too little free memory.
TEST_F(DeviceReduce, MoreThan2To31Elements) {
  const size_t count = (size_t{1} << 31) + 33;
  size_t free_bytes = 0, total = 0;
  SXCOLL_CUDA_OK(cudaMemGetInfo(&free_bytes, &total));
  if (free_bytes < 3 * count + (size_t{1} << 30)) GTEST_SKIP() << "too little device memory";
  DeviceBuffer da(count), db(count), dd(count);
  ASSERT_NE(da.ptr, nullptr);
  ASSERT_NE(db.ptr, nullptr);
  ASSERT_NE(dd.ptr, nullptr);
  SXCOLL_CUDA_OK(cudaMemset(da.ptr, 5, count));
  SXCOLL_CUDA_OK(cudaMemset(db.ptr, 7, count));
  SXCOLL_CUDA_OK(cudaMemset(dd.ptr, 0, count));
  device_reduce(dd.ptr, da.ptr, db.ptr, count, DataType::Int8, RedOp::Sum, nullptr);
  SXCOLL_CUDA_OK(cudaDeviceSynchronize());
  std::vector<unsigned char> got(count);
  SXCOLL_CUDA_OK(cudaMemcpy(got.data(), dd.ptr, count, cudaMemcpyDeviceToHost));
  size_t wrong = 0;
  for (unsigned char c : got) wrong += c != 12;
  EXPECT_EQ(wrong, 0u);
}

TEST(DeviceReduceErrors, InvalidNranksThrows) {
  if (!have_device()) GTEST_SKIP() << "no CUDA device";
  EXPECT_THROW(device_finalize_avg(nullptr, 1, DataType::Float32, 0, nullptr), std::exception);
}

}  // namespace
}  // namespace sxcoll
