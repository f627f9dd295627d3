// Who am I in this run (transport/bootstrap/launch_env.h): rank, size, local rank, master
// and run token read from each launcher's environment, injected here as a map; malformed
// values are a UsageError naming the variable.
#include "transport/bootstrap/launch_env.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "transport/error.h"

namespace sxcoll::bootstrap {
namespace {

using Env = std::map<std::string, std::string>;

EnvLookup lookup(const Env& env) {
  return [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

LaunchInfo detect(const Env& env) {
  auto info = detect_launch(lookup(env));
  if (!info) throw std::runtime_error("no launch detected");
  return *info;
}

// The UsageError's message, or "" when none was thrown.
std::string usage_error(const Env& env) {
  try {
    detect_launch(lookup(env));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(DetectLaunch, NothingSetIsNoLaunch) {
  EXPECT_EQ(detect_launch(lookup({})), std::nullopt);
  // Variables that belong to a launch but name no rank are not one.
  EXPECT_EQ(detect_launch(lookup({{"SXCOLL_MASTER", "h:1"},
                                  {"SXCOLL_TOKEN", "t"},
                                  {"MASTER_ADDR", "h"},
                                  {"SLURM_JOB_ID", "12"},
                                  {"SLURM_STEP_NODELIST", "n1"},
                                  {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                                  {"LOCAL_RANK", "0"}})),
            std::nullopt);
}

TEST(DetectLaunch, SxcollsOwnVariables) {
  LaunchInfo info = detect({{"SXCOLL_RANK", "3"},
                            {"SXCOLL_SIZE", "8"},
                            {"SXCOLL_LOCAL_RANK", "1"},
                            {"SXCOLL_MASTER", "node7:29400"},
                            {"SXCOLL_TOKEN", "sxcoll-local-abc"},
                            {"SXCOLL_STORE_FD", "5"}});
  EXPECT_EQ(info.launcher, "sxcoll");
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.master, "node7:29400");
  EXPECT_EQ(info.token, "sxcoll-local-abc");
  EXPECT_EQ(info.store_fd, 5);

  info = detect({{"SXCOLL_RANK", "0"}, {"SXCOLL_SIZE", "1"}});
  EXPECT_EQ(info.local_rank, 0) << "local rank defaults to 0";
  EXPECT_EQ(info.master, std::nullopt);
  EXPECT_EQ(info.token, "sxcoll");
  EXPECT_EQ(info.store_fd, -1);
}

TEST(DetectLaunch, OpenMpi) {
  LaunchInfo info = detect({{"OMPI_COMM_WORLD_RANK", "5"},
                            {"OMPI_COMM_WORLD_SIZE", "16"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "5"},
                            {"PMIX_NAMESPACE", "prterun-gpu01-4242@1"},
                            {"SXCOLL_MASTER", "gpu01:29400"}});
  EXPECT_EQ(info.launcher, "mpirun");
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.size, 16);
  EXPECT_EQ(info.local_rank, 5);
  EXPECT_EQ(info.master, "gpu01:29400");
  EXPECT_EQ(info.token, "mpirun:prterun-gpu01-4242@1");
  // mpirun gives no rendezvous point of its own.
  EXPECT_EQ(detect({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}}).master, std::nullopt);
}

TEST(DetectLaunch, SlurmDerivesMasterFromNodeListAndJobId) {
  LaunchInfo info = detect({{"SLURM_PROCID", "9"},
                            {"SLURM_NTASKS", "16"},
                            {"SLURM_LOCALID", "1"},
                            {"SLURM_STEP_NODELIST", "gpu[007-012,015],login1"},
                            {"SLURM_JOB_NODELIST", "other[1-9]"},
                            {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(info.launcher, "srun");
  EXPECT_EQ(info.rank, 9);
  EXPECT_EQ(info.size, 16);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.master, "gpu007:23456") << "the step's first node; port 20000 + job id mod 20000";
  EXPECT_EQ(info.token, "srun:123456");

  // Without the step's list, the job's.
  info =
      detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "a,b"}, {"SLURM_JOB_ID", "40000"}});
  EXPECT_EQ(info.master, "a:20000");
  // Without a job id, or a node list, no master can be derived.
  EXPECT_EQ(detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "a"}}).master, std::nullopt);
  EXPECT_EQ(detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_ID", "7"}}).master, std::nullopt);
}

TEST(DetectLaunch, ExplicitMasterBeatsTheDerivedOne) {
  Env slurm = {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_STEP_NODELIST", "n[1-2]"}, {"SLURM_JOB_ID", "5"}};
  Env with_torch = slurm;
  with_torch["MASTER_ADDR"] = "10.0.0.1";
  with_torch["MASTER_PORT"] = "29500";
  EXPECT_EQ(detect(with_torch).master, "10.0.0.1:29500");
  Env with_own = with_torch;
  with_own["SXCOLL_MASTER"] = "head:1234";
  EXPECT_EQ(detect(with_own).master, "head:1234");
}

TEST(DetectLaunch, Mpich) {
  LaunchInfo info = detect({{"PMI_RANK", "2"}, {"PMI_SIZE", "4"}, {"MPI_LOCALRANKID", "2"}});
  EXPECT_EQ(info.launcher, "mpich");
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.size, 4);
  EXPECT_EQ(info.local_rank, 2);
  EXPECT_EQ(info.token, "mpich");
}

TEST(DetectLaunch, Torchrun) {
  LaunchInfo info = detect({{"RANK", "3"},
                            {"WORLD_SIZE", "8"},
                            {"LOCAL_RANK", "3"},
                            {"MASTER_ADDR", "10.1.2.3"},
                            {"MASTER_PORT", "29500"},
                            {"TORCHELASTIC_RUN_ID", "job7"}});
  EXPECT_EQ(info.launcher, "torchrun");
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.size, 8);
  EXPECT_EQ(info.local_rank, 3);
  EXPECT_EQ(info.master, "10.1.2.3:29500");
  EXPECT_EQ(info.token, "torchrun:job7");
}

TEST(DetectLaunch, SxcollsOwnVariablesComeFirst) {
  Env env = {{"SXCOLL_RANK", "1"},
             {"SXCOLL_SIZE", "2"},
             {"OMPI_COMM_WORLD_RANK", "5"},
             {"OMPI_COMM_WORLD_SIZE", "6"},
             {"SLURM_PROCID", "3"},
             {"SLURM_NTASKS", "4"},
             {"PMI_RANK", "7"},
             {"PMI_SIZE", "8"},
             {"RANK", "9"},
             {"WORLD_SIZE", "10"}};
  LaunchInfo info = detect(env);
  EXPECT_EQ(info.launcher, "sxcoll");
  EXPECT_EQ(info.rank, 1);
  EXPECT_EQ(info.size, 2);
}

TEST(DetectLaunch, MpirunInsideASlurmAllocationIsMpirun) {
  // mpirun starts its daemons with srun: the ranks inherit the daemons' SLURM_PROCID/NTASKS.
  LaunchInfo info = detect({{"OMPI_COMM_WORLD_RANK", "13"},
                            {"OMPI_COMM_WORLD_SIZE", "16"},
                            {"SLURM_PROCID", "1"},
                            {"SLURM_NTASKS", "2"},
                            {"SLURM_JOB_ID", "99"}});
  EXPECT_EQ(info.launcher, "mpirun");
  EXPECT_EQ(info.rank, 13);
  EXPECT_EQ(info.size, 16);
}

// Regression: srun is tried before
// mpich and torchrun. `srun torchrun ...` (one torchrun per node, the usual way to start
// torchrun on Slurm) gives every worker its node's SLURM_PROCID/SLURM_NTASKS as well as
// torchrun's RANK/WORLD_SIZE; MPICH's and Intel MPI's mpiexec inside an allocation start
// their proxies with srun likewise. detect_launch then answers with the node's index as
// rank and the node count as size: all workers of a node claim one rank. An inner launcher
// must win over the srun that started it, as mpirun already does.
TEST(DetectLaunch, TorchrunUnderSrunIsTorchrun) {
  LaunchInfo info = detect({{"RANK", "11"},
                            {"WORLD_SIZE", "16"},
                            {"LOCAL_RANK", "3"},
                            {"MASTER_ADDR", "gpu01"},
                            {"MASTER_PORT", "29500"},
                            {"SLURM_PROCID", "1"},
                            {"SLURM_NTASKS", "2"},
                            {"SLURM_LOCALID", "0"}});
  EXPECT_EQ(info.launcher, "torchrun");
  EXPECT_EQ(info.rank, 11);
  EXPECT_EQ(info.size, 16);
  EXPECT_EQ(info.local_rank, 3);
}

TEST(DetectLaunch, MpichInsideASlurmAllocationIsMpich) {
  LaunchInfo info = detect({{"PMI_RANK", "13"}, {"PMI_SIZE", "16"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}});
  EXPECT_EQ(info.launcher, "mpich");
  EXPECT_EQ(info.rank, 13);
  EXPECT_EQ(info.size, 16);
}

TEST(DetectLaunch, EveryRankOfARunDerivesTheSameToken) {
  // What each launcher sets per rank (rank variables) and per job (the rest).
  struct Case {
    const char* rank_var;
    const char* size_var;
    Env job;
  };
  const Case cases[] = {
      {"SXCOLL_RANK", "SXCOLL_SIZE", {{"SXCOLL_TOKEN", "sxcoll-local-1f2e"}}},
      {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", {{"PMIX_NAMESPACE", "prterun-h-1@1"}}},
      {"SLURM_PROCID", "SLURM_NTASKS", {{"SLURM_JOB_ID", "77"}}},
      {"PMI_RANK", "PMI_SIZE", {}},
      {"RANK", "WORLD_SIZE", {{"TORCHELASTIC_RUN_ID", "none"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}},
  };
  for (const Case& c : cases) {
    std::string first;
    for (int rank = 0; rank < 4; ++rank) {
      Env env = c.job;
      env.emplace(c.rank_var, std::to_string(rank));
      env.emplace(c.size_var, std::to_string(4));
      LaunchInfo info = detect(env);
      EXPECT_EQ(info.rank, rank);
      if (rank == 0) first = info.token;
      EXPECT_EQ(info.token, first) << c.rank_var << " rank " << rank;
    }
    // And a different job gets a different token where the launcher names its jobs.
    if (!c.job.empty()) {
      Env other = c.job;
      for (auto& [name, value] : other)
        if (name != "MASTER_ADDR" && name != "MASTER_PORT") value += "x";
      other.emplace(c.rank_var, std::to_string(0));
      other.emplace(c.size_var, std::to_string(4));
      EXPECT_NE(detect(other).token, first) << c.rank_var;
    }
  }
}

TEST(DetectLaunch, SxcollTokenWinsOverTheLaunchersJobId) {
  EXPECT_EQ(
      detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_JOB_ID", "5"}, {"SXCOLL_TOKEN", "mine"}}).token,
      "mine");
  EXPECT_EQ(detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).token, "srun");
}

TEST(DetectLaunch, MalformedValuesAreUsageErrorsNamingTheVariable) {
  const std::pair<Env, const char*> cases[] = {
      {{{"SXCOLL_RANK", "abc"}, {"SXCOLL_SIZE", "2"}}, "SXCOLL_RANK"},
      {{{"SXCOLL_RANK", ""}, {"SXCOLL_SIZE", "2"}}, "SXCOLL_RANK"},
      {{{"SXCOLL_RANK", "1 "}, {"SXCOLL_SIZE", "2"}}, "SXCOLL_RANK"},
      {{{"SXCOLL_RANK", "0x1"}, {"SXCOLL_SIZE", "2"}}, "SXCOLL_RANK"},
      {{{"SXCOLL_RANK", "1"}, {"SXCOLL_SIZE", "two"}}, "SXCOLL_SIZE"},
      {{{"SXCOLL_RANK", "99999999999"}, {"SXCOLL_SIZE", "2"}}, "SXCOLL_RANK"},
      {{{"OMPI_COMM_WORLD_RANK", "4"}, {"OMPI_COMM_WORLD_SIZE", "4"}}, "OMPI_COMM_WORLD_RANK"},
      {{{"OMPI_COMM_WORLD_RANK", "-1"}, {"OMPI_COMM_WORLD_SIZE", "4"}}, "OMPI_COMM_WORLD_RANK"},
      {{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "0"}}, "SLURM_NTASKS"},
      {{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "-3"}}, "SLURM_NTASKS"},
      {{{"PMI_RANK", "0"}}, "PMI_SIZE"},
      {{{"WORLD_SIZE", "2"}}, "RANK"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "MASTER_PORT"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}}, "MASTER_ADDR"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "zero"}}, "LOCAL_RANK"},
      {{{"SXCOLL_RANK", "0"}, {"SXCOLL_SIZE", "2"}, {"SXCOLL_STORE_FD", "fd3"}}, "SXCOLL_STORE_FD"},
      {{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_STEP_NODELIST", "n1"}, {"SLURM_JOB_ID", "12_3"}},
       "SLURM_JOB_ID"},
  };
  for (const auto& [env, variable] : cases) {
    std::string listing;
    for (const auto& [k, v] : env) listing += k + "='" + v + "' ";
    const std::string message = usage_error(env);
    ASSERT_NE(message, "") << listing << "was accepted";
    EXPECT_NE(message.find(variable), std::string::npos) << listing << ": " << message;
  }
}

TEST(DetectLaunch, AMalformedSxcollLaunchIsNotSkippedForAnotherLauncher) {
  // Half of sxcoll's pair set is an error even when a complete launcher follows.
  EXPECT_NE(usage_error({{"SXCOLL_RANK", "0"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}), "");
}

TEST(FirstSlurmHost, FirstNameOfAHostList) {
  EXPECT_EQ(first_slurm_host("gpu[007-012,015],login1"), "gpu007");
  EXPECT_EQ(first_slurm_host("a,b"), "a");
  EXPECT_EQ(first_slurm_host("node1"), "node1");
  EXPECT_EQ(first_slurm_host("n[1-3]"), "n1");
  EXPECT_EQ(first_slurm_host("n[3,1-2]"), "n3");
  EXPECT_EQ(first_slurm_host("gpu[015]"), "gpu015");
  EXPECT_EQ(first_slurm_host("login1,gpu[1-4]"), "login1") << "a plain name before the first bracket";
  EXPECT_EQ(first_slurm_host("rack[1-2]-gpu"), "rack1-gpu");
  EXPECT_EQ(first_slurm_host("rack[1-2]-gpu,login1"), "rack1-gpu");
  EXPECT_EQ(first_slurm_host("h-a.b.c"), "h-a.b.c");
}

}  // namespace
}  // namespace sxcoll::bootstrap
