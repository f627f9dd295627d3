// The transports NCCL chose, from its log. The lines follow NCCL's format strings
// (src/transport/p2p.cc, shm.cc, net.cc, coll_net.cc) behind the prefix of src/debug.cc,
// "host:pid:tid [cudaDev] NCCL INFO ".
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/nccl/nccl_log.h"

namespace sxcoll::bench::nccl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(NcclLogTransports, NvlinkBetweenTwoGpusOfOneHost) {
  // "Channel %02d/%01d : %d[%d] -> %d[%d] via P2P/%s%s%s" with CUMEM, "/read" and no "/CE".
  const char* log =
      "h200-a:5134:5134 [0] NCCL INFO Bootstrap: Using eth0:10.1.0.7<0>\n"
      "h200-a:5134:5134 [0] NCCL INFO NCCL version 2.28.9+cuda13.0\n"
      "h200-a:5134:5201 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n"
      "h200-a:5134:5201 [0] NCCL INFO Channel 01/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n"
      "h200-a:5134:5201 [0] NCCL INFO Channel 00/0 : 1[1] -> 0[0] via P2P/CUMEM/read\n"
      "h200-a:5134:5201 [0] NCCL INFO Connected all rings, use ring PXN 0 GDR 1\n";
  EXPECT_THAT(parse_transports(log), ElementsAre("P2P/CUMEM/read"));
}

TEST(NcclLogTransports, SocketTransportSendAndReceive) {
  // "Channel %02d/%d : %d[%d] -> %d[%d] [send] via NET/%s/%d%s%s%s" and its [receive] twin.
  const char* log =
      "h200-a:5134:5201 [0] NCCL INFO Channel 00/0 : 1[1] -> 0[0] [receive] via NET/Socket/0\n"
      "h200-a:5134:5201 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] [send] via NET/Socket/0\n"
      "h200-a:5134:5201 [0] NCCL INFO Channel 01/0 : 0[0] -> 1[1] [send] via NET/Socket/0\n";
  EXPECT_THAT(parse_transports(log), ElementsAre("NET/Socket/0"));
}

TEST(NcclLogTransports, TwoRailsWithGpuDirectAndPxn) {
  // Sent through another rank's NIC (PXN), NCCL adds "(proxyRank)" after the device: that
  // differs from peer to peer and is dropped; "(PCI)" and "/Shared" describe the transport.
  const char* log =
      "node3:77:90 [3] NCCL INFO Channel 02/0 : 3[3] -> 11[3] [send] via NET/IB/1(2)/GDRDMA\n"
      "node3:77:90 [3] NCCL INFO Channel 03/0 : 3[3] -> 11[3] [send] via NET/IB/1(5)/GDRDMA\n"
      "node3:77:90 [3] NCCL INFO Channel 00/0 : 11[3] -> 3[3] [receive] via NET/IB/0/GDRDMA\n"
      "node3:77:90 [3] NCCL INFO Channel 04/1 : 3[3] -> 11[3] [send] via NET/IB/0/GDRDMA(PCI)/Shared\n"
      "node3:77:90 [3] NCCL INFO Channel 01/0 : 3[3] -> 2[2] via P2P/CUMEM\n";
  EXPECT_THAT(parse_transports(log),
              ElementsAre("NET/IB/1/GDRDMA", "NET/IB/0/GDRDMA", "NET/IB/0/GDRDMA(PCI)/Shared", "P2P/CUMEM"));
}

TEST(NcclLogTransports, SharedMemoryIndirectP2pAndCollNet) {
  const char* log =
      // shm.cc: "Channel %02d : %d[%d] -> %d[%d] via SHM/%s/%s"
      "a:1:2 [0] NCCL INFO Channel 00 : 0[0] -> 1[1] via SHM/direct/direct\n"
      // p2p.cc: "... via P2P/indirect/%d[%d]%s": the GPU in between differs per peer.
      "a:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 2[2] via P2P/indirect/1[1]/read\n"
      "a:1:2 [0] NCCL INFO Channel 01/0 : 0[0] -> 3[3] via P2P/indirect/2[2]/read\n"
      // p2p.cc, two ranks of one process: "via P2P/direct pointer%s"
      "a:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/direct pointer/read\n"
      // coll_net.cc: "CollNet %02d/%1d : %d [send] via COLLNET/%s/%d%s%s"
      "a:1:2 [0] NCCL INFO CollNet 00/0 : 0 [send] via COLLNET/SHARP/0/GDRDMA\n";
  EXPECT_THAT(parse_transports(log), ElementsAre("SHM/direct/direct", "P2P/indirect/read", "P2P/direct pointer/read",
                                                 "COLLNET/SHARP/0/GDRDMA"));
}

TEST(NcclLogTransports, OnlyInfoLinesOfChannelsCount) {
  const char* log =
      // WARN (debug.cc puts file and line before the level), TRACE, and INFO of another kind.
      "\na:1:2 [0] transport/net.cc:120 (sendSetup) NCCL WARN Channel 00 : setup via NET/IB/0 failed\n"
      "a:1:2 [0] 12.345 transport/p2p.cc:300 NCCL TRACE Ring 00 : 0[0] <- 1[1] via P2P/CUMEM\n"
      "a:1:2 [0] NCCL INFO NCCL_SOCKET_IFNAME set by environment to eth0 via NCCL_CONF_FILE\n"
      "a:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via \n";
  EXPECT_THAT(parse_transports(log), IsEmpty());
  EXPECT_THAT(parse_transports(""), IsEmpty());
}

TEST(NcclLogTransports, TimestampsCarriageReturnsAndNoFinalNewline) {
  const char* log =
      "[2026-11-24 10:00:01] a:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\r\n"
      "a:1:2 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] [send] via NET/Socket/0";
  EXPECT_THAT(parse_transports(log), ElementsAre("P2P/CUMEM/read", "NET/Socket/0"));
}

// LogCapture is one per process and changes the environment, so each scenario runs in a
// child process (a death test) and this process never arms it.
int fail(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  return 1;
}

// What NCCL does at its first log line: open NCCL_DEBUG_FILE with "w", then write lines.
int capture_routes_nccls_log_and_leaves_no_trace() {
  ::unsetenv("NCCL_DEBUG");
  ::setenv("NCCL_DEBUG_SUBSYS", "COLL", 1);
  ::unsetenv("NCCL_DEBUG_FILE");
  auto& capture = LogCapture::process();
  capture.arm();
  if (!capture.capturing()) return fail("not capturing");
  if (std::string(std::getenv("NCCL_DEBUG")) != "INFO") return fail("NCCL_DEBUG is not INFO");
  if (std::string(std::getenv("NCCL_DEBUG_SUBSYS")) != "INIT") return fail("NCCL_DEBUG_SUBSYS is not INIT");
  const std::string path = std::getenv("NCCL_DEBUG_FILE");
  FILE* nccl = std::fopen(path.c_str(), "w");
  if (!nccl) return fail("cannot open NCCL_DEBUG_FILE");
  std::fputs("a:1:1 [0] NCCL INFO comm 0x1 rank 0 nRanks 2 - Init COMPLETE\n", nccl);
  std::fflush(nccl);
  const auto offset = capture.end();
  capture.settle();
  if (std::getenv("NCCL_DEBUG")) return fail("NCCL_DEBUG was not unset");
  if (std::string(std::getenv("NCCL_DEBUG_SUBSYS")) != "COLL") return fail("NCCL_DEBUG_SUBSYS was not restored");
  if (std::getenv("NCCL_DEBUG_FILE")) return fail("NCCL_DEBUG_FILE was not unset");
  if (::access(path.c_str(), F_OK) == 0) return fail("the file still has its name");
  // NCCL goes on writing to the file it opened; a line in the middle of being written is
  // not read yet.
  std::fputs("a:1:9 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\na:1:9 [0] NCCL IN", nccl);
  std::fflush(nccl);
  if (parse_transports(capture.read_since(offset)) != std::vector<std::string>{"P2P/CUMEM/read"})
    return fail("the transport was not read back");
  if (capture.read_since(0).find("Init COMPLETE") == std::string::npos) return fail("earlier lines are gone");
  if (capture.read_since(offset).find("Init COMPLETE") != std::string::npos) return fail("offset ignored");
  std::fclose(nccl);
  return 0;
}

int users_own_nccl_debug_is_left_alone() {
  ::setenv("NCCL_DEBUG", "WARN", 1);
  ::unsetenv("NCCL_DEBUG_FILE");
  auto& capture = LogCapture::process();
  capture.arm();
  capture.settle();
  if (capture.capturing()) return fail("capturing over the user's NCCL_DEBUG");
  if (capture.why_not().find("NCCL_DEBUG is set") == std::string::npos) return fail("no reason given");
  if (std::string(std::getenv("NCCL_DEBUG")) != "WARN") return fail("NCCL_DEBUG changed");
  if (std::getenv("NCCL_DEBUG_FILE")) return fail("NCCL_DEBUG_FILE set");
  if (!capture.read_since(0).empty()) return fail("read something");
  return 0;
}

TEST(NcclLogCapture, RoutesNcclsLogIntoAFileWithoutAName) {
  EXPECT_EXIT(std::exit(capture_routes_nccls_log_and_leaves_no_trace()), ::testing::ExitedWithCode(0), "");
}

TEST(NcclLogCapture, LeavesAUsersNcclDebugAlone) {
  EXPECT_EXIT(std::exit(users_own_nccl_debug_is_left_alone()), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace sxcoll::bench::nccl
