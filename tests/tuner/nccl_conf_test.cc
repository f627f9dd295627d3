// nccl.conf (NCCL_CONF_FILE: NAME=value lines) and nccl_tuner.conf (the CSV of NCCL's example
// tuner plugin), parsed back as NCCL and the plugin read them.
#include "tuner/nccl_conf.h"

#include <sstream>

#include <gtest/gtest.h>

namespace sxcoll::tune {
namespace {

const Knob& knob(const std::string& name) {
  for (const auto& k : knob_table())
    if (k.name == name) return k;
  throw std::out_of_range(name);
}

// One sample of a sweep: busbw per size.
std::vector<Sample> samples(const std::vector<std::pair<size_t, double>>& busbw) {
  Sample s;
  s.ok = true;
  for (const auto& [bytes, bw] : busbw) s.sizes.push_back({bytes, bw, 1.0, ""});
  return {s, s};
}

Candidate candidate(const std::string& value, std::vector<Sample> ss) {
  Candidate c;
  c.value = value;
  c.samples = std::move(ss);
  return c;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, sep);) out.push_back(f);
  return out;
}

// NCCL_ALGO measured first (Ring won overall), then NCCL_PROTO over Ring: LL wins the
// small sizes, Simple the large, LL128 the middle.
SearchResult algo_proto_search() {
  SearchResult r;
  r.defaults = {{"NCCL_ALGO", ""}, {"NCCL_PROTO", ""}, {"NCCL_MIN/MAX_NCHANNELS", ""}};
  r.baseline = samples({{65536, 1.0}, {1048576, 5.0}, {16777216, 10.0}, {268435456, 12.0}});
  KnobOutcome algo;
  algo.knob = knob("NCCL_ALGO");
  algo.from = "";
  algo.to = "Ring";
  algo.verdict = Verdict::Changed;
  algo.candidates = {candidate("Ring", samples({{65536, 1.1}, {1048576, 5.5}, {16777216, 11.0}, {268435456, 13.0}})),
                     candidate("Tree", samples({{65536, 1.2}, {1048576, 4.0}, {16777216, 9.0}, {268435456, 10.0}}))};
  KnobOutcome proto;
  proto.knob = knob("NCCL_PROTO");
  proto.from = "";
  proto.to = "";
  proto.verdict = Verdict::KeptNoDifference;
  proto.candidates = {candidate("LL", samples({{65536, 2.0}, {1048576, 6.0}, {16777216, 3.0}, {268435456, 2.0}})),
                      candidate("LL128", samples({{65536, 1.5}, {1048576, 5.9}, {16777216, 12.0}, {268435456, 12.5}})),
                      candidate("Simple", samples({{65536, 1.0}, {1048576, 5.0}, {16777216, 11.5}, {268435456, 14.0}}))};
  r.knobs = {algo, proto};
  return r;
}

TEST(NcclTunerConf, ColumnsOfTheExamplePluginAndContiguousRanges) {
  const auto lines = tuner_conf_lines(algo_proto_search(), 16);
  const std::string text = nccl_tuner_conf_text(lines, {"written by a test"});
  std::istringstream in(text);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    rows.push_back(split(line, ','));
  }
  // 64K and 1M: LL (over Ring); 16M: LL128; 256M: Simple.
  ASSERT_EQ(rows.size(), 3u) << text;
  unsigned long long next_min = 0;
  for (const auto& f : rows) {
    ASSERT_EQ(f.size(), 10u) << text;  // coll,min,max,algo,proto,channels,nNodes,nRanks,numPipeOps,regBuff
    EXPECT_EQ(f[0], "allreduce");
    const unsigned long long lo = std::stoull(f[1]), hi = std::stoull(f[2]);
    EXPECT_EQ(lo, next_min) << "ranges contiguous, without overlap: " << text;
    EXPECT_LE(lo, hi);
    next_min = hi + 1;
    EXPECT_EQ(f[3], "ring");
    EXPECT_EQ(f[5], "-1");   // channels: NCCL's
    EXPECT_EQ(f[6], "-1");   // any number of nodes
    EXPECT_EQ(f[7], "16");   // the ranks tuned on
    EXPECT_EQ(f[8], "-1");
    EXPECT_EQ(f[9], "-1");
  }
  EXPECT_EQ(next_min, 0u) << "the last range ends at SIZE_MAX (wraps to 0)";
  EXPECT_EQ(rows[0][4], "ll");
  EXPECT_EQ(rows[1][4], "ll128");
  EXPECT_EQ(rows[2][4], "simple");
  // The split between 1M and 16M is halfway: both measured sizes fall in their own range.
  EXPECT_GE(std::stoull(rows[0][2]), 1048576u);
  EXPECT_LT(std::stoull(rows[1][1]), 16777216u);
  EXPECT_NE(text.find("# collective_type,min_bytes,max_bytes,algorithm,protocol,channels,nNodes,nRanks,numPipeOps,"
                      "regBuff\n"),
            std::string::npos);
}

TEST(NcclTunerConf, NoLineWhereNcclsOwnChoiceWonAndNoFileWithoutAlgoOrProto) {
  SearchResult r = algo_proto_search();
  r.knobs.pop_back();  // NCCL_ALGO only: its candidates leave NCCL_PROTO to NCCL
  EXPECT_TRUE(tuner_conf_lines(r, 16).empty());
  SearchResult none;
  none.defaults = {{"NCCL_BUFFSIZE", ""}};
  none.baseline = samples({{65536, 1.0}});
  EXPECT_TRUE(tuner_conf_lines(none, 16).empty());
}

TEST(NcclConf, NameValueLinesOfNcclVariables) {
  SearchResult r;
  KnobOutcome channels;
  channels.knob = knob("NCCL_MIN/MAX_NCHANNELS");
  channels.verdict = Verdict::Changed;
  channels.from = "";
  channels.to = "8";
  Candidate c;
  c.value = "8";
  c.vs_current = Comparison{true, 0.05, 0.03, 0.07, true, 0.95};
  channels.candidates = {c};
  channels.best = 0;
  r.knobs = {channels};
  EnvFile f;
  f.header = {"nccl.conf written by a test"};
  f.facts = {{"NCCL_IB_HCA", "=mlx5_0:1,=mlx5_1:1", "the active RoCE ports"}, {"NCCL_SOCKET_IFNAME", "", "not set"}};
  f.result = &r;
  std::istringstream in(nccl_conf_text(f));
  std::vector<std::string> settings;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) continue;
    settings.push_back(line);
  }
  EXPECT_EQ(settings, (std::vector<std::string>{"NCCL_IB_HCA==mlx5_0:1,=mlx5_1:1", "NCCL_MIN_NCHANNELS=8",
                                                "NCCL_MAX_NCHANNELS=8"}));
}

}  // namespace
}  // namespace sxcoll::tune
