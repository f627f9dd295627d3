// What `sxcoll bench` was asked to do (bench/options.h): the size sweep as nccl-tests
// makes it (-b -e -f, or -i), and the checks that turn bad flags into one UsageError
// naming the flag, before any work.
#include "bench/options.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "transport/error.h"

namespace sxcoll::bench {
namespace {

BenchOptions sweep(size_t b, size_t e, size_t f, size_t i = 0) {
  BenchOptions o;
  o.min_bytes = b;
  o.max_bytes = e;
  o.step_factor = f;
  o.step_bytes = i;
  return o;
}

TEST(SweepSizes, FactorSweepLikeNcclTests) {
  std::vector<size_t> expected;
  for (size_t s = 8; s <= (size_t{64} << 20); s *= 2) expected.push_back(s);
  EXPECT_EQ(sweep_sizes(BenchOptions{}), expected) << "default: -b 8 -e 64M -f 2";
  EXPECT_EQ(sweep_sizes(sweep(1, 100, 4)), (std::vector<size_t>{1, 4, 16, 64}));
  EXPECT_EQ(sweep_sizes(sweep(3, 30, 3)), (std::vector<size_t>{3, 9, 27}));
}

TEST(SweepSizes, StepBytesSweep) {
  EXPECT_EQ(sweep_sizes(sweep(1024, 4096, 2, 1024)), (std::vector<size_t>{1024, 2048, 3072, 4096}));
  EXPECT_EQ(sweep_sizes(sweep(0, 10, 2, 4)), (std::vector<size_t>{0, 4, 8}));
  // -i wins over -f.
  EXPECT_EQ(sweep_sizes(sweep(8, 32, 4, 8)), (std::vector<size_t>{8, 16, 24, 32}));
}

TEST(SweepSizes, OneSizeWhenMinEqualsMax) {
  EXPECT_EQ(sweep_sizes(sweep(4096, 4096, 2)), (std::vector<size_t>{4096}));
  EXPECT_EQ(sweep_sizes(sweep(0, 0, 2)), (std::vector<size_t>{0}));
  EXPECT_EQ(sweep_sizes(sweep(0, 0, 1)), (std::vector<size_t>{0}));
  EXPECT_EQ(sweep_sizes(sweep(7, 7, 1, 0)), (std::vector<size_t>{7}));
}

TEST(SweepSizes, UpTo32GiBAndBeyondWithoutOverflow) {
  const auto to_32g = sweep_sizes(sweep(8, size_t{32} << 30, 2));
  ASSERT_EQ(to_32g.size(), 33u);
  EXPECT_EQ(to_32g.back(), size_t{32} << 30);
  // Up to the largest size_t: 2^0 .. 2^63, then stop instead of wrapping to 0.
  const auto to_max = sweep_sizes(sweep(1, std::numeric_limits<size_t>::max(), 2));
  ASSERT_EQ(to_max.size(), 64u);
  EXPECT_EQ(to_max.back(), size_t{1} << 63);
  const auto steps =
      sweep_sizes(sweep(std::numeric_limits<size_t>::max() - 10, std::numeric_limits<size_t>::max(), 2, 4));
  EXPECT_EQ(steps.size(), 3u);
}

// Regression: the overflow guard `next <= s` catches a product that
// wraps below s, but s * f can wrap to a value above s for a factor that is not a power of
// two: with -e near the top of size_t (parse_size accepts up to "16777215T") and -f 3,
// 3^40 * 3 wraps to 18026252303461234787, which is pushed as a size and the sweep goes on.
// Every size after the first must be f times the previous one.
TEST(SweepSizes, NoWrappedProductsWithANonPowerOfTwoFactor) {
  const auto sizes = sweep_sizes(sweep(1, std::numeric_limits<size_t>::max(), 3));
  ASSERT_FALSE(sizes.empty());
  for (size_t k = 1; k < sizes.size(); ++k) {
    ASSERT_EQ(sizes[k] / 3, sizes[k - 1]) << "size " << k << " = " << sizes[k] << " is not 3 x " << sizes[k - 1];
    ASSERT_EQ(sizes[k] % 3, 0u) << "size " << k << " = " << sizes[k];
  }
  EXPECT_EQ(sizes.size(), 41u) << "3^0 .. 3^40";
}

// The UsageError's message, or "" when validate() accepted.
std::string usage_error(const BenchOptions& o) {
  try {
    validate(o);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Validate, DefaultsAreValid) { EXPECT_EQ(usage_error(BenchOptions{}), ""); }

TEST(Validate, BadFlagsAreUsageErrorsNamingTheFlag) {
  const std::pair<std::function<void(BenchOptions&)>, const char*> cases[] = {
      {[](BenchOptions& o) {
         o.min_bytes = 2048;
         o.max_bytes = 1024;
       },
       "-b"},
      {[](BenchOptions& o) { o.step_factor = 1; }, "-f"},
      {[](BenchOptions& o) { o.step_factor = 0; }, "-f"},
      {[](BenchOptions& o) { o.min_bytes = 0; }, "-b 0"},
      {[](BenchOptions& o) { o.iters = 0; }, "-n"},
      {[](BenchOptions& o) { o.iters = -5; }, "-n"},
      {[](BenchOptions& o) { o.warmup_iters = -1; }, "-w"},
      {[](BenchOptions& o) { o.types.clear(); }, "-d"},
      {[](BenchOptions& o) { o.ops.clear(); }, "-o"},
      {[](BenchOptions& o) { o.comm.channels = 0; }, "--channels"},
      {[](BenchOptions& o) { o.comm.channels = 33; }, "--channels"},
      {[](BenchOptions& o) { o.comm.buffsize = 4096; }, "--buffsize"},
      {[](BenchOptions& o) { o.comm.buffsize = (size_t{4} << 20) + 1; }, "--buffsize"},
      {[](BenchOptions& o) { o.comm.timeout = std::chrono::milliseconds(0); }, "--timeout"},
      {[](BenchOptions& o) { o.transport.sockets_per_peer = 0; }, "--nsocks"},
      {[](BenchOptions& o) { o.transport.sockets_per_peer = 65; }, "--nsocks"},
      {[](BenchOptions& o) { o.transport.name = "carrier-pigeon"; }, "--transport"},
      {[](BenchOptions& o) { o.json_path = "/nonexistent-dir-for-sxcoll-test/out.json"; }, "--json"},
      {[](BenchOptions& o) { o.csv_path = "/nonexistent-dir-for-sxcoll-test/out.csv"; }, "--csv"},
  };
  for (const auto& [change, flag] : cases) {
    BenchOptions o;
    change(o);
    const std::string message = usage_error(o);
    ASSERT_NE(message, "") << "accepted where " << flag << " is wrong";
    EXPECT_NE(message.find(flag), std::string::npos) << message;
  }
}

TEST(Validate, EdgesThatAreFine) {
  BenchOptions o;
  o.comm.channels = 32;
  o.comm.buffsize = size_t{8} * 4096;  // 8 slots of one page
  o.transport.sockets_per_peer = 64;
  EXPECT_EQ(usage_error(o), "");
  EXPECT_EQ(usage_error(sweep(4096, 4096, 1)), "") << "-f 1 is fine for a single size";
  EXPECT_EQ(usage_error(sweep(0, 0, 2)), "");
  EXPECT_EQ(usage_error(sweep(0, 1024, 1, 128)), "") << "-b 0 with -i grows";
  BenchOptions no_warmup;
  no_warmup.warmup_iters = 0;
  EXPECT_EQ(usage_error(no_warmup), "");
}

class OutputPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sxcoll_options_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
};

TEST_F(OutputPaths, ANewFileInAWritableDirectoryIsFine) {
  BenchOptions o;
  o.json_path = (dir_ / "results.json").string();
  o.csv_path = (dir_ / "results.csv").string();
  EXPECT_EQ(usage_error(o), "");
}

TEST_F(OutputPaths, AnExistingFileIsNeverOverwritten) {
  const auto path = dir_ / "results.json";
  std::ofstream(path) << "{}";
  BenchOptions o;
  o.json_path = path.string();
  const std::string message = usage_error(o);
  EXPECT_NE(message.find("--json"), std::string::npos) << message;
  EXPECT_NE(message.find("exists"), std::string::npos) << message;
  BenchOptions c;
  c.csv_path = path.string();
  EXPECT_NE(usage_error(c).find("--csv"), std::string::npos);
}

TEST_F(OutputPaths, JsonAndCsvMayNotBeOneFile) {
  BenchOptions o;
  o.json_path = o.csv_path = (dir_ / "both").string();
  const std::string message = usage_error(o);
  EXPECT_NE(message.find("--json"), std::string::npos) << message;
  EXPECT_NE(message.find("--csv"), std::string::npos) << message;
}

TEST_F(OutputPaths, AnUnwritableDirectoryIsAUsageError) {
  std::filesystem::path dir = dir_ / "read-only";
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  if (::access(dir.c_str(), W_OK) == 0) {
    // Root writes anywhere it has permission bits for; /proc/1 refuses even root.
    dir = "/proc/1";
    if (!std::filesystem::is_directory(dir) || ::access(dir.c_str(), W_OK) == 0)
      GTEST_SKIP() << "no directory here that this user cannot write";
  }
  BenchOptions o;
  o.json_path = (dir / "results.json").string();
  const std::string message = usage_error(o);
  EXPECT_NE(message.find("--json"), std::string::npos) << message;
  EXPECT_NE(message.find("not writable"), std::string::npos) << message;
}

}  // namespace
}  // namespace sxcoll::bench
