// The region descriptor every backend fills in and its peers decode: what travels
// through the bootstrap must come back field for field, and a damaged word must be named.
#include <gtest/gtest.h>

#include "transport/error.h"
#include "transport/memory.h"

namespace sxcoll::transport {
namespace {

TEST(RemoteRegion, RoundTripsEveryField) {
  RemoteRegion r;
  r.addr = 0x7f12'3456'7000;
  r.bytes = (uint64_t{32} << 30) + 5;
  r.tcp_id = 17;
  r.nrkeys = 2;
  r.rkeys = {0x1a2b, 0xffffffff};
  r.ipc = "shm:4242:17:8192";
  const std::string word = r.encode();
  EXPECT_EQ(word.find(' '), std::string::npos) << word;
  RemoteRegion back = RemoteRegion::decode(word);
  EXPECT_EQ(back.addr, r.addr);
  EXPECT_EQ(back.bytes, r.bytes);
  EXPECT_EQ(back.tcp_id, r.tcp_id);
  ASSERT_EQ(back.nrkeys, 2);
  EXPECT_EQ(back.rkeys[0], 0x1a2bu);
  EXPECT_EQ(back.rkeys[1], 0xffffffffu);
  EXPECT_EQ(back.ipc, r.ipc);
}

TEST(RemoteRegion, EmptyDescriptorRoundTrips) {
  RemoteRegion back = RemoteRegion::decode(RemoteRegion{}.encode());
  EXPECT_EQ(back.addr, 0u);
  EXPECT_EQ(back.nrkeys, 0);
  EXPECT_TRUE(back.ipc.empty());
}

TEST(RemoteRegion, EightRailsFitNineDoNot) {
  RemoteRegion r;
  r.nrkeys = kMaxRails;
  for (size_t i = 0; i < kMaxRails; ++i) r.rkeys[i] = static_cast<uint32_t>(i + 1);
  std::string word = r.encode();
  EXPECT_EQ(RemoteRegion::decode(word).rkeys[kMaxRails - 1], kMaxRails);
  // One more key than a descriptor holds: the fourth field gains ":9".
  const size_t keys_end = word.rfind('/');
  word.insert(keys_end, ":9");
  EXPECT_THROW(RemoteRegion::decode(word), RunError);
}

TEST(RemoteRegion, MalformedWordsAreNamed) {
  for (const char* bad : {"", "1/2/3/-", "1/2/3/-/x/y", "zz/2/3/-/", "1//3/-/", "1/2/3/1::2/", "1/2/3/-/a b"}) {
    try {
      RemoteRegion::decode(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const RunError& e) {
      EXPECT_NE(std::string(e.what()).find("malformed remote region"), std::string::npos) << e.what();
    }
  }
}

TEST(RemoteRegion, IpcHandleWithASpaceIsAProgrammingError) {
  RemoteRegion r;
  r.ipc = "two words";
  EXPECT_THROW(r.encode(), std::logic_error);
}

}  // namespace
}  // namespace sxcoll::transport
