// nccl_env.sh: one export per line with its evidence, defaults kept say why, and the file
// reads back through `sxcoll sft --nccl-env`'s parser.
#include "tuner/env_writer.h"

#include <sstream>

#include <gtest/gtest.h>

#include "sft_driver/nccl_env.h"

namespace sxcoll::tune {
namespace {

Candidate candidate(const std::string& value, double gain, double low, double high, bool significant) {
  Candidate c;
  c.value = value;
  c.vs_current = Comparison{true, gain, low, high, significant, 0.95};
  return c;
}

SearchResult result() {
  const auto knobs = knobs_of(Engine::Nccl);
  SearchResult r;
  KnobOutcome nsocks;
  nsocks.knob = knobs[1];  // NCCL_NSOCKS_PERTHREAD
  nsocks.verdict = Verdict::Changed;
  nsocks.to = "4";
  nsocks.candidates = {candidate("2", 0.20, 0.12, 0.28, true), candidate("4", 0.352, 0.301, 0.405, true)};
  nsocks.best = 1;
  KnobOutcome channels;
  channels.knob = knobs[4];  // NCCL_MIN/MAX_NCHANNELS
  channels.verdict = Verdict::Changed;
  channels.to = "8";
  channels.candidates = {candidate("8", 0.05, 0.03, 0.07, true)};
  channels.best = 0;
  KnobOutcome buff;
  buff.knob = knobs[3];  // NCCL_BUFFSIZE
  buff.verdict = Verdict::KeptNoDifference;
  buff.candidates = {candidate("8388608", 0.008, -0.015, 0.031, false)};
  buff.best = 0;
  KnobOutcome proto;
  proto.knob = knobs[8];
  proto.verdict = Verdict::NotTried;
  r.knobs = {nsocks, channels, buff, proto};
  return r;
}

TEST(EnvWriter, ExportsWithEvidence) {
  const SearchResult r = result();
  EnvFile f;
  f.header = {"written by a test"};
  f.facts = {{"NCCL_IB_HCA", "", "not set: no RDMA device in /sys/class/infiniband"},
             {"NCCL_SOCKET_IFNAME", "eth0", "the interface of the default route in /proc/net/route"}};
  f.conditions = {{"NCCL_IB_DISABLE", "1"}};
  f.result = &r;
  f.skipped = {{"NCCL_IB_TC", "RDMA knob; no active RDMA port in /sys/class/infiniband"}};
  const std::string text = nccl_env_text(f);
  EXPECT_NE(text.find("export NCCL_NSOCKS_PERTHREAD=4  # NCCL_NSOCKS_PERTHREAD: +35.2 % [95 % interval +30.1, +40.5] "
                      "busbw over NCCL default (measured 2: +20.0 % [95 % interval +12.0, +28.0]; 4: +35.2 % [95 % "
                      "interval +30.1, +40.5])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("export NCCL_MIN_NCHANNELS=8  # NCCL_MIN/MAX_NCHANNELS: +5.0 %"), std::string::npos) << text;
  EXPECT_NE(text.find("export NCCL_MAX_NCHANNELS=8  # NCCL_MIN/MAX_NCHANNELS: +5.0 %"), std::string::npos) << text;
  EXPECT_NE(text.find("# NCCL_BUFFSIZE: default kept: no significant difference (8M: +0.8 % [95 % interval -1.5, "
                      "+3.1])\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# NCCL_PROTO: default kept: not measured (the budget ran out first)\n"), std::string::npos);
  EXPECT_NE(text.find("# NCCL_IB_TC: skipped: RDMA knob; no active RDMA port"), std::string::npos);
  EXPECT_NE(text.find("# NCCL_IB_HCA: not set: no RDMA device"), std::string::npos);
  EXPECT_NE(text.find("export NCCL_SOCKET_IFNAME=eth0  # detected: the interface of the default route"),
            std::string::npos);
  EXPECT_NE(text.find("NCCL_IB_DISABLE=1 (measurement conditions, not exported)"), std::string::npos);

  // Every line is a comment or one export; `sxcoll sft --nccl-env` reads exactly the exports.
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    EXPECT_TRUE(line.rfind("# ", 0) == 0 || line == "#" || line.rfind("export ", 0) == 0) << line;
  auto env = sft::parse_nccl_env(text, "nccl_env.sh");
  ASSERT_EQ(env.vars.size(), 4u);
  EXPECT_EQ(env.vars[0], std::make_pair(std::string("NCCL_SOCKET_IFNAME"), std::string("eth0")));
  EXPECT_EQ(env.vars[1], std::make_pair(std::string("NCCL_NSOCKS_PERTHREAD"), std::string("4")));
}

TEST(EnvWriter, EveryVerdictHasWords) {
  KnobOutcome k;
  k.knob = knobs_of(Engine::Sxcoll)[1];
  k.from = "1";
  k.verdict = Verdict::KeptSlower;
  k.candidates = {candidate("8", -0.3, -0.4, -0.2, false)};
  EXPECT_EQ(verdict_text(k), "default kept: every value was slower (8: -30.0 % [95 % interval -40.0, -20.0])");
  k.verdict = Verdict::KeptFailed;
  k.candidates[0].failure = "rank 1: timeout";
  EXPECT_EQ(verdict_text(k), "default kept: every value failed (8: failed: rank 1: timeout)");
  k.verdict = Verdict::KeptNoDifference;
  k.partial = true;
  k.candidates = {candidate("2", 0.01, -0.02, 0.04, false)};
  EXPECT_EQ(verdict_text(k),
            "default kept: no significant difference (2: +1.0 % [95 % interval -2.0, +4.0]) (1 value(s) measured "
            "before the budget ran out)");
  EXPECT_EQ(format_gain(Comparison{false, 0.1, 0.1, 0.1, false, 0.95}),
            "+10.0 % (one measurement a side: no interval)");
}

}  // namespace
}  // namespace sxcoll::tune
