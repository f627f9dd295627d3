// Element types and reduction operators of the collectives, with the names that
// nccl-tests prints (float, half, bfloat16, ...) and the aliases users type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sxcoll {

enum class DataType : uint8_t { Int8, Uint8, Int32, Int64, Float16, Bfloat16, Float32, Float64 };
enum class RedOp : uint8_t { Sum, Prod, Min, Max, Avg };

inline constexpr std::array kAllDataTypes{DataType::Int8,    DataType::Uint8,    DataType::Int32,
                                          DataType::Int64,   DataType::Float16,  DataType::Bfloat16,
                                          DataType::Float32, DataType::Float64};
inline constexpr std::array kAllRedOps{RedOp::Sum, RedOp::Prod, RedOp::Min, RedOp::Max, RedOp::Avg};

size_t dtype_size(DataType type);
bool is_floating(DataType type);
std::string_view dtype_name(DataType type);  // nccl-tests' spelling: "float", "half", ...
std::string_view redop_name(RedOp op);       // "sum", "prod", "min", "max", "avg"

// Accepts nccl-tests' names and the common aliases (fp16, float16, bf16, f32, fp32, ...).
std::optional<DataType> parse_dtype(std::string_view text);
std::optional<RedOp> parse_redop(std::string_view text);

}  // namespace sxcoll
