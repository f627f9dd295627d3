// ibv_query_port's codes as numbers, the way ibv_devinfo and ibstat print them, and the
// layout of work request ids.
#include "transport/verbs/link_rate.h"

#include <gtest/gtest.h>

#include "transport/verbs/wire.h"

namespace sxcoll::transport::verbs {
namespace {

TEST(LinkRate, KnownPorts) {
  EXPECT_DOUBLE_EQ(port_rate_gbps(128, 2), 400.0) << "ConnectX-7 400GbE: NDR lanes x4";
  EXPECT_DOUBLE_EQ(port_rate_gbps(64, 2), 200.0) << "HDR x4";
  EXPECT_DOUBLE_EQ(port_rate_gbps(32, 2), 100.0) << "EDR x4";
  EXPECT_DOUBLE_EQ(port_rate_gbps(32, 1), 25.0);
  EXPECT_DOUBLE_EQ(port_rate_gbps(64, 16), 100.0) << "HDR x2";
  EXPECT_DOUBLE_EQ(port_rate_gbps(1, 1), 2.5) << "SDR x1";
  EXPECT_DOUBLE_EQ(port_rate_gbps(3, 2), 0.0) << "unknown speed code";
  EXPECT_DOUBLE_EQ(port_rate_gbps(32, 3), 0.0) << "unknown width code";
}

TEST(LinkRate, MtuCodes) {
  EXPECT_EQ(mtu_bytes(1), 256);
  EXPECT_EQ(mtu_bytes(3), 1024);
  EXPECT_EQ(mtu_bytes(5), 4096);
  EXPECT_EQ(mtu_bytes(0), 0);
  EXPECT_EQ(mtu_bytes(6), 0);
}

TEST(WrId, RoundTrips) {
  for (WrKind kind : {WrKind::Write, WrKind::Notify, WrKind::Recv}) {
    for (uint32_t link : {0u, 1u, 17u, 4095u}) {
      for (uint64_t seq : {uint64_t{0}, uint64_t{1}, kWrSequenceMask, kWrSequenceMask + 5}) {
        uint64_t id = make_wr_id(kind, link, seq);
        EXPECT_EQ(wr_kind(id), kind);
        EXPECT_EQ(wr_link(id), link);
        EXPECT_EQ(wr_sequence(id), seq & kWrSequenceMask);
      }
    }
  }
}

}  // namespace
}  // namespace sxcoll::transport::verbs
