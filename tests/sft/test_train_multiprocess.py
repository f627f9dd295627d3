"""The worker end to end: the tiny shape, 2 ranks as local processes (gloo on CPU).

One run of 8 steps on a repeated batch (gradient accumulation, activation checkpointing,
grouped-query attention) checks the loss falls and every metrics line; a second run reads
a packed file made by prepare; a third loses its peer and must fail, not hang.
"""

import json
import math
import os
import tempfile
import time
import unittest

import support

STEPS, WARMUP, MB, GA, SEQ, WORLD = 8, 2, 2, 2, 64, 2
STEP_FIELDS = {"schema": int, "type": str, "step": int, "warmup": bool, "step_time_s": float, "tokens": int,
               "samples": int, "loss": float, "loss_status": str, "grad_norm": float, "lr": float,
               "peak_mem_bytes": int, "peak_reserved_bytes": int, "rank_step_time_s": list,
               "rank_peak_mem_bytes": list}
CONFIG_FIELDS = ("model", "shape", "param_count", "flops_per_token", "seq_len", "micro_batch", "grad_accum",
                 "compile", "rank_matmul_tflops",
                 "precision", "activation_checkpointing", "parallel", "parallel_reason", "attention",
                 "attention_reason", "torch_version", "device_name", "world_size", "rank_hosts", "backend",
                 "tokens_per_step", "optimizer", "data")
SUMMARY_FIELDS = ("steps", "steady_steps", "time_s", "tokens", "samples", "samples_per_s", "tokens_per_s",
                  "tokens_per_s_per_gpu", "flops_per_token", "mfu", "peak_mem_bytes", "rank_step_time_mean_s")


@unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
class TwoRankTrainingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.metrics = os.path.join(cls.tmp.name, "metrics.jsonl")
        cls.results = support.run_ranks(WORLD, [
            "--model", "tiny-gqa", "--seq-len", str(SEQ), "--micro-batch", str(MB), "--grad-accum", str(GA),
            "--steps", str(STEPS), "--warmup-steps", str(WARMUP), "--precision", "fp32", "--lr", "3e-3",
            "--activation-checkpointing", "--repeat-batch", "--metrics", cls.metrics])
        cls.lines = support.read_jsonl(cls.metrics) if os.path.exists(cls.metrics) else []

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_ranks_succeed_and_only_rank_0_reports(self):
        for r in self.results:
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([json.loads(line) for line in self.results[0].stdout.splitlines()], self.lines)
        self.assertEqual(self.results[1].stdout, "")

    def test_line_sequence(self):
        self.assertEqual([x["type"] for x in self.lines], ["config"] + ["step"] * STEPS + ["summary"])

    def test_config_line(self):
        config = self.lines[0]
        for field in CONFIG_FIELDS:
            self.assertIn(field, config)
        self.assertIn(config["parallel"], ("ddp", "fsdp"))
        self.assertIn(config["attention"], ("math", "sdpa"))
        self.assertEqual((config["world_size"], config["backend"], config["device_type"]), (WORLD, "gloo", "cpu"))
        self.assertEqual(len(config["rank_hosts"]), WORLD)
        self.assertEqual(len(config["rank_matmul_tflops"]), WORLD)
        self.assertTrue(all(x > 0 for x in config["rank_matmul_tflops"]))
        self.assertEqual(config["tokens_per_step"], WORLD * GA * MB * SEQ)
        self.assertEqual(config["param_count"], 156_480)
        self.assertTrue(config["parallel_reason"] and config["attention_reason"])

    def test_step_lines(self):
        steps = self.lines[1:-1]
        for i, s in enumerate(steps, start=1):
            for field, kind in STEP_FIELDS.items():
                self.assertIsInstance(s[field], kind, f"step {i}: {field}")
            self.assertEqual(s["step"], i)
            self.assertEqual(s["warmup"], i <= WARMUP)
            self.assertEqual(s["tokens"], WORLD * GA * MB * SEQ)
            self.assertEqual(s["samples"], WORLD * GA * MB)
            self.assertEqual(len(s["rank_step_time_s"]), WORLD)
            self.assertEqual(s["step_time_s"], max(s["rank_step_time_s"]))
            self.assertGreater(s["peak_mem_bytes"], 0)
            self.assertEqual(s["loss_status"], "ok")
            self.assertTrue(math.isfinite(s["loss"]))
        self.assertAlmostEqual(steps[0]["lr"], 3e-3 / WARMUP)
        self.assertAlmostEqual(steps[-1]["lr"], 3e-3)

    def test_loss_falls_on_a_repeated_batch(self):
        losses = [s["loss"] for s in self.lines[1:-1]]
        self.assertAlmostEqual(losses[0], math.log(512), delta=0.2)
        self.assertLess(losses[-1], losses[0] - 0.5, losses)
        falls = sum(b < a for a, b in zip(losses, losses[1:]))
        self.assertGreaterEqual(falls, len(losses) - 2, losses)

    def test_summary_is_consistent(self):
        summary, steady = self.lines[-1], [s for s in self.lines[1:-1] if not s["warmup"]]
        for field in SUMMARY_FIELDS:
            self.assertIn(field, summary)
        self.assertEqual(summary["steady_steps"], STEPS - WARMUP)
        self.assertEqual(summary["tokens"], sum(s["tokens"] for s in steady))
        self.assertAlmostEqual(summary["time_s"], sum(s["step_time_s"] for s in steady))
        self.assertAlmostEqual(summary["tokens_per_s"], summary["tokens"] / summary["time_s"])
        self.assertAlmostEqual(summary["tokens_per_s_per_gpu"], summary["tokens_per_s"] / WORLD)
        self.assertAlmostEqual(summary["samples_per_s"], summary["samples"] / summary["time_s"])
        self.assertIsNone(summary["mfu"])  # no GPU, no peak
        self.assertEqual(len(summary["rank_step_time_mean_s"]), WORLD)
        self.assertEqual(summary["loss_last"], self.lines[-2]["loss"])


@unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
class PackedDataAndFailureTest(unittest.TestCase):
    def test_packed_file_in_bf16(self):
        with tempfile.TemporaryDirectory() as tmp:
            alpaca = os.path.join(tmp, "alpaca.json")
            with open(alpaca, "w") as f:
                json.dump([{"instruction": f"Count to {i}.", "input": "", "output": " ".join(map(str, range(i)))}
                           for i in range(40)], f)
            stem = os.path.join(tmp, "tokens")
            r = support.run_module("sxcoll_worker.prepare", ["--input", alpaca, "--output", stem, "--seq-len", "32"])
            self.assertEqual(r.returncode, 0, r.stderr)
            metrics = os.path.join(tmp, "m.jsonl")
            results = support.run_ranks(2, ["--model", "tiny", "--seq-len", "32", "--micro-batch", "2",
                                            "--steps", "3", "--warmup-steps", "1", "--precision", "bf16",
                                            "--data", stem + ".json", "--metrics", metrics])
            for res in results:
                self.assertEqual(res.returncode, 0, res.stderr)
            lines = support.read_jsonl(metrics)
            self.assertEqual(lines[0]["data"]["kind"], "packed")
            self.assertTrue(all(math.isfinite(x["loss"]) for x in lines[1:-1]))

    def test_a_missing_peer_fails_within_the_deadline(self):
        start = time.monotonic()
        (r,) = support.run_ranks(2, ["--model", "tiny", "--seq-len", "16", "--steps", "2", "--warmup-steps", "1",
                                     "--timeout-s", "3"], ranks=[0], timeout=60)
        self.assertLess(time.monotonic() - start, 45)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotEqual(r.returncode, 2)  # not a usage error: the run started and its peer never came
        self.assertIn("sxcoll-worker: error: rank 0:", r.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    unittest.main()
