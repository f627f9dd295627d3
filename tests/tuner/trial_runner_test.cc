// A trial's command: sxcoll bench with nccl-tests' flags, sxcoll's knobs as flags (and no
// --engine/--mem, which today's bench lacks), NCCL's knobs in the environment, launchers.
#include "tuner/trial_runner.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace sxcoll::tune {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

TrialPlan plan(Engine engine) {
  TrialPlan p;
  p.engine = engine;
  p.transport = engine == Engine::Sxcoll ? "tcp" : "socket";
  p.exe = "/opt/sxcoll";
  p.np = 2;
  p.iters = 5;
  p.warmup = 2;
  p.knobs = knobs_of(engine);
  return p;
}

TEST(TrialCommand, SxcollKnobsAreBenchFlags) {
  Settings s{{"--nsocks", "4"}, {"--buffsize", "8388608"}};
  ChildSpec c = trial_spec(plan(Engine::Sxcoll), s, 65536, 1 << 20, "/r/t.json");
  EXPECT_EQ(joined(c.argv),
            "/opt/sxcoll bench --json /r/t.json -b 65536 -e 1048576 -f 2 -n 5 -w 2 -c 0 -d float -o sum --np 2 "
            "--transport tcp --buffsize 8388608 --nsocks 4");
  EXPECT_FALSE(contains(c.argv, "--engine"));
  EXPECT_FALSE(contains(c.argv, "--mem"));
  EXPECT_TRUE(c.set_env.empty());
  // bench reads SXCOLL_NSOCKS etc. where a flag is not given: a trial never inherits them.
  EXPECT_TRUE(contains(c.unset_env, "SXCOLL_NSOCKS"));
  EXPECT_TRUE(contains(c.unset_env, "SXCOLL_BUFFSIZE"));
}

TEST(TrialCommand, SxcollTrialsOnGpuBuffersSayMemCuda) {
  TrialPlan p = plan(Engine::Sxcoll);
  p.memory = "cuda";
  ChildSpec c = trial_spec(p, Settings{{"--nsocks", "8"}}, 65536, 1 << 20, "/r/t.json");
  EXPECT_EQ(joined(c.argv),
            "/opt/sxcoll bench --json /r/t.json -b 65536 -e 1048576 -f 2 -n 5 -w 2 -c 0 -d float -o sum --np 2 "
            "--transport tcp --mem cuda --nsocks 8");
  EXPECT_FALSE(contains(c.argv, "--engine"));
}

TEST(TrialCommand, NcclKnobsAreTheEnvironment) {
  TrialPlan p = plan(Engine::Nccl);
  p.fixed_env = {{"NCCL_SOCKET_IFNAME", "eth0"}, {"NCCL_IB_DISABLE", "1"}};
  Settings s{{"NCCL_BUFFSIZE", "8388608"}, {"NCCL_MIN/MAX_NCHANNELS", "8"}, {"NCCL_ALGO", ""}};
  ChildSpec c = trial_spec(p, s, 65536, 1 << 20, "/r/t.json");
  const std::string argv = joined(c.argv);
  EXPECT_NE(argv.find("--np 2 --engine nccl --mem cuda"), std::string::npos) << argv;
  auto env = c.set_env;
  EXPECT_TRUE(contains(c.unset_env, "NCCL_ALGO"));                   // NCCL's default: unset
  EXPECT_TRUE(contains(c.unset_env, "NCCL_IB_QPS_PER_CONNECTION"));  // not searched: unset too
  auto has = [&](const std::string& k, const std::string& v) {
    return std::find(env.begin(), env.end(), std::make_pair(k, v)) != env.end();
  };
  EXPECT_TRUE(has("NCCL_BUFFSIZE", "8388608"));
  EXPECT_TRUE(has("NCCL_MIN_NCHANNELS", "8"));
  EXPECT_TRUE(has("NCCL_MAX_NCHANNELS", "8"));
  EXPECT_TRUE(has("NCCL_SOCKET_IFNAME", "eth0"));
  EXPECT_NE(shell_line(c).find("NCCL_BUFFSIZE=8388608"), std::string::npos);
}

TEST(TrialCommand, UnderALauncherTheCommandFollowsItsPrefix) {
  TrialPlan p = plan(Engine::Nccl);
  p.np = 0;
  p.launch = {"mpirun", "-np", "16", "-H", "a,b"};
  ChildSpec c = trial_spec(p, {{"NCCL_BUFFSIZE", "8388608"}}, 1 << 20, 1 << 20, "/shared/t.json");
  const std::string argv = joined(c.argv);
  EXPECT_EQ(argv.rfind("mpirun -x NCCL_BUFFSIZE -np 16 -H a,b /opt/sxcoll bench", 0), 0u) << argv;
  EXPECT_FALSE(contains(c.argv, "--np"));
  p.launch = {"srun", "-N", "2"};
  EXPECT_EQ(joined(trial_spec(p, {}, 1 << 20, 1 << 20, "/shared/t.json").argv).rfind("srun -N 2 /opt/sxcoll bench", 0),
            0u);
}

TEST(TrialCommand, BenchJsonIsRead) {
  auto j = nlohmann::json::parse(R"({
    "tool": "sxcoll bench", "engine": "nccl", "engine_detail": "NCCL 2.23.4", "ranks": 16,
    "links": ["mlx5_0:1 ...", "mlx5_1:1 ..."],
    "results": [
      {"size_bytes": 1048576, "algorithm": "Ring",
       "out_of_place": {"time_us": 100, "busbw_gbps": 10, "algbw_gbps": 5},
       "in_place": {"time_us": 120, "busbw_gbps": 8, "algbw_gbps": 4}}]})");
  BenchResults r = parse_bench_json(j);
  EXPECT_EQ(r.engine, "nccl");
  EXPECT_EQ(r.ranks, 16);
  EXPECT_EQ(r.rails, 2);
  ASSERT_EQ(r.sizes.size(), 1u);
  EXPECT_EQ(r.sizes[0].busbw_gbps, 9);
  EXPECT_EQ(r.sizes[0].time_us, 110);
  EXPECT_EQ(r.sizes[0].algorithm, "Ring");
  EXPECT_THROW(parse_bench_json(nlohmann::json::parse(R"({"engine": "nccl"})")), std::exception);
}

TEST(TrialCommand, AHangingTrialIsKilledAtItsTimeoutWithItsLastLine) {
  ChildSpec c;
  c.argv = {"/bin/sh", "-c", "echo 'rank 0: waiting for rank 1' >&2; sleep 30"};
  const std::string dir = ::testing::TempDir();
  c.stdout_path = dir + "/tune-hang.out";
  c.stderr_path = dir + "/tune-hang.err";
  ChildOutcome o = run_child(
      c, std::chrono::milliseconds(300), [] { return false; }, std::chrono::milliseconds(500));
  EXPECT_TRUE(o.timed_out);
  EXPECT_LT(o.seconds, 5);
  EXPECT_EQ(last_line(c.stderr_path), "rank 0: waiting for rank 1");
  bool stop = false;
  ChildOutcome s = run_child(c, std::chrono::seconds(30), [&] {
    stop = true;
    return stop;
  });
  EXPECT_TRUE(s.stopped);
  c.argv = {"/bin/sh", "-c", "exit 3"};
  EXPECT_EQ(run_child(c, std::chrono::seconds(10), nullptr).exit_code, 3);
}

}  // namespace
}  // namespace sxcoll::tune
