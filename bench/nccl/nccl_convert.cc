#include "bench/nccl/nccl_convert.h"

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::bench::nccl {

ncclDataType_t to_nccl(DataType type) {
  switch (type) {
    case DataType::Int8: return ncclInt8;
    case DataType::Uint8: return ncclUint8;
    case DataType::Int32: return ncclInt32;
    case DataType::Int64: return ncclInt64;
    case DataType::Float16: return ncclFloat16;
    case DataType::Bfloat16: return ncclBfloat16;
    case DataType::Float32: return ncclFloat32;
    case DataType::Float64: return ncclFloat64;
  }
  throw RunError(fmt::format("nccl: no NCCL type for DataType {}", static_cast<int>(type)));
}

ncclRedOp_t to_nccl(RedOp op) {
  switch (op) {
    case RedOp::Sum: return ncclSum;
    case RedOp::Prod: return ncclProd;
    case RedOp::Min: return ncclMin;
    case RedOp::Max: return ncclMax;
    case RedOp::Avg: return ncclAvg;
  }
  throw RunError(fmt::format("nccl: no NCCL operator for RedOp {}", static_cast<int>(op)));
}

std::string version_text(int code) {
  const int major_unit = code >= 10000 ? 10000 : 1000;
  return fmt::format("{}.{}.{}", code / major_unit, code % major_unit / 100, code % 100);
}

std::string to_hex(const ncclUniqueId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * kUniqueIdBytes);
  for (char c : id.internal) {
    const auto byte = static_cast<unsigned char>(c);
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

std::optional<ncclUniqueId> unique_id_from_hex(std::string_view hex) {
  if (hex.size() != 2 * kUniqueIdBytes) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  ncclUniqueId id{};
  for (size_t i = 0; i < kUniqueIdBytes; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.internal[i] = static_cast<char>(hi << 4 | lo);
  }
  return id;
}

}  // namespace sxcoll::bench::nccl
