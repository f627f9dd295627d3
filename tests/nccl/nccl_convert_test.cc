// sxcoll's types, operators and unique ids in NCCL's terms; NCCL's version codes as text.
#include <gtest/gtest.h>

#include <cstring>

#include "bench/nccl/nccl_convert.h"

namespace sxcoll::bench::nccl {
namespace {

// The numbers are NCCL's ABI (src/nccl.h.in), written out so that a slip in nccl_api.h shows.
TEST(NcclConvert, DataTypesMapOntoNcclsValues) {
  const std::pair<DataType, int> expected[] = {
      {DataType::Int8, 0},    {DataType::Uint8, 1},    {DataType::Int32, 2},   {DataType::Int64, 4},
      {DataType::Float16, 6}, {DataType::Float32, 7}, {DataType::Float64, 8}, {DataType::Bfloat16, 9},
  };
  ASSERT_EQ(std::size(expected), kAllDataTypes.size());
  for (const auto& [type, value] : expected) EXPECT_EQ(static_cast<int>(to_nccl(type)), value) << dtype_name(type);
}

TEST(NcclConvert, OperatorsMapOntoNcclsValues) {
  const std::pair<RedOp, int> expected[] = {
      {RedOp::Sum, 0}, {RedOp::Prod, 1}, {RedOp::Max, 2}, {RedOp::Min, 3}, {RedOp::Avg, 4},
  };
  ASSERT_EQ(std::size(expected), kAllRedOps.size());
  for (const auto& [op, value] : expected) EXPECT_EQ(static_cast<int>(to_nccl(op)), value) << redop_name(op);
}

TEST(NcclConvert, VersionCodes) {
  EXPECT_EQ(version_text(22809), "2.28.9");
  EXPECT_EQ(version_text(21903), "2.19.3");
  EXPECT_EQ(version_text(20900), "2.9.0");  // the first release of the five-digit code
  EXPECT_EQ(version_text(30100), "3.1.0");
  // Before 2.9: major*1000 + minor*100 + patch.
  EXPECT_EQ(version_text(2804), "2.8.4");
  EXPECT_EQ(version_text(2708), "2.7.8");
}

TEST(NcclConvert, UniqueIdRoundTripsThroughHex) {
  ncclUniqueId id{};
  for (size_t i = 0; i < kUniqueIdBytes; ++i) id.internal[i] = static_cast<char>(i * 37 + 5);
  const std::string hex = to_hex(id);
  ASSERT_EQ(hex.size(), 256u);
  EXPECT_EQ(hex.substr(0, 6), "052a4f");
  auto back = unique_id_from_hex(hex);
  ASSERT_TRUE(back);
  EXPECT_EQ(std::memcmp(back->internal, id.internal, kUniqueIdBytes), 0);
}

TEST(NcclConvert, OnlyAWholeIdIsAccepted) {
  const std::string good(256, 'a');
  EXPECT_TRUE(unique_id_from_hex(good));
  EXPECT_FALSE(unique_id_from_hex(""));
  EXPECT_FALSE(unique_id_from_hex(good.substr(1)));
  EXPECT_FALSE(unique_id_from_hex(good + "a"));
  EXPECT_FALSE(unique_id_from_hex(std::string(255, 'a') + "g"));
}

}  // namespace
}  // namespace sxcoll::bench::nccl
