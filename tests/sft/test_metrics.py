"""Step and summary records: strict JSON, NaN reported as such, the summary's arithmetic."""

import io
import json
import math
import os
import tempfile
import unittest
from contextlib import redirect_stdout

import support

if support.HAVE_TORCH:  # metrics.py imports torch for the memory figures
    from sxcoll_worker.metrics import MetricsWriter, step_record, summary_record


@unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
class MetricsTest(unittest.TestCase):
    def rows(self, t0, t1, loss=2.0):
        # [step_time_s, loss, grad_norm, peak_allocated, peak_reserved] for ranks 0 and 1
        return [[t0, loss, 1.5, 100.0, 120.0], [t1, loss + 0.2, 1.5, 110.0, 130.0]]

    def test_step_record(self):
        r = step_record(3, False, self.rows(1.0, 1.25), tokens=8192, samples=4, lr=1e-4)
        self.assertEqual(r["step_time_s"], 1.25)  # the slowest rank ends the step
        self.assertEqual(r["rank_step_time_s"], [1.0, 1.25])
        self.assertAlmostEqual(r["loss"], 2.1)   # mean over ranks
        self.assertEqual((r["peak_mem_bytes"], r["peak_reserved_bytes"]), (110, 130))
        self.assertEqual(r["loss_status"], "ok")

    def test_nan_loss_is_reported_and_json_stays_strict(self):
        r = step_record(1, True, self.rows(1.0, 1.0, loss=float("nan")), 10, 1, 1e-4)
        self.assertIsNone(r["loss"])
        self.assertEqual(r["loss_status"], "nan")
        r_inf = step_record(1, True, self.rows(1.0, 1.0, loss=float("inf")), 10, 1, 1e-4)
        self.assertEqual(r_inf["loss_status"], "inf")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.jsonl")
            w = MetricsWriter(path, enabled=True)
            out = io.StringIO()
            with redirect_stdout(out):
                w.write(r)
            w.close()
            with open(path) as f:
                line = f.read().strip()
            self.assertEqual(line, out.getvalue().strip())
            self.assertNotIn("NaN", line)
            self.assertIsNone(json.loads(line)["loss"])

    def test_summary_uses_the_steady_steps(self):
        steps = [step_record(i + 1, i < 2, self.rows(t, t), tokens=4096, samples=2, lr=1e-4)
                 for i, t in enumerate([9.0, 3.0, 2.0, 2.0, 4.0])]
        s = summary_record(steps, world_size=2, on_gpus=True, flops_per_token=1_000_000_000,
                           peak_flops=1e12, mem_total_bytes=1000)
        self.assertEqual((s["steps"], s["steady_steps"]), (5, 3))
        self.assertEqual((s["tokens"], s["samples"], s["time_s"]), (3 * 4096, 6, 8.0))
        self.assertAlmostEqual(s["tokens_per_s"], 3 * 4096 / 8.0)
        self.assertAlmostEqual(s["tokens_per_s_per_gpu"], 3 * 4096 / 8.0 / 2)
        self.assertAlmostEqual(s["samples_per_s"], 6 / 8.0)
        self.assertAlmostEqual(s["mfu"], 1e9 * (3 * 4096 / 8.0) / (2 * 1e12))
        self.assertEqual(s["step_time_median_s"], 2.0)
        self.assertEqual(s["headroom_bytes"], 1000 - 130)
        cpu = summary_record(steps, 2, False, 1_000_000_000, None, None)
        self.assertIsNone(cpu["mfu"])
        self.assertEqual(cpu["n_gpus"], 0)
        self.assertTrue(math.isfinite(cpu["tokens_per_s"]))


if __name__ == "__main__":
    unittest.main()
