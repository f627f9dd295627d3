"""FLOPs-per-token, parameter counts and MFU against numbers worked out by hand."""

import unittest

import support  # noqa: F401  (puts the worker on sys.path)
from sxcoll_worker.flops import flop_param_count, flops_per_token, mfu, peak_bf16_flops
from sxcoll_worker.shapes import SHAPES, param_count


class ParamCountTest(unittest.TestCase):
    def test_llama2_7b(self):
        # per layer: 4*4096^2 (attention) + 3*4096*11008 (MLP) + 2*4096 (norms) = 202,383,360
        # 32 layers + embedding 32000*4096 + head 32000*4096 + final norm 4096
        self.assertEqual(param_count(SHAPES["llama2-7b"]), 32 * 202_383_360 + 2 * 131_072_000 + 4096)
        self.assertEqual(param_count(SHAPES["llama2-7b"]), 6_738_415_616)
        self.assertLess(abs(param_count(SHAPES["llama2-7b"]) / 6.74e9 - 1), 0.005)

    def test_llama2_13b(self):
        # per layer: 4*5120^2 + 3*5120*13824 + 2*5120 = 317,204,480
        self.assertEqual(param_count(SHAPES["llama2-13b"]), 40 * 317_204_480 + 2 * 163_840_000 + 5120)
        self.assertLess(abs(param_count(SHAPES["llama2-13b"]) / 13.016e9 - 1), 0.005)

    def test_llama2_70b_grouped_query(self):
        # K and V are 8 heads of 128 = 1024 wide: 2*8192^2 + 2*8192*1024 = 150,994,944
        # MLP 3*8192*28672 = 704,643,072; norms 16,384 -> 855,654,400 per layer
        self.assertEqual(param_count(SHAPES["llama2-70b"]), 80 * 855_654_400 + 2 * 262_144_000 + 8192)
        self.assertLess(abs(param_count(SHAPES["llama2-70b"]) / 68.98e9 - 1), 0.005)


class FlopsTest(unittest.TestCase):
    def test_flop_params_leave_out_the_input_embedding_only(self):
        s = SHAPES["llama2-7b"]
        self.assertEqual(flop_param_count(s), 6_738_415_616 - 131_072_000)

    def test_7b_per_token(self):
        s = SHAPES["llama2-7b"]
        # 6 * 6,607,343,616 = 39,644,061,696; attention 12 * 32 * 4096 * T
        self.assertEqual(flops_per_token(s, 4096), 39_644_061_696 + 6_442_450_944)
        self.assertEqual(flops_per_token(s, 4096), 46_086_512_640)
        self.assertEqual(flops_per_token(s, 2048), 39_644_061_696 + 3_221_225_472)

    def test_mfu(self):
        # 20,000 tokens/s over 2 H200s: 46,086,512,640 * 20,000 / (2 * 989.4e12) = 0.465802...
        value = mfu(flops_per_token(SHAPES["llama2-7b"], 4096), 20_000.0, 2, 989.4e12)
        self.assertAlmostEqual(value, 921_730_252_800_000 / 1_978_800_000_000_000, places=12)
        self.assertAlmostEqual(value, 0.4658, places=4)
        self.assertIsNone(mfu(1e9, 1000.0, 2, None))

    def test_peak_table(self):
        self.assertEqual(peak_bf16_flops("NVIDIA H200"), 989.4e12)
        self.assertEqual(peak_bf16_flops("NVIDIA H100 80GB HBM3"), 989.4e12)
        self.assertEqual(peak_bf16_flops("NVIDIA H100 PCIe"), 756.5e12)
        self.assertEqual(peak_bf16_flops("NVIDIA H200 NVL"), 835.5e12)
        self.assertEqual(peak_bf16_flops("NVIDIA A100-SXM4-80GB"), 312e12)
        self.assertIsNone(peak_bf16_flops("cpu"))


if __name__ == "__main__":
    unittest.main()
