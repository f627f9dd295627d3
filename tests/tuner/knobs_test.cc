// The search space: which knobs apply to the fabric found, --knob requests and their values.
#include "tuner/knobs.h"

#include <gtest/gtest.h>

#include "transport/error.h"

namespace sxcoll::tune {
namespace {

std::vector<std::string> names(const std::vector<Knob>& ks) {
  std::vector<std::string> out;
  for (const auto& k : ks) out.push_back(k.name);
  return out;
}

std::string usage_error(Engine e, Fabric f, const std::vector<std::string>& requests) {
  try {
    select_knobs(e, f, "note", requests);
  } catch (const UsageError& err) {
    return err.what();
  }
  return "no error";
}

TEST(Knobs, TheTableHoldsBothEnginesInImportanceOrder) {
  EXPECT_EQ(names(knobs_of(Engine::Nccl)),
            (std::vector<std::string>{"NCCL_IB_QPS_PER_CONNECTION", "NCCL_NSOCKS_PERTHREAD", "NCCL_SOCKET_NTHREADS",
                                      "NCCL_BUFFSIZE", "NCCL_MIN/MAX_NCHANNELS", "NCCL_IB_SPLIT_DATA_ON_QPS",
                                      "NCCL_IB_TC", "NCCL_ALGO", "NCCL_PROTO"}));
  EXPECT_EQ(names(knobs_of(Engine::Sxcoll)),
            (std::vector<std::string>{"--qps", "--nsocks", "--tcp-io", "--buffsize", "--channels", "--tc", "--algo"}));
  for (const auto& k : knob_table()) {
    EXPECT_FALSE(k.values.empty()) << k.name;
    EXPECT_FALSE(k.env.empty()) << k.name;
    for (const auto& v : k.values) EXPECT_EQ(normalize_value(k, v, "table"), v) << k.name;  // spelled canonically
    if (k.engine == Engine::Nccl) {
      EXPECT_EQ(k.default_value, "") << "NCCL's own default is the baseline";
    }
  }
}

TEST(Knobs, IbKnobsAreSkippedOnASocketFabricAndTheReasonSaysSo) {
  auto sel = select_knobs(Engine::Nccl, Fabric::Socket, "no active RDMA port in /sys/class/infiniband", {});
  EXPECT_EQ(names(sel.searched),
            (std::vector<std::string>{"NCCL_NSOCKS_PERTHREAD", "NCCL_SOCKET_NTHREADS", "NCCL_BUFFSIZE",
                                      "NCCL_MIN/MAX_NCHANNELS", "NCCL_ALGO", "NCCL_PROTO"}));
  ASSERT_EQ(sel.skipped.size(), 3u);
  EXPECT_EQ(sel.skipped[0].first, "NCCL_IB_QPS_PER_CONNECTION");
  EXPECT_EQ(sel.skipped[0].second, "RDMA knob; no active RDMA port in /sys/class/infiniband");
  auto rdma = select_knobs(Engine::Nccl, Fabric::Rdma, "NCCL uses IB verbs", {});
  EXPECT_EQ(rdma.skipped.size(), 2u);  // the socket knobs
  auto tcp = select_knobs(Engine::Sxcoll, Fabric::Socket, "--transport tcp", {});
  EXPECT_EQ(names(tcp.searched),
            (std::vector<std::string>{"--nsocks", "--tcp-io", "--buffsize", "--channels", "--algo"}));
}

TEST(Knobs, RequestsSelectKnobsAndReplaceValues) {
  auto sel = select_knobs(Engine::Sxcoll, Fabric::Socket, "", {"algo", "buffsize=8M,1M,8388608"});
  ASSERT_EQ(names(sel.searched), (std::vector<std::string>{"--buffsize", "--algo"}));  // the table's order
  EXPECT_EQ(sel.searched[0].values, (std::vector<std::string>{"8388608", "1048576"}));
  EXPECT_EQ(sel.searched[1].values, (std::vector<std::string>{"ring", "tree"}));
  EXPECT_EQ(sel.skipped.size(), 5u);
  auto nccl = select_knobs(Engine::Nccl, Fabric::Socket, "", {"NCCL_MAX_NCHANNELS=2,4", "NCCL_ALGO=tree"});
  EXPECT_EQ(nccl.searched[0].name, "NCCL_MIN/MAX_NCHANNELS");
  EXPECT_EQ(nccl.searched[0].env, (std::vector<std::string>{"NCCL_MIN_NCHANNELS", "NCCL_MAX_NCHANNELS"}));
  EXPECT_EQ(nccl.searched[1].values, (std::vector<std::string>{"Tree"}));  // NCCL's spelling
}

TEST(Knobs, BadRequestsAreOneLineEach) {
  EXPECT_EQ(
      usage_error(Engine::Nccl, Fabric::Socket, {"NCCL_FOO=1"}),
      "--knob NCCL_FOO: unknown knob for --engine nccl (known: NCCL_IB_QPS_PER_CONNECTION, NCCL_NSOCKS_PERTHREAD, "
      "NCCL_SOCKET_NTHREADS, NCCL_BUFFSIZE, NCCL_MIN/MAX_NCHANNELS, NCCL_IB_SPLIT_DATA_ON_QPS, NCCL_IB_TC, "
      "NCCL_ALGO, NCCL_PROTO)");
  EXPECT_EQ(usage_error(Engine::Nccl, Fabric::Socket, {"NCCL_BUFFSIZE="}),
            "--knob NCCL_BUFFSIZE: empty value list (expected NCCL_BUFFSIZE=V1,V2,...)");
  EXPECT_EQ(usage_error(Engine::Nccl, Fabric::Socket, {"NCCL_BUFFSIZE=1M,,2M"}),
            "--knob NCCL_BUFFSIZE: empty value in '1M,,2M'");
  EXPECT_EQ(usage_error(Engine::Nccl, Fabric::Socket, {"NCCL_IB_TC=300"}),
            "--knob NCCL_IB_TC: does not apply here: RDMA knob; note");
  EXPECT_EQ(usage_error(Engine::Nccl, Fabric::Rdma, {"NCCL_IB_TC=300"}),
            "--knob NCCL_IB_TC=300: expected an integer 0..255");
  EXPECT_EQ(usage_error(Engine::Nccl, Fabric::Socket, {"NCCL_PROTO=Fast"}),
            "--knob NCCL_PROTO=Fast: expected one of Simple, LL128, LL");
  EXPECT_EQ(usage_error(Engine::Sxcoll, Fabric::Socket, {"NCCL_ALGO"}),
            "--knob NCCL_ALGO: a knob of --engine nccl, not of --engine sxcoll");
  EXPECT_EQ(usage_error(Engine::Sxcoll, Fabric::Socket, {"nsocks", "--nsocks=2"}), "--knob --nsocks: given twice");
  EXPECT_EQ(usage_error(Engine::Sxcoll, Fabric::Socket, {"buffsize=1000"}),
            "--knob --buffsize=1000: expected a size in bytes (K/M/G suffix) of at least 32K, a multiple of 8");
}

TEST(Knobs, ValuesAreShownAsPeopleWriteThem) {
  const auto nccl = knobs_of(Engine::Nccl);
  const Knob& buff = nccl[3];
  EXPECT_EQ(display_value(buff, "8388608"), "8M");
  EXPECT_EQ(display_value(buff, ""), "NCCL default");
  EXPECT_EQ(default_settings(nccl).at("NCCL_ALGO"), "");
}

}  // namespace
}  // namespace sxcoll::tune
