// Byte counts as people type them (bench/size_parse.h): nccl-tests' suffixes in powers of
// 1024, and a UsageError naming the flag for everything else.
#include "bench/size_parse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "transport/error.h"

namespace sxcoll::bench {
namespace {

TEST(ParseSize, PlainNumbersAndSuffixesInPowersOf1024) {
  EXPECT_EQ(parse_size("0", "-b"), 0u);
  EXPECT_EQ(parse_size("8", "-b"), 8u);
  EXPECT_EQ(parse_size("1536", "-b"), 1536u);
  EXPECT_EQ(parse_size("64K", "-b"), size_t{64} << 10);
  EXPECT_EQ(parse_size("1M", "-b"), size_t{1} << 20);
  EXPECT_EQ(parse_size("32G", "-e"), size_t{32} << 30);
  EXPECT_EQ(parse_size("1T", "-e"), size_t{1} << 40);
  EXPECT_EQ(parse_size("0G", "-e"), 0u);
}

TEST(ParseSize, AcceptsLowerCaseAndTrailingBOrIB) {
  for (const char* text : {"4M", "4m", "4MB", "4mb", "4MiB", "4mib", "4Mib"})
    EXPECT_EQ(parse_size(text, "-b"), size_t{4} << 20) << text;
  EXPECT_EQ(parse_size("8B", "-b"), 8u);
  EXPECT_EQ(parse_size("8b", "-b"), 8u);
  EXPECT_EQ(parse_size("2KiB", "-b"), 2048u);
  EXPECT_EQ(parse_size("16777215T", "-e"), ((size_t{1} << 24) - 1) << 40) << "the largest T that fits";
  EXPECT_EQ(parse_size("18446744073709551615", "-e"), std::numeric_limits<size_t>::max());
}

// The UsageError's message, or "" when none was thrown.
std::string usage_error(const std::string& text, const std::string& flag) {
  try {
    parse_size(text, flag);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(ParseSize, RejectsMalformedInputNamingTheFlag) {
  for (const char* text : {"", "x", "K", "12Q", "-1", "+1", "1.5M", " 8", "8 ", "4 M", "0x10", "1MM", "1BB", "1KB2",
                           "99999999999999999999", "16777216T", "17179869184G", "18446744073709551616"}) {
    const std::string message = usage_error(text, "--minbytes");
    ASSERT_NE(message, "") << '"' << text << "\" was accepted";
    EXPECT_NE(message.find("--minbytes"), std::string::npos) << message;
    EXPECT_NE(message.find(std::string("'") + text + "'"), std::string::npos) << "quotes the input: " << message;
  }
}

TEST(ParseSize, SaysWhyItRejects) {
  EXPECT_NE(usage_error("", "-b").find("empty"), std::string::npos);
  EXPECT_NE(usage_error("x", "-b").find("not a number"), std::string::npos);
  EXPECT_NE(usage_error("12Q", "-b").find("suffix"), std::string::npos);
  EXPECT_NE(usage_error("99999999999999999999", "-b").find("too large"), std::string::npos);
  EXPECT_NE(usage_error("16777216T", "-b").find("too large"), std::string::npos);
}

// Regression: "iB" is stripped whether or not a unit precedes it, so
// "4iB" (and "4ib") is read as 4 bytes. The contract (size_parse.h) accepts iB only as
// part of KiB/MiB/GiB/TiB; a bare "iB" is a typo for a unit and should be a UsageError.
TEST(ParseSize, RejectsIBWithoutAUnit) {
  EXPECT_NE(usage_error("4iB", "-b"), "") << "\"4iB\" was accepted as " << parse_size("4iB", "-b");
}

TEST(FormatSize, LargestExactUnit) {
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(8), "8");
  EXPECT_EQ(format_size(1023), "1023");
  EXPECT_EQ(format_size(1024), "1K");
  EXPECT_EQ(format_size(1536), "1536");
  EXPECT_EQ(format_size(size_t{1} << 20), "1M");
  EXPECT_EQ(format_size(size_t{3} << 19), "1536K");
  EXPECT_EQ(format_size(size_t{32} << 30), "32G");
  EXPECT_EQ(format_size(size_t{1} << 40), "1T");
  EXPECT_EQ(format_size(size_t{1} << 50), "1024T");
}

TEST(FormatSize, RoundTripsThroughParseSize) {
  std::vector<size_t> values = {0,
                                1,
                                7,
                                8,
                                1000,
                                1023,
                                1024,
                                1025,
                                4096,
                                size_t{1} << 20,
                                (size_t{1} << 20) + 1,
                                size_t{3} << 30,
                                size_t{32} << 30,
                                size_t{1} << 40,
                                size_t{5} << 50,
                                std::numeric_limits<size_t>::max(),
                                std::numeric_limits<size_t>::max() << 40};
  for (int shift = 0; shift < 64; ++shift) values.push_back(size_t{1} << shift);
  for (size_t v : values) EXPECT_EQ(parse_size(format_size(v), "-b"), v) << format_size(v);
}

}  // namespace
}  // namespace sxcoll::bench
