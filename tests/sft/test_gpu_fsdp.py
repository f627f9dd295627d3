"""FSDP on two CUDA GPUs with the tiny shape (skipped without 2 GPUs and FSDP; CI has none).

This is the path CI cannot cover: FSDP full-shard, bf16 mixed precision, the flash
kernel, NCCL, meta-device initialisation, and a checkpoint loaded on rank 0 only.
"""

import json
import math
import os
import tempfile
import unittest

import support


def two_gpus_with_fsdp() -> bool:
    if not support.HAVE_TORCH:
        return False
    import torch

    from sxcoll_worker.parallel import fsdp_status

    return torch.cuda.is_available() and torch.cuda.device_count() >= 2 and fsdp_status()[0]


@unittest.skipUnless(two_gpus_with_fsdp(), "needs 2 CUDA GPUs and a PyTorch with FSDP")
class GpuFsdpTest(unittest.TestCase):
    def run_two(self, extra):
        env = {"CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "0,1") or "0,1"}
        port = str(support.free_port())
        import subprocess
        import sys

        procs = []
        for rank in range(2):
            e = support.worker_env({**env, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
                                    "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port})
            procs.append(subprocess.Popen([sys.executable, "-m", "sxcoll_worker", *extra], env=e, cwd=support.REPO,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (_, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, err)
        return [json.loads(line) for line in outs[0][0].splitlines()]

    def check_training(self, compile_flag):
        lines = self.run_two(["--model", "tiny-gqa", "--seq-len", "128", "--micro-batch", "4",
                              "--grad-accum", "2", "--steps", "8", "--warmup-steps", "2", "--lr", "3e-3",
                              "--activation-checkpointing", "--repeat-batch", compile_flag])
        config, steps, summary = lines[0], lines[1:-1], lines[-1]
        self.assertEqual((config["parallel"], config["backend"]), ("fsdp", "nccl"))
        self.assertEqual(config["attention"], "sdpa-flash")
        losses = [s["loss"] for s in steps]
        self.assertTrue(all(math.isfinite(x) for x in losses))
        self.assertLess(losses[-1], losses[0] - 0.5, losses)
        self.assertIsNotNone(summary["tokens_per_s_per_gpu"])
        self.assertIsNotNone(summary["mfu"])

    def test_fsdp_bf16_flash_loss_falls(self):
        self.check_training("--no-compile")

    def test_fsdp_compiled_ops_loss_falls(self):
        self.check_training("--compile")

    @unittest.skipUnless(support.HAVE_TRANSFORMERS, "needs transformers")
    def test_fsdp_from_checkpoint(self):
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        with tempfile.TemporaryDirectory() as tmp:
            torch.manual_seed(0)
            LlamaForCausalLM(LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=172, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=4,
                                         tie_word_embeddings=False)).save_pretrained(tmp)
            lines = self.run_two(["--checkpoint", tmp, "--seq-len", "64", "--steps", "3", "--warmup-steps", "1"])
            self.assertEqual(lines[0]["checkpoint"], tmp)
            # A trained-from-checkpoint start differs from our init but is still near ln(vocab) for random weights.
            self.assertTrue(math.isfinite(lines[1]["loss"]))


if __name__ == "__main__":
    unittest.main()
