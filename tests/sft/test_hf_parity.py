"""Our Llama against Hugging Face's LlamaForCausalLM on the same weights (needs transformers).

Skipped where transformers is missing (CI); run on the GPU machine, whose image has it. It
proves the architecture (rotary convention, GQA, norms, SwiGLU) and the checkpoint loader.
"""

import os
import tempfile
import unittest

import support


@unittest.skipUnless(support.HAVE_TORCH and support.HAVE_TRANSFORMERS, "needs PyTorch and transformers")
class HFParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        cls.tmp = tempfile.TemporaryDirectory()
        torch.manual_seed(0)
        config = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=172, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                             rms_norm_eps=1e-5, tie_word_embeddings=False)
        cls.hf = LlamaForCausalLM(config).float().eval()
        cls.hf.save_pretrained(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_same_logits(self):
        import torch

        from sxcoll_worker.attention import math_attention
        from sxcoll_worker.hf_checkpoint import load_state_dict, read_shape
        from sxcoll_worker.model import Llama

        shape = read_shape(self.tmp.name)
        self.assertEqual((shape.dim, shape.n_layers, shape.n_heads, shape.n_kv_heads, shape.ffn_dim),
                         (64, 2, 4, 2, 172))
        ours = Llama(shape, math_attention).eval()
        ours.load_state_dict(load_state_dict(self.tmp.name, shape), strict=True)
        tokens = torch.randint(0, 512, (2, 48))
        with torch.no_grad():
            ref = self.hf(tokens).logits
            got = ours(tokens)
        self.assertLess(((got - ref).norm() / ref.norm()).item(), 1e-5)

    def test_worker_starts_from_the_checkpoint(self):
        r = support.run_module("sxcoll_worker", ["--checkpoint", self.tmp.name, "--seq-len", "32", "--steps", "2",
                                                 "--warmup-steps", "1", "--precision", "fp32"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(os.path.basename(self.tmp.name), r.stdout.splitlines()[0])

    def test_model_must_match_the_checkpoint(self):
        r = support.run_module("sxcoll_worker", ["--checkpoint", self.tmp.name, "--model", "llama2-7b"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("does not match", r.stderr)


if __name__ == "__main__":
    unittest.main()
