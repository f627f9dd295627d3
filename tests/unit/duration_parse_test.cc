// Durations as people type them (bench/duration_parse.h), shared by --timeout, --budget and
// --trial-timeout.
#include "bench/duration_parse.h"

#include <gtest/gtest.h>

#include "transport/error.h"

namespace sxcoll::bench {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, SecondsByDefaultAndEveryUnit) {
  EXPECT_EQ(parse_duration("40", "--timeout"), milliseconds(40000));
  EXPECT_EQ(parse_duration("90s", "--timeout"), milliseconds(90000));
  EXPECT_EQ(parse_duration("500ms", "--timeout"), milliseconds(500));
  EXPECT_EQ(parse_duration("20m", "--budget"), milliseconds(20 * 60000));
  EXPECT_EQ(parse_duration("1h", "--budget"), milliseconds(3600000));
  EXPECT_EQ(parse_duration("1.5s", "--timeout"), milliseconds(1500));
}

TEST(ParseDuration, AnythingElseIsOneLineNamingTheFlag) {
  for (const char* bad : {"", "0", "-3s", "soon", "3m30s", "5d", "0.5ms"}) {
    try {
      parse_duration(bad, "--budget");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("--budget '") + bad + "': expected a positive duration such as 20m, 90s, 1h");
    }
  }
}

}  // namespace
}  // namespace sxcoll::bench
