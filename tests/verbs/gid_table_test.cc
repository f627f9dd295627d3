// RoCE v2 GID selection from a fake /sys/class/infiniband tree laid out as the kernel does:
// ports/<p>/gids/<i>, gid_attrs/types/<i>, gid_attrs/ndevs/<i>; unused entries all zeros
// with an unreadable type.
#include "transport/verbs/gid_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::verbs {
namespace {

namespace fs = std::filesystem;

constexpr const char* kZero = "0000:0000:0000:0000:0000:0000:0000:0000";

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("sxcoll-sysfs-{}-{}", ::getpid(), counter_++);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes one GID entry; an empty type leaves the type file out (what reading an unused
  // entry amounts to).
  void entry(const std::string& dev, int port, int index, const std::string& gid, const std::string& type,
             const std::string& ndev = "") {
    fs::path p = root_ / dev / "ports" / std::to_string(port);
    fs::create_directories(p / "gids");
    fs::create_directories(p / "gid_attrs" / "types");
    fs::create_directories(p / "gid_attrs" / "ndevs");
    std::ofstream(p / "gids" / std::to_string(index)) << gid << "\n";
    if (!type.empty()) std::ofstream(p / "gid_attrs" / "types" / std::to_string(index)) << type << "\n";
    if (!ndev.empty()) std::ofstream(p / "gid_attrs" / "ndevs" / std::to_string(index)) << ndev << "\n";
  }

  fs::path root_;
  static inline int counter_ = 0;
};

// The Soft-RoCE VM's rxe0 and a ConnectX port with VLANs look like this.
TEST_F(FakeSysfs, PicksTheRoceV2EntryOfTheIpv4Address) {
  entry("rxe0", 1, 0, "fe80:0000:0000:0000:5c4a:4bff:fe37:a1b2", "RoCE v2", "rail0");
  entry("rxe0", 1, 1, "0000:0000:0000:0000:0000:ffff:c000:0201", "RoCE v2", "rail0");
  entry("rxe0", 1, 2, kZero, "");
  GidTable t = GidTable::read(root_.string(), "rxe0", 1);
  ASSERT_EQ(t.entries().size(), 2u) << "the all-zero entry is unused";
  EXPECT_EQ(t.choose_roce_v2(), 1);
  EXPECT_EQ(t.at(1)->text(), "::ffff:192.0.2.1");
  EXPECT_EQ(t.at(1)->netdev, "rail0");
  EXPECT_TRUE(t.at(1)->is_ipv4_mapped());
  EXPECT_TRUE(t.at(0)->is_link_local());
}

TEST_F(FakeSysfs, SkipsRoceV1AndPrefersIpv4OverIpv6) {
  // mlx5 lists each address twice, v1 then v2: indices 0/1 link-local, 2/3 IPv4, 4/5 IPv6.
  entry("mlx5_0", 1, 0, "fe80:0000:0000:0000:0e42:a1ff:fe00:0001", "IB/RoCE v1", "eth0");
  entry("mlx5_0", 1, 1, "fe80:0000:0000:0000:0e42:a1ff:fe00:0001", "RoCE v2", "eth0");
  entry("mlx5_0", 1, 2, "0000:0000:0000:0000:0000:ffff:0a00:0001", "IB/RoCE v1", "eth0");
  entry("mlx5_0", 1, 3, "0000:0000:0000:0000:0000:ffff:0a00:0001", "RoCE v2", "eth0");
  entry("mlx5_0", 1, 4, "2001:0db8:0000:0000:0000:0000:0000:0001", "IB/RoCE v1", "eth0");
  entry("mlx5_0", 1, 5, "2001:0db8:0000:0000:0000:0000:0000:0001", "RoCE v2", "eth0");
  GidTable t = GidTable::read(root_.string(), "mlx5_0", 1);
  EXPECT_EQ(t.choose_roce_v2(), 3);
  EXPECT_EQ(t.at(3)->text(), "::ffff:10.0.0.1");
}

TEST_F(FakeSysfs, IndicesAreNumbersNotNames) {
  // Directory order is not index order: index 10 must not beat index 9.
  entry("mlx5_1", 1, 10, "0000:0000:0000:0000:0000:ffff:0a00:0105", "RoCE v2");
  entry("mlx5_1", 1, 9, "0000:0000:0000:0000:0000:ffff:0a00:0104", "RoCE v2");
  GidTable t = GidTable::read(root_.string(), "mlx5_1", 1);
  EXPECT_EQ(t.choose_roce_v2(), 9);
}

TEST_F(FakeSysfs, FallsBackToAGlobalIpv6RoceV2Entry) {
  entry("mlx5_0", 1, 0, "fe80:0000:0000:0000:0e42:a1ff:fe00:0001", "RoCE v2");
  entry("mlx5_0", 1, 1, "2001:0db8:0000:0000:0000:0000:0000:0002", "RoCE v2");
  EXPECT_EQ(GidTable::read(root_.string(), "mlx5_0", 1).choose_roce_v2(), 1);
}

TEST_F(FakeSysfs, NoRoceV2AddressGivesNothing) {
  entry("mlx5_0", 1, 0, "fe80:0000:0000:0000:0e42:a1ff:fe00:0001", "RoCE v2");
  entry("mlx5_0", 1, 1, "0000:0000:0000:0000:0000:ffff:0a00:0001", "IB/RoCE v1");
  GidTable t = GidTable::read(root_.string(), "mlx5_0", 1);
  EXPECT_FALSE(t.choose_roce_v2().has_value()) << "link-local only, and IPv4 only as RoCE v1";
  EXPECT_NE(t.summary().find("1: ::ffff:10.0.0.1 IB/RoCE v1"), std::string::npos) << t.summary();
}

TEST_F(FakeSysfs, MissingPortIsAnErrorNamingThePath) {
  entry("mlx5_0", 1, 0, "0000:0000:0000:0000:0000:ffff:0a00:0001", "RoCE v2");
  try {
    GidTable::read(root_.string(), "mlx5_0", 2);
    FAIL();
  } catch (const RunError& e) {
    EXPECT_NE(std::string(e.what()).find("mlx5_0:2"), std::string::npos) << e.what();
  }
}

TEST(ParseSysfsGid, AcceptsTheKernelsFormatOnly) {
  auto g = parse_sysfs_gid("0000:0000:0000:0000:0000:ffff:c633:6401");
  ASSERT_TRUE(g.has_value());
  GidEntry e;
  e.raw = *g;
  EXPECT_EQ(e.text(), "::ffff:198.51.100.1");
  EXPECT_FALSE(parse_sysfs_gid("::ffff:198.51.100.1").has_value());
  EXPECT_FALSE(parse_sysfs_gid("0000:0000:0000:0000:0000:ffff:c633").has_value());
  EXPECT_FALSE(parse_sysfs_gid("0000:0000:0000:0000:0000:ffff:c633:640g").has_value());
  EXPECT_FALSE(parse_sysfs_gid("0000:0000:0000:0000:0000:ffff:c633:64011").has_value());
}

}  // namespace
}  // namespace sxcoll::transport::verbs
