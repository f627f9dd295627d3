// The engine's knobs, declared once (bench/knob_table.h): where a value comes from (flag >
// SXCOLL_* > NCCL_* > default), and the table's ranges are the ones bench enforces.
#include "bench/knob_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "bench/options.h"
#include "transport/error.h"

namespace sxcoll::bench {
namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(KnobTable, FlagThenSxcollThenNcclThenDefault) {
  const EngineKnob& qps = engine_knob("--qps");
  FakeEnv env{{{"SXCOLL_QPS", "4"}, {"NCCL_IB_QPS_PER_CONNECTION", "8"}}};
  const std::string flag = "2";
  EXPECT_EQ(resolve_knob(qps, &flag, true, env.lookup()).value, "2");
  EXPECT_EQ(resolve_knob(qps, &flag, true, env.lookup()).source, "flag");
  KnobSetting s = resolve_knob(qps, nullptr, true, env.lookup());
  EXPECT_EQ(s.value, "4");
  EXPECT_EQ(s.source, "SXCOLL_QPS=4");
  EXPECT_EQ(s.variable(), "SXCOLL_QPS");
  env.vars.erase("SXCOLL_QPS");
  s = resolve_knob(qps, nullptr, true, env.lookup());
  EXPECT_EQ(s.value, "8");
  EXPECT_EQ(s.variable(), "NCCL_IB_QPS_PER_CONNECTION");
  // NCCL's IB variables count for the verbs transport only.
  s = resolve_knob(qps, nullptr, false, env.lookup());
  EXPECT_EQ(s.value, "1");
  EXPECT_EQ(s.source, "default");
  // An empty variable is unset.
  env.vars["NCCL_IB_QPS_PER_CONNECTION"] = "";
  EXPECT_EQ(resolve_knob(qps, nullptr, true, env.lookup()).source, "default");
}

TEST(KnobTable, NcclIbVariablesOfTheVerbsFlags) {
  EXPECT_EQ(engine_knob("--hca").nccl_env, "NCCL_IB_HCA");
  EXPECT_EQ(engine_knob("--gid-index").nccl_env, "NCCL_IB_GID_INDEX");
  EXPECT_EQ(engine_knob("--tc").nccl_env, "NCCL_IB_TC");
  EXPECT_EQ(engine_knob("--qps").nccl_env, "NCCL_IB_QPS_PER_CONNECTION");
  FakeEnv env{{{"NCCL_IB_HCA", "mlx5_0:1,mlx5_1:1"}, {"NCCL_IB_GID_INDEX", "3"}, {"NCCL_IB_TC", "106"}}};
  EXPECT_EQ(resolve_knob(engine_knob("--hca"), nullptr, true, env.lookup()).value, "mlx5_0:1,mlx5_1:1");
  EXPECT_EQ(resolve_knob(engine_knob("--gid-index"), nullptr, true, env.lookup()).value, "3");
  EXPECT_EQ(resolve_knob(engine_knob("--tc"), nullptr, true, env.lookup()).value, "106");
}

TEST(KnobTable, EveryKnobIsDeclaredOnceWithHelpAndADefault) {
  std::set<std::string_view> flags;
  for (const auto& k : engine_knobs()) {
    EXPECT_TRUE(flags.insert(k.flag).second) << k.flag << " declared twice";
    EXPECT_FALSE(k.help.empty()) << k.flag;
    if (k.kind != KnobKind::Text) {
      EXPECT_FALSE(k.default_value.empty()) << k.flag;
    }
    if (k.kind == KnobKind::Choice) {
      EXPECT_NE(std::find(k.choices.begin(), k.choices.end(), k.default_value), k.choices.end()) << k.flag;
    }
  }
}

void set(BenchOptions& o, std::string_view flag, long long v) {
  if (flag == "--nsocks") o.transport.sockets_per_peer = static_cast<int>(v);
  if (flag == "--qps") o.transport.qps = static_cast<int>(v);
  if (flag == "--tc") o.transport.traffic_class = static_cast<int>(v);
  if (flag == "--gid-index") o.transport.gid_index = static_cast<int>(v);
  if (flag == "--channels") o.comm.channels = static_cast<int>(v);
  if (flag == "--buffsize") o.comm.buffsize = static_cast<size_t>(v);
}

bool accepted(std::string_view flag, long long v) {
  BenchOptions o;
  set(o, flag, v);
  try {
    validate(o);
    return true;
  } catch (const UsageError&) {
    return false;
  }
}

TEST(KnobTable, RangesAreTheOnesBenchEnforces) {
  for (std::string_view flag : {"--nsocks", "--qps", "--tc", "--gid-index", "--channels"}) {
    const EngineKnob& k = engine_knob(flag);
    EXPECT_TRUE(accepted(flag, k.min)) << flag << " " << k.min;
    EXPECT_TRUE(accepted(flag, k.max)) << flag << " " << k.max;
    EXPECT_FALSE(accepted(flag, k.min - 1)) << flag << " " << k.min - 1;
    EXPECT_FALSE(accepted(flag, k.max + 1)) << flag << " " << k.max + 1;
  }
  const EngineKnob& b = engine_knob("--buffsize");
  EXPECT_TRUE(accepted("--buffsize", b.min));
  EXPECT_FALSE(accepted("--buffsize", b.min - b.multiple_of));
  EXPECT_FALSE(accepted("--buffsize", b.min + 1));
}

}  // namespace
}  // namespace sxcoll::bench
