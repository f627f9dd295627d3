// --hca in NCCL_IB_HCA's syntax: prefix match, '=' exact, '^' exclude, optional ports,
// and one clear error for each malformed list.
#include "transport/verbs/hca_list.h"

#include <gtest/gtest.h>

#include "transport/error.h"

namespace sxcoll::transport::verbs {
namespace {

TEST(HcaList, EmptySelectsEveryPort) {
  HcaList l = HcaList::parse("");
  EXPECT_TRUE(l.empty());
  EXPECT_TRUE(l.selects("mlx5_0", 1));
  EXPECT_TRUE(l.selects("rxe1", 2));
}

TEST(HcaList, DevicesWithPorts) {
  HcaList l = HcaList::parse("mlx5_0:1,mlx5_1:1");
  ASSERT_EQ(l.items().size(), 2u);
  EXPECT_EQ(l.items()[0].device, "mlx5_0");
  EXPECT_EQ(l.items()[0].port, 1);
  EXPECT_TRUE(l.selects("mlx5_0", 1));
  EXPECT_TRUE(l.selects("mlx5_1", 1));
  EXPECT_FALSE(l.selects("mlx5_0", 2)) << "only the port named";
  EXPECT_FALSE(l.selects("mlx5_2", 1));
  EXPECT_EQ(l.str(), "mlx5_0:1,mlx5_1:1");
}

TEST(HcaList, NameWithoutPortMeansEveryPort) {
  HcaList l = HcaList::parse("mlx5_0");
  EXPECT_TRUE(l.selects("mlx5_0", 1));
  EXPECT_TRUE(l.selects("mlx5_0", 2));
}

TEST(HcaList, PlainNamesArePrefixes) {
  // NCCL: "mlx5" selects every mlx5 device; "mlx5_1" also selects mlx5_10..mlx5_19.
  HcaList l = HcaList::parse("mlx5");
  EXPECT_TRUE(l.selects("mlx5_0", 1));
  EXPECT_TRUE(l.selects("mlx5_11", 1));
  EXPECT_FALSE(l.selects("rxe0", 1));
  EXPECT_TRUE(HcaList::parse("mlx5_1").selects("mlx5_10", 1));
}

TEST(HcaList, EqualsMeansExactNames) {
  HcaList l = HcaList::parse("=mlx5_1:1");
  EXPECT_TRUE(l.exact());
  EXPECT_TRUE(l.selects("mlx5_1", 1));
  EXPECT_FALSE(l.selects("mlx5_10", 1));
  EXPECT_EQ(l.str(), "=mlx5_1:1");
}

TEST(HcaList, CaretExcludes) {
  HcaList l = HcaList::parse("^mlx5_1");
  EXPECT_TRUE(l.exclude());
  EXPECT_TRUE(l.selects("mlx5_0", 1));
  EXPECT_FALSE(l.selects("mlx5_1", 1));
  EXPECT_FALSE(l.selects("mlx5_12", 1)) << "a prefix excludes every device it prefixes";
  HcaList port = HcaList::parse("^mlx5_0:2");
  EXPECT_TRUE(port.selects("mlx5_0", 1));
  EXPECT_FALSE(port.selects("mlx5_0", 2));
}

TEST(HcaList, CaretEqualsExcludesExactNames) {
  HcaList l = HcaList::parse("^=mlx5_1");
  EXPECT_TRUE(l.exclude());
  EXPECT_TRUE(l.exact());
  EXPECT_FALSE(l.selects("mlx5_1", 1));
  EXPECT_TRUE(l.selects("mlx5_12", 1));
  EXPECT_EQ(l.str(), "^=mlx5_1");
}

TEST(HcaList, SoftRoceNames) {
  HcaList l = HcaList::parse("rxe0:1,rxe1:1");
  EXPECT_TRUE(l.selects("rxe0", 1));
  EXPECT_TRUE(l.selects("rxe1", 1));
}

TEST(HcaList, MalformedListsAreUsageErrors) {
  for (const char* bad : {"mlx5_0:", "mlx5_0:x", "mlx5_0:0", "mlx5_0:256", "mlx5_0:1x", ",mlx5_0", "mlx5_0,", "^",
                          "=", "^=", "mlx5_0:1,,mlx5_1:1", "mlx5_0=", "a^b", "mlx5 0"}) {
    EXPECT_THROW(HcaList::parse(bad), UsageError) << bad;
  }
  try {
    HcaList::parse("mlx5_0:x", "--hca");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--hca 'mlx5_0:x'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sxcoll::transport::verbs
