// Which rail a rank drives: the --rails policy, and the PCIe distance read from a fake
// sysfs laid out as the kernel lays out an HGX node (GPUs and NICs under PCIe switches
// below two host bridges, /sys/bus/pci/devices and /sys/class/infiniband/<dev>/device
// as links into /sys/devices).
#include "transport/verbs/rail_affinity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/core.h>

#include "transport/error.h"

namespace sxcoll::transport::verbs {
namespace {

namespace fs = std::filesystem;

TEST(RailPolicy, ParsesEachForm) {
  EXPECT_EQ(RailPolicy::parse("auto", "--rails").kind, RailPolicy::Kind::Auto);
  EXPECT_EQ(RailPolicy::parse("all", "--rails").kind, RailPolicy::Kind::All);
  EXPECT_EQ(RailPolicy::parse("local", "--rails").kind, RailPolicy::Kind::Local);
  const RailPolicy list = RailPolicy::parse("0,0,1,1", "--rails");
  EXPECT_EQ(list.kind, RailPolicy::Kind::List);
  EXPECT_EQ(list.by_local_rank, (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(list.text(), "0,0,1,1");
}

TEST(RailPolicy, RejectsWhatIsNoPolicy) {
  for (const char* bad : {"none", "0,,1", "1,", "-1", "0;1", "a,b", "1234"}) {
    try {
      RailPolicy::parse(bad, "--rails");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(fmt::format("--rails '{}'", bad)), std::string::npos) << e.what();
    }
  }
}

TEST(NormalizeBusId, TakesCudaAndNvmlSpellings) {
  EXPECT_EQ(normalize_bus_id("0000:18:00.0"), "0000:18:00.0");
  EXPECT_EQ(normalize_bus_id("0000:AB:00.0"), "0000:ab:00.0");
  EXPECT_EQ(normalize_bus_id("00000000:18:00.0"), "0000:18:00.0");
  EXPECT_EQ(normalize_bus_id(""), "");
  EXPECT_EQ(normalize_bus_id("18:00.0"), "");
  EXPECT_EQ(normalize_bus_id("0000:18:00"), "");
  EXPECT_EQ(normalize_bus_id("0000:zz:00.0"), "");
}

TEST(PcieHops, CountsUpToTheCommonBridge) {
  const fs::path sw = "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";  // a switch's ports
  EXPECT_EQ(pcie_hops(sw / "0000:02:00.0/0000:03:00.0", sw / "0000:02:01.0/0000:04:00.0"), 4);
  EXPECT_EQ(pcie_hops(sw / "0000:02:00.0/0000:03:00.0", sw / "0000:02:00.0/0000:03:00.1"), 2);
  EXPECT_EQ(pcie_hops("/sys/devices/pci0000:00/0000:00:01.0", "/sys/devices/pci0000:80/0000:80:01.0"), kSystemHops);
  EXPECT_EQ(pcie_hops("", sw), std::nullopt);
  EXPECT_EQ(pcie_hops("/not/sysfs", sw), std::nullopt);
}

// Two host bridges (CPU sockets), each with a PCIe switch holding two GPUs and one NIC.
class HgxSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("sxcoll-pcie-{}", ::getpid());
    fs::create_directories(root_ / "bus/pci/devices");
    fs::create_directories(root_ / "class/infiniband");
    for (int socket = 0; socket < 2; ++socket) {
      const std::string bridge = fmt::format("pci0000:{:02x}", socket * 0x80);
      const fs::path sw = root_ / "devices" / bridge / fmt::format("0000:{:02x}:01.0", socket * 0x80) /
                          fmt::format("0000:{:02x}:00.0", socket * 0x80 + 1);
      for (int i = 0; i < 2; ++i) gpu(sw, fmt::format("0000:{:02x}:00.0", socket * 0x80 + 0x10 + i), i);
      nic(sw, fmt::format("0000:{:02x}:00.0", socket * 0x80 + 0x20), fmt::format("mlx5_{}", socket));
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  void gpu(const fs::path& sw, const std::string& bus, int port) {
    const fs::path dev = sw / fmt::format("0000:{:02x}:{:02x}.0", std::stoi(bus.substr(5, 2), nullptr, 16) - 1, port) / bus;
    fs::create_directories(dev);
    fs::create_directory_symlink(dev, root_ / "bus/pci/devices" / bus);
  }
  void nic(const fs::path& sw, const std::string& bus, const std::string& name) {
    const fs::path dev = sw / "0000:ff:02.0" / bus;
    fs::create_directories(dev);
    fs::create_directories(root_ / "class/infiniband" / name);
    fs::create_directory_symlink(dev, root_ / "class/infiniband" / name / "device");
  }
  std::vector<std::optional<int>> hops(const std::string& gpu_bus) const {
    const fs::path g = pci_device_path(gpu_bus, root_ / "bus/pci/devices");
    std::vector<std::optional<int>> out;
    for (const char* n : {"mlx5_0", "mlx5_1"}) out.push_back(pcie_hops(g, rdma_device_path(n, root_ / "class/infiniband")));
    return out;
  }

  fs::path root_;
};

TEST_F(HgxSysfs, EachGpuDrivesTheNicOnItsSwitch) {
  const RailPolicy local = RailPolicy::parse("local", "--rails");
  // GPUs 0x10 and 0x11 sit with mlx5_0, 0x90 and 0x91 with mlx5_1; their local ranks in an
  // order that the split by local rank would get wrong (0, 1 -> rail 0; 2, 3 -> rail 1).
  const std::vector<std::pair<std::string, int>> ranks = {
      {"0000:90:00.0", 1}, {"0000:10:00.0", 0}, {"0000:91:00.0", 1}, {"0000:11:00.0", 0}};
  for (size_t l = 0; l < ranks.size(); ++l) {
    const auto h = hops(ranks[l].first);
    ASSERT_TRUE(h[0] && h[1]) << ranks[l].first;
    const RailChoice c = choose_rail(local, static_cast<int>(l), 4, 2, h);
    EXPECT_EQ(c.rail, ranks[l].second) << ranks[l].first << ": " << c.why;
    EXPECT_NE(c.why.find("nearest to the GPU"), std::string::npos) << c.why;
  }
  // The far NIC is across the CPU.
  EXPECT_EQ(hops("0000:10:00.0")[1], kSystemHops);
}

TEST_F(HgxSysfs, AGpuSysfsDoesNotShowFallsBackToTheLocalRankSplit) {
  const auto h = hops("0000:42:00.0");  // no such device
  EXPECT_TRUE(h[0] == std::nullopt && h[1] == std::nullopt);
  const RailPolicy local = RailPolicy::parse("local", "--rails");
  for (int l = 0; l < 4; ++l) {
    std::vector<std::optional<int>> none;
    EXPECT_EQ(choose_rail(local, l, 4, 2, none).rail, l * 2 / 4);
    EXPECT_EQ(choose_rail(local, l, 4, 2, h).rail, l * 2 / 4);
  }
}

TEST(ChooseRail, TiesAmongTheNearestSplitByLocalRank) {
  // Every rail equally far (one switch holds all NICs): the split decides.
  const std::vector<std::optional<int>> equal = {2, 2};
  const RailPolicy local = RailPolicy::parse("local", "--rails");
  EXPECT_EQ(choose_rail(local, 0, 2, 2, equal).rail, 0);
  EXPECT_EQ(choose_rail(local, 1, 2, 2, equal).rail, 1);
}

TEST(ChooseRail, AutoPinsOnlyWhereAHostHasAsManyRanksAsRails) {
  const RailPolicy automatic;
  EXPECT_EQ(choose_rail(automatic, 0, 1, 2, {}).rail, -1);  // one rank: both NICs are its own
  EXPECT_EQ(choose_rail(automatic, 1, 2, 2, {}).rail, 1);
  EXPECT_EQ(choose_rail(automatic, 7, 8, 2, {}).rail, 1);
  EXPECT_EQ(choose_rail(automatic, 3, 8, 2, {}).rail, 0);
  EXPECT_EQ(choose_rail(automatic, 0, 8, 1, {}).rail, -1);  // one rail: nothing to choose
  EXPECT_EQ(choose_rail(RailPolicy::parse("all", "--rails"), 1, 8, 2, {}).rail, -1);
}

TEST(ChooseRail, AListNamesTheRailOfEachLocalRank) {
  const RailPolicy list = RailPolicy::parse("1,0", "--rails");
  EXPECT_EQ(choose_rail(list, 0, 2, 2, {}).rail, 1);
  EXPECT_EQ(choose_rail(list, 1, 2, 2, {}).rail, 0);
  EXPECT_THROW(choose_rail(list, 2, 3, 2, {}), UsageError);                               // no entry
  EXPECT_THROW(choose_rail(RailPolicy::parse("0,2", "--rails"), 1, 2, 2, {}), UsageError);  // no rail 2
}

}  // namespace
}  // namespace sxcoll::transport::verbs
