"""Bad flags and a bad environment: exit code 2 and exactly one line, before any work."""

import json
import os
import tempfile
import unittest

import support

TINY = ["--model", "tiny", "--seq-len", "32", "--steps", "2", "--warmup-steps", "1"]


class BadInputTest(unittest.TestCase):
    def assert_one_line_exit_2(self, args, fragment, env=None):
        r = support.run_module("sxcoll_worker", args, env)
        self.assertEqual(r.returncode, 2, f"{args}: rc {r.returncode}\n{r.stderr}")
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"{args}: expected one line, got:\n{r.stderr}")
        self.assertTrue(lines[0].startswith("sxcoll-worker: error: "), lines[0])
        self.assertIn(fragment, lines[0])
        self.assertEqual(r.stdout, "")

    def test_flags_rejected_while_parsing(self):
        cases = [
            (["--model", "llama3-8b"], "invalid choice"),
            (["--micro-batch", "0"], "--micro-batch must be at least 1"),
            (["--grad-accum", "-2"], "--grad-accum must be at least 1"),
            (["--seq-len", "x"], "invalid int value"),
            (["--seq-len", "1"], "--seq-len must be at least 2"),
            (["--steps", "3", "--warmup-steps", "3"], "must exceed --warmup-steps"),
            (["--warmup-steps", "-1"], "--warmup-steps must be 0 or more"),
            (["--lr", "0"], "--lr must be positive"),
            (["--precision", "fp8"], "invalid choice"),
            (["--bogus"], "unrecognized arguments: --bogus"),
            (["--metrics", "/nonexistent-dir/m.jsonl"], "does not exist"),
            (["--checkpoint", "/nonexistent-ckpt"], "not a directory"),
        ]
        for args, fragment in cases:
            with self.subTest(args=args):
                self.assert_one_line_exit_2(TINY + args, fragment)

    @unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
    def test_checks_that_need_torch(self):
        self.assert_one_line_exit_2(TINY + ["--data", "/nonexistent/tokens"], "does not exist")
        with tempfile.TemporaryDirectory() as tmp:
            bogus = os.path.join(tmp, "x")
            for ext in (".bin", ".json"):
                with open(bogus + ext, "w") as f:
                    f.write("{}")
            self.assert_one_line_exit_2(TINY + ["--data", bogus], "header")

    @unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
    def test_environment(self):
        self.assert_one_line_exit_2(TINY, "MASTER_ADDR is not set",
                                    {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_PORT": "1"})
        self.assert_one_line_exit_2(TINY, "do not fit WORLD_SIZE=2",
                                    {"WORLD_SIZE": "2", "RANK": "2", "LOCAL_RANK": "0",
                                     "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"})
        self.assert_one_line_exit_2(TINY, "RANK='one' is not an integer",
                                    {"WORLD_SIZE": "2", "RANK": "one", "LOCAL_RANK": "0"})

    @unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
    def test_what_this_pytorch_lacks(self):
        import torch.nn.functional as F

        from sxcoll_worker.parallel import fsdp_status

        if not fsdp_status()[0]:
            self.assert_one_line_exit_2(TINY + ["--parallel", "fsdp"], "--parallel fsdp")
        if not hasattr(F, "scaled_dot_product_attention"):
            self.assert_one_line_exit_2(TINY + ["--attention", "sdpa"], "--attention sdpa")
        if not support.HAVE_TRANSFORMERS:
            with tempfile.TemporaryDirectory() as tmp:
                self.assert_one_line_exit_2(TINY + ["--checkpoint", tmp], "needs the transformers package")

    def test_deepspeed_config_against_the_flags(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ds_config.json")
            cfg = {"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1, "train_batch_size": 1,
                   "bf16": {"enabled": True}, "gradient_clipping": 1.0, "zero_optimization": {"stage": 3}}
            cases = [
                ({}, ["--parallel", "deepspeed"], "--parallel deepspeed needs --deepspeed-config"),
                ({}, ["--deepspeed-config", path], "--deepspeed-config needs --parallel deepspeed"),
                ({"zero_optimization": {"stage": 1}}, [], "zero_optimization.stage is 1 but the worker runs ZeRO stage 2 or 3"),
                ({"train_micro_batch_size_per_gpu": 4}, [], "train_micro_batch_size_per_gpu is 4 but --micro-batch is 1"),
                ({"bf16": {"enabled": False}}, [], "bf16.enabled is false but --precision is bf16"),
                ({"scheduler": {"type": "WarmupLR"}}, [], "the worker sets the learning rate itself"),
                ({"optimizer": {"type": "AdamW", "params": {"lr": 1e-3}}}, [], "optimizer.params.lr is 0.001 but --lr is 2e-05"),
            ]
            for change, flags, fragment in cases:
                with self.subTest(fragment=fragment):
                    with open(path, "w") as f:
                        json.dump({**cfg, **change}, f)
                    args = flags or ["--parallel", "deepspeed", "--deepspeed-config", path]
                    self.assert_one_line_exit_2(TINY + args, fragment)
            with open(path, "w") as f:
                f.write("{")
            self.assert_one_line_exit_2(TINY + ["--parallel", "deepspeed", "--deepspeed-config", path], "not valid JSON")

    @unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
    def test_deepspeed_not_importable(self):
        import importlib.util

        if importlib.util.find_spec("deepspeed") is not None:
            self.skipTest("DeepSpeed is importable here")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ds_config.json")
            with open(path, "w") as f:
                json.dump({"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1,
                           "bf16": {"enabled": True}, "gradient_clipping": 1.0, "zero_optimization": {"stage": 2}}, f)
            self.assert_one_line_exit_2(TINY + ["--parallel", "deepspeed", "--deepspeed-config", path],
                                        "--parallel deepspeed: DeepSpeed is not importable by ")
            r = support.run_module("sxcoll_worker", TINY + ["--parallel", "deepspeed", "--deepspeed-config", path])
            self.assertIn("PYTHONPATH=DIR", r.stderr)

    def test_help(self):
        r = support.run_module("sxcoll_worker", ["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--activation-checkpointing", r.stdout)


if __name__ == "__main__":
    unittest.main()
