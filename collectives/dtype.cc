#include "collectives/dtype.h"

namespace sxcoll {

namespace {

struct DataTypeInfo {
  std::string_view name;  // nccl-tests' spelling, printed in tables
  size_t size;
  bool floating;
};

constexpr DataTypeInfo info(DataType type) {
  switch (type) {
    case DataType::Int8: return {"int8", 1, false};
    case DataType::Uint8: return {"uint8", 1, false};
    case DataType::Int32: return {"int32", 4, false};
    case DataType::Int64: return {"int64", 8, false};
    case DataType::Float16: return {"half", 2, true};
    case DataType::Bfloat16: return {"bfloat16", 2, true};
    case DataType::Float32: return {"float", 4, true};
    case DataType::Float64: return {"double", 8, true};
  }
  // Only reachable through a value cast from outside the enumeration.
  return {"invalid", 0, false};
}

struct Alias {
  std::string_view text;
  DataType type;
};

// nccl-tests' names first, then what PyTorch, NumPy and CUDA users type.
constexpr Alias kDataTypeAliases[] = {
    {"int8", DataType::Int8},        {"uint8", DataType::Uint8},       {"int32", DataType::Int32},
    {"int", DataType::Int32},        {"int64", DataType::Int64},       {"half", DataType::Float16},
    {"float16", DataType::Float16},  {"fp16", DataType::Float16},      {"f16", DataType::Float16},
    {"bfloat16", DataType::Bfloat16}, {"bf16", DataType::Bfloat16},    {"float", DataType::Float32},
    {"float32", DataType::Float32},  {"fp32", DataType::Float32},      {"f32", DataType::Float32},
    {"double", DataType::Float64},   {"float64", DataType::Float64},   {"fp64", DataType::Float64},
    {"f64", DataType::Float64},
};

}  // namespace

size_t dtype_size(DataType type) { return info(type).size; }

bool is_floating(DataType type) { return info(type).floating; }

std::string_view dtype_name(DataType type) { return info(type).name; }

std::string_view redop_name(RedOp op) {
  switch (op) {
    case RedOp::Sum: return "sum";
    case RedOp::Prod: return "prod";
    case RedOp::Min: return "min";
    case RedOp::Max: return "max";
    case RedOp::Avg: return "avg";
  }
  return "invalid";
}

std::optional<DataType> parse_dtype(std::string_view text) {
  for (const Alias& alias : kDataTypeAliases) {
    if (alias.text == text) return alias.type;
  }
  return std::nullopt;
}

std::optional<RedOp> parse_redop(std::string_view text) {
  for (RedOp op : kAllRedOps) {
    if (redop_name(op) == text) return op;
  }
  return std::nullopt;
}

}  // namespace sxcoll
