#include <gtest/gtest.h>

#include <set>
#include <string>

#include "collectives/dtype.h"

namespace sxcoll {
namespace {

TEST(DataType, NamesAndSizesFollowNcclTests) {
  const std::pair<DataType, std::pair<const char*, size_t>> expected[] = {
      {DataType::Int8, {"int8", 1}},         {DataType::Uint8, {"uint8", 1}},
      {DataType::Int32, {"int32", 4}},       {DataType::Int64, {"int64", 8}},
      {DataType::Float16, {"half", 2}},      {DataType::Bfloat16, {"bfloat16", 2}},
      {DataType::Float32, {"float", 4}},     {DataType::Float64, {"double", 8}},
  };
  ASSERT_EQ(std::size(expected), kAllDataTypes.size());
  for (const auto& [type, name_size] : expected) {
    EXPECT_EQ(dtype_name(type), name_size.first);
    EXPECT_EQ(dtype_size(type), name_size.second) << name_size.first;
  }
}

TEST(DataType, FloatingTypes) {
  std::set<std::string_view> floating;
  for (DataType type : kAllDataTypes) {
    if (is_floating(type)) floating.insert(dtype_name(type));
  }
  EXPECT_EQ(floating, (std::set<std::string_view>{"half", "bfloat16", "float", "double"}));
}

TEST(DataType, ParsesItsOwnNames) {
  for (DataType type : kAllDataTypes) {
    EXPECT_EQ(parse_dtype(dtype_name(type)), type) << dtype_name(type);
  }
}

TEST(DataType, ParsesAliases) {
  EXPECT_EQ(parse_dtype("int"), DataType::Int32);
  for (const char* alias : {"float16", "fp16", "f16"}) EXPECT_EQ(parse_dtype(alias), DataType::Float16) << alias;
  EXPECT_EQ(parse_dtype("bf16"), DataType::Bfloat16);
  for (const char* alias : {"float32", "fp32", "f32"}) EXPECT_EQ(parse_dtype(alias), DataType::Float32) << alias;
  for (const char* alias : {"float64", "fp64", "f64"}) EXPECT_EQ(parse_dtype(alias), DataType::Float64) << alias;
}

TEST(DataType, RejectsUnknownNames) {
  for (const char* text : {"", "Float", "FP16", "int16", "uint32", "char", "bf", "float8", " float", "half "}) {
    EXPECT_EQ(parse_dtype(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(RedOp, NamesRoundTrip) {
  const char* names[] = {"sum", "prod", "min", "max", "avg"};
  ASSERT_EQ(std::size(names), kAllRedOps.size());
  for (size_t i = 0; i < kAllRedOps.size(); ++i) {
    EXPECT_EQ(redop_name(kAllRedOps[i]), names[i]);
    EXPECT_EQ(parse_redop(names[i]), kAllRedOps[i]);
  }
  for (const char* text : {"", "Sum", "mean", "product", "minimum"}) {
    EXPECT_EQ(parse_redop(text), std::nullopt) << '"' << text << '"';
  }
}

}  // namespace
}  // namespace sxcoll
