"""DeepSpeed ZeRO-2 and ZeRO-3 against FSDP on one CUDA GPU, the tiny shape (skipped without a
GPU or DeepSpeed; CI has neither).

Same seed, same data (one repeated batch, so that the loss falls fast), the same activation
checkpointing and learning-rate warm-up: every engine's loss must stay finite, fall, and
fall the same way as FSDP's. The engines initialise the weights in a different order (FSDP
materialises unit by unit, zero.Init in construction order), so the curves agree within a
tolerance, not bit for bit.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import support

STEPS = 10
FLAGS = ["--model", "tiny-gqa", "--seq-len", "128", "--micro-batch", "4", "--grad-accum", "2",
         "--steps", str(STEPS), "--warmup-steps", "2", "--lr", "3e-3", "--activation-checkpointing",
         "--repeat-batch", "--no-compile", "--seed", "7"]


def gpu_and_deepspeed() -> bool:
    if not support.HAVE_TORCH:
        return False
    import torch

    if not torch.cuda.is_available():
        return False
    probe = subprocess.run([sys.executable, "-m", "sxcoll_worker.deepspeed_probe"], env=gpu_env(),
                           capture_output=True, text=True, timeout=300)
    return probe.returncode == 0


def gpu_env(extra=None):
    env = support.worker_env({"CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "0") or "0",
                              "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "LOCAL_WORLD_SIZE": "1",
                              "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(support.free_port())})
    env.update(extra or {})
    return env


def ds_config(stage: int) -> dict:
    # What sft_driver/deepspeed_config.cc writes for this shape (sft_deepspeed_config checks that one).
    zero = {"stage": stage, "overlap_comm": True, "contiguous_gradients": True, "reduce_bucket_size": 500000000}
    if stage == 3:
        # A low persistence threshold: the tiny layers are partitioned and gathered, as 7B ones are.
        zero.update(stage3_prefetch_bucket_size=500000000, stage3_param_persistence_threshold=1000)
    return {"train_micro_batch_size_per_gpu": 4, "gradient_accumulation_steps": 2, "train_batch_size": 8,
            "bf16": {"enabled": True}, "gradient_clipping": 1.0, "zero_optimization": zero,
            "optimizer": {"type": "AdamW", "params": {"lr": 3e-3, "betas": [0.9, 0.95], "eps": 1e-8,
                                                      "weight_decay": 0.0}},
            "steps_per_print": STEPS, "wall_clock_breakdown": False}


@unittest.skipUnless(gpu_and_deepspeed(), "needs a CUDA GPU and an importable DeepSpeed")
class GpuDeepSpeedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gpu-ds-")
        cls.runs = {name: cls.train(name, extra) for name, extra in
                    (("fsdp", ["--parallel", "fsdp"]), ("zero2", cls.ds(2)), ("zero3", cls.ds(3)))}

    @classmethod
    def ds(cls, stage):
        path = os.path.join(cls.tmp, f"ds_zero{stage}.json")
        with open(path, "w") as f:
            json.dump(ds_config(stage), f)
        return ["--parallel", "deepspeed", "--deepspeed-config", path]

    @classmethod
    def train(cls, name, extra):
        metrics = os.path.join(cls.tmp, f"{name}.jsonl")
        r = subprocess.run([sys.executable, "-m", "sxcoll_worker", *FLAGS, *extra, "--metrics", metrics],
                           env=gpu_env(), cwd=support.REPO, capture_output=True, text=True, timeout=200)
        if r.returncode != 0:
            raise AssertionError(f"{name}: exit {r.returncode}\n{r.stderr[-4000:]}")
        lines = support.read_jsonl(metrics)
        print(f"{name}: losses {[round(s['loss'], 4) for s in lines if s['type'] == 'step']}", flush=True)
        return lines

    def losses(self, name):
        return [s["loss"] for s in self.runs[name] if s["type"] == "step"]

    def test_engines_as_configured(self):
        configs = {name: lines[0] for name, lines in self.runs.items()}
        self.assertEqual(configs["fsdp"]["parallel"], "fsdp")
        for name, stage in (("zero2", 2), ("zero3", 3)):
            self.assertEqual(configs[name]["parallel"], "deepspeed")
            self.assertEqual(configs[name]["zero_stage"], stage)
            self.assertIn(configs[name]["optimizer"], ("deepspeed-fused-adam", "adamw-fused"))
            self.assertIsNotNone(self.runs[name][-1]["mfu"])

    def test_loss_finite_and_falling_like_fsdp(self):
        fsdp = self.losses("fsdp")
        self.assertEqual(len(fsdp), STEPS)
        self.assertTrue(all(x is not None and math.isfinite(x) for x in fsdp))
        drop = fsdp[0] - fsdp[-1]
        self.assertGreater(drop, 0.5, fsdp)
        for name in ("zero2", "zero3"):
            with self.subTest(engine=name):
                ds = self.losses(name)
                self.assertEqual(len(ds), STEPS)
                self.assertTrue(all(x is not None and math.isfinite(x) for x in ds), ds)
                # Random weights: the same start (ln vocab and a little), then the same fall.
                self.assertAlmostEqual(ds[0], fsdp[0], delta=0.05 * fsdp[0])
                self.assertGreater(ds[0] - ds[-1], 0.5, ds)
                self.assertAlmostEqual(ds[0] - ds[-1], drop, delta=0.25 * drop)
                self.assertTrue(all(abs(a - b) < 0.25 * drop + 0.05 for a, b in zip(ds, fsdp)), (ds, fsdp))

    def test_grad_norm_reported(self):
        for name in ("zero2", "zero3"):
            steps = [s for s in self.runs[name] if s["type"] == "step"]
            self.assertTrue(all(s["grad_norm"] is not None and s["grad_norm"] > 0 for s in steps), name)


if __name__ == "__main__":
    unittest.main()
