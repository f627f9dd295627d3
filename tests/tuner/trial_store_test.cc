// The trials file: appended line by line, read back by a rerun, robust to a line cut short.
#include "tuner/trial_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace sxcoll::tune {
namespace {

namespace fs = std::filesystem;

TrialRecord record(const std::string& value, int rep, const std::string& status = "ok") {
  TrialRecord r;
  r.config = {{"engine", "sxcoll"}, {"settings", {{"--nsocks", value}}}, {"sizes", {65536, 131072}}, {"ranks", 2}};
  r.rep = rep;
  r.status = status;
  r.sizes = {{65536, 1.5, 80.0, "ring"}, {131072, 2.5, 100.0, "ring"}};
  r.ranks = 2;
  r.duration_s = 0.5;
  if (status != "ok") r.error = "rank 1: connection reset";
  return r;
}

class Store : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("sxcoll-tune-store-" + std::to_string(::getpid()) + ".jsonl")).string();
    fs::remove(path_);
  }
  void TearDown() override { fs::remove(path_); }
  std::string path_;
};

TEST_F(Store, AppendedTrialsAreFoundAgainByARerun) {
  {
    TrialStore store(path_);
    EXPECT_EQ(store.loaded(), 0u);
    store.append(record("1", 0));
    store.append(record("1", 1));
    store.append(record("2", 0, "failed"));
    const TrialRecord* r = store.find(record("1", 1).key(), 1);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->sizes[1].busbw_gbps, 2.5);
  }
  TrialStore again(path_);
  EXPECT_EQ(again.loaded(), 3u);
  EXPECT_EQ(again.reusable(), 2u);
  ASSERT_NE(again.find(record("1", 0).key(), 0), nullptr);
  EXPECT_EQ(again.find(record("1", 0).key(), 0)->sizes[0].algorithm, "ring");
  EXPECT_EQ(again.find(record("1", 0).key(), 2), nullptr);
  // A failed trial stays in the file as evidence but runs again.
  EXPECT_EQ(again.find(record("2", 0).key(), 0), nullptr);
  EXPECT_EQ(again.records()[2].error, "rank 1: connection reset");
}

TEST_F(Store, TheKeyIgnoresTheOrderOfFields) {
  TrialRecord a = record("1", 0), b = record("1", 0);
  b.config =
      nlohmann::json::parse(R"({"ranks":2,"sizes":[65536,131072],"settings":{"--nsocks":"1"},"engine":"sxcoll"})");
  EXPECT_EQ(a.key(), b.key());
}

TEST_F(Store, ALineCutShortByACrashIsSkipped) {
  {
    TrialStore store(path_);
    store.append(record("1", 0));
  }
  std::string half = record("1", 1).to_json().dump();
  std::ofstream(path_, std::ios::app) << half.substr(0, half.size() / 2);  // no newline: the crash
  {
    TrialStore store(path_);
    EXPECT_EQ(store.loaded(), 1u);
    EXPECT_EQ(store.bad_lines(), 1u);
    store.append(record("1", 1));  // on a line of its own
  }
  TrialStore again(path_);
  EXPECT_EQ(again.loaded(), 2u);
  EXPECT_EQ(again.bad_lines(), 1u);
  EXPECT_NE(again.find(record("1", 1).key(), 1), nullptr);
}

TEST_F(Store, EveryLineIsOneJsonObject) {
  {
    TrialStore store(path_);
    for (int i = 0; i < 3; ++i) store.append(record(std::to_string(i), 0));
  }
  std::ifstream in(path_);
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["results"].size(), 2u);
  }
  EXPECT_EQ(lines, 3);
}

}  // namespace
}  // namespace sxcoll::tune
