// The launchers' command lines, as --dry-run prints them, against what an operator would type.
#include <gtest/gtest.h>

#include "sft_driver/launcher.h"

namespace sxcoll::sft {
namespace {

struct Fixture {
  RunSpec run;
  LaunchContext ctx;
  Fixture() {
    run.id = "llama2-7b-n2-mb8-ga16";
    run.model = "llama2-7b";
    run.nodes = 2;
    run.ranks_per_node = 8;
    run.micro_batch = 8;
    run.grad_accum = 16;
    run.steps = 700;
    run.warmup_steps = 200;
    run.activation_checkpointing = true;
    ctx.hosts = {{"gpu-a01", "10.0.0.11", 8, {}, false, ""}, {"gpu-a03", "10.0.0.13", 8, {}, false, ""}};
    ctx.python = "python3";
    ctx.worker_dir = "/opt/sxcoll/sft_driver/worker";
    ctx.rank_env_script = "/opt/sxcoll/sft_driver/launch/rank_env.sh";
    ctx.metrics_path = "/r/m.jsonl";
    ctx.master_addr = "10.0.0.11";
    ctx.master_port = 29500;
    ctx.nccl.vars = {{"NCCL_IB_HCA", "mlx5_0:1,mlx5_1:1"}, {"NCCL_IB_GID_INDEX", "3"}};
  }
};

const std::string kWorker =
    "python3 -m sxcoll_worker --model llama2-7b --seq-len 4096 --micro-batch 8 --grad-accum 16 --steps 700 "
    "--warmup-steps 200 --precision bf16 --parallel fsdp --device auto --data synthetic --activation-checkpointing "
    "--metrics /r/m.jsonl";

TEST(Launchers, Slurm) {
  Fixture f;
  auto cmds = make_launcher("slurm")->commands(f.run, f.ctx);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(shell_line(cmds[0]),
            "NCCL_IB_HCA=mlx5_0:1,mlx5_1:1 NCCL_IB_GID_INDEX=3 PYTHONPATH=/opt/sxcoll/sft_driver/worker "
            "PYTHONUNBUFFERED=1 MASTER_ADDR=10.0.0.11 MASTER_PORT=29500 srun --nodes=2 --ntasks-per-node=8 "
            "--gpus-per-node=8 --nodelist=gpu-a01,gpu-a03 --kill-on-bad-exit=1 --export=ALL "
            "/opt/sxcoll/sft_driver/launch/rank_env.sh " + kWorker);
  EXPECT_EQ(shell_line(*make_launcher("slurm")->host_check(f.ctx.hosts[1])),
            "srun --nodes=1 --ntasks=1 --nodelist=gpu-a03 --time=1 true");
}

TEST(Launchers, SlurmCpuRunAsksForNoGpus) {
  Fixture f;
  f.run.device = "cpu";
  const std::string line = shell_line(make_launcher("slurm")->commands(f.run, f.ctx)[0]);
  EXPECT_EQ(line.find("--gpus"), std::string::npos) << line;
  EXPECT_NE(line.find("srun --nodes=2 --ntasks-per-node=8 --nodelist=gpu-a01,gpu-a03 --kill-on-bad-exit=1"),
            std::string::npos)
      << line;
}

TEST(Launchers, Pdsh) {
  Fixture f;
  auto cmds = make_launcher("pdsh")->commands(f.run, f.ctx);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(shell_line(cmds[0]),
            "pdsh -R ssh -S -w 10.0.0.11,10.0.0.13 'env NCCL_IB_HCA=mlx5_0:1,mlx5_1:1 NCCL_IB_GID_INDEX=3 "
            "PYTHONPATH=/opt/sxcoll/sft_driver/worker PYTHONUNBUFFERED=1 MASTER_ADDR=10.0.0.11 MASTER_PORT=29500 "
            "python3 -m torch.distributed.run --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d "
            "--rdzv_endpoint=10.0.0.11:29500 --rdzv_id=llama2-7b-n2-mb8-ga16 -m sxcoll_worker --model llama2-7b "
            "--seq-len 4096 --micro-batch 8 --grad-accum 16 --steps 700 --warmup-steps 200 --precision bf16 "
            "--parallel fsdp --device auto --data synthetic --activation-checkpointing --metrics /r/m.jsonl'");
  EXPECT_EQ(shell_line(*make_launcher("pdsh")->host_check(f.ctx.hosts[0])),
            "ssh -o BatchMode=yes -o ConnectTimeout=10 10.0.0.11 true");
}

TEST(Launchers, Mpirun) {
  Fixture f;
  auto cmds = make_launcher("mpirun")->commands(f.run, f.ctx);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(shell_line(cmds[0]),
            "mpirun -np 16 -H 10.0.0.11:8,10.0.0.13:8 --map-by ppr:8:node --bind-to none "
            "-x NCCL_IB_HCA=mlx5_0:1,mlx5_1:1 -x NCCL_IB_GID_INDEX=3 -x PYTHONPATH=/opt/sxcoll/sft_driver/worker "
            "-x PYTHONUNBUFFERED=1 -x MASTER_ADDR=10.0.0.11 -x MASTER_PORT=29500 "
            "/opt/sxcoll/sft_driver/launch/rank_env.sh " + kWorker);
}

TEST(Launchers, LocalStartsOneProcessPerRankWithTorchrunsVariables) {
  Fixture f;
  f.run.nodes = 1;
  f.run.ranks_per_node = 2;
  f.ctx.hosts.clear();
  f.ctx.master_addr = "127.0.0.1";
  auto cmds = make_launcher("local")->commands(f.run, f.ctx);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[1].log_name, "rank1.log");
  EXPECT_EQ(shell_line(cmds[1]),
            "NCCL_IB_HCA=mlx5_0:1,mlx5_1:1 NCCL_IB_GID_INDEX=3 PYTHONPATH=/opt/sxcoll/sft_driver/worker "
            "PYTHONUNBUFFERED=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 RANK=1 LOCAL_RANK=1 WORLD_SIZE=2 "
            "LOCAL_WORLD_SIZE=2 " + kWorker);
  EXPECT_FALSE(make_launcher("local")->host_check(f.ctx.hosts.empty() ? Host{} : f.ctx.hosts[0]));
}

TEST(Launchers, UnknownNameIsAUsageError) {
  EXPECT_THROW(make_launcher("ssh-loop"), std::exception);
}

}  // namespace
}  // namespace sxcoll::sft
