// Fixed facts on a fake /sys/class/infiniband tree and a /proc/net/route text: the active
// RoCE ports, their RoCE v2 IPv4 GID, the interface of the rendezvous address.
#include "tuner/fabric.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

namespace sxcoll::tune {
namespace {

namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sxcoll-tune-sysfs-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
  }
  // A RoCE port with the usual four GIDs: link-local v1/v2, then the IPv4 address v1/v2
  // (`v2_index` moves the IPv4 RoCE v2 entry).
  void port(const std::string& dev, int port, const std::string& state, const std::string& ip_hex = "0a00:0001",
            int v2_index = 3) {
    fs::path p = root_ / dev / "ports" / std::to_string(port);
    write(p / "state", state == "ACTIVE" ? "4: ACTIVE" : "1: DOWN");
    write(p / "link_layer", "Ethernet");
    write(p / "rate", "400 Gb/sec (4X NDR)");
    const std::string ll = "fe80:0000:0000:0000:0000:0000:0000:0001";
    const std::string v4 = "0000:0000:0000:0000:0000:ffff:" + ip_hex;
    write(p / "gids" / "0", ll);
    write(p / "gid_attrs" / "types" / "0", "IB/RoCE v1");
    write(p / "gids" / "1", ll);
    write(p / "gid_attrs" / "types" / "1", "RoCE v2");
    write(p / "gids" / "2", v4);
    write(p / "gid_attrs" / "types" / "2", "IB/RoCE v1");
    write(p / "gids" / std::to_string(v2_index), v4);
    write(p / "gid_attrs" / "types" / std::to_string(v2_index), "RoCE v2");
    write(p / "gid_attrs" / "ndevs" / std::to_string(v2_index), "eth" + dev.substr(5));
  }
  fs::path root_;
};

TEST_F(FakeSysfs, TwoRailsOfRoce) {
  port("mlx5_0", 1, "ACTIVE");
  port("mlx5_1", 1, "ACTIVE", "0a00:0101");
  auto ports = read_rdma_ports(root_.string());
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].state, "ACTIVE");
  EXPECT_EQ(ports[0].rate, "400 Gb/sec (4X NDR)");
  EXPECT_EQ(*ports[1].gid_index, 3);
  EXPECT_EQ(ports[1].gid_text, "::ffff:10.0.1.1");
  FixedFact hca = ib_hca_fact(ports, root_.string());
  EXPECT_EQ(hca.value, "mlx5_0:1,mlx5_1:1");
  EXPECT_NE(hca.how.find("active RoCE port(s)"), std::string::npos) << hca.how;
  FixedFact gid = gid_index_fact(ports);
  EXPECT_EQ(gid.value, "3");
  EXPECT_NE(gid.how.find("mlx5_1:1 GID 3 ::ffff:10.0.1.1 (eth1)"), std::string::npos) << gid.how;
}

TEST_F(FakeSysfs, DownPortsAreLeftOutAndPrefixesMadeExact) {
  port("mlx5_0", 1, "ACTIVE");
  port("mlx5_1", 1, "ACTIVE");
  port("mlx5_10", 1, "DOWN");
  auto ports = read_rdma_ports(root_.string());
  FixedFact hca = ib_hca_fact(ports, root_.string());
  EXPECT_EQ(hca.value, "=mlx5_0:1,mlx5_1:1");  // NCCL would read mlx5_1 as a prefix of mlx5_10
  EXPECT_NE(hca.how.find("not used: mlx5_10:1 (DOWN"), std::string::npos) << hca.how;
}

TEST_F(FakeSysfs, PortsThatDisagreeOnTheGidIndexLeaveItUnset) {
  port("mlx5_0", 1, "ACTIVE", "0a00:0001", 3);
  port("mlx5_1", 1, "ACTIVE", "0a00:0101", 5);
  FixedFact gid = gid_index_fact(read_rdma_ports(root_.string()));
  EXPECT_EQ(gid.value, "");
  EXPECT_NE(gid.how.find("different indices"), std::string::npos) << gid.how;
}

TEST_F(FakeSysfs, NoRdmaAtAll) {
  auto ports = read_rdma_ports(root_.string());  // the folder does not exist
  EXPECT_TRUE(ports.empty());
  FixedFact hca = ib_hca_fact(ports, root_.string());
  EXPECT_EQ(hca.value, "");
  EXPECT_EQ(hca.how, "not set: no RDMA device in " + root_.string());
  EXPECT_EQ(gid_index_fact(ports).value, "");
  FabricFacts f;
  EXPECT_FALSE(f.rdma());
}

const char* kRoute =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth1\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
    "eth0\t00000000\t0102000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth2\t00000000\t0102000A\t0003\t0\t0\t50\t00000000\t0\t0\t0\n"
    "eth3\t00000000\t0102000A\t0002\t0\t0\t10\t00000000\t0\t0\t0\n";

TEST(Fabric, DefaultRouteIsTheLowestMetricRouteThatIsUp) {
  EXPECT_EQ(default_route_interface(kRoute), "eth2");  // eth3's route is down
  EXPECT_EQ(default_route_interface("Iface\tDestination\n"), std::nullopt);
}

TEST(Fabric, SocketInterfaceFollowsTheRendezvousAddress) {
  const std::vector<Interface> ifs{
      {"lo", "127.0.0.1"}, {"eth0", "10.0.0.5"}, {"eth1", "10.1.0.5"}, {"eth10", "10.2.0.5"}};
  RendezvousHost master{"node001", "SXCOLL_MASTER"};
  FixedFact f = socket_ifname_fact(master, std::string("10.1.0.5"), "", ifs, kRoute);
  EXPECT_EQ(f.value, "=eth1");  // eth1 is a prefix of eth10
  EXPECT_NE(f.how.find("node001"), std::string::npos) << f.how;
  FixedFact none = socket_ifname_fact(std::nullopt, std::nullopt, "", ifs, kRoute);
  EXPECT_EQ(none.value, "eth2");
  EXPECT_NE(none.how.find("default route"), std::string::npos);
  FixedFact unresolved = socket_ifname_fact(master, std::nullopt, "cannot resolve: Name or service not known", ifs, "");
  EXPECT_EQ(unresolved.value, "");
  EXPECT_NE(unresolved.how.find("SXCOLL_MASTER=node001: cannot resolve"), std::string::npos) << unresolved.how;
}

TEST(Fabric, RendezvousHostFromTheEnvironment) {
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars](const std::string& n) -> std::optional<std::string> {
      auto it = vars.find(n);
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  };
  EXPECT_EQ(rendezvous_host(env({{"SXCOLL_MASTER", "node7:29500"}, {"MASTER_ADDR", "x"}}))->host, "node7");
  EXPECT_EQ(rendezvous_host(env({{"MASTER_ADDR", "10.0.0.1"}}))->source, "MASTER_ADDR");
  EXPECT_FALSE(rendezvous_host(env({})));
}

}  // namespace
}  // namespace sxcoll::tune
