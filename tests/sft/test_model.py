"""The Llama modules: parameter count, causality, kernels agree, checkpointing is exact."""

import math
import unittest

import support

if support.HAVE_TORCH:
    import torch

    from sxcoll_worker.attention import math_attention, sdpa_attention, sdpa_available
    from sxcoll_worker.model import Llama, causal_lm_loss
    from sxcoll_worker.shapes import SHAPES, param_count


def tiny(name="tiny", attention=None):
    torch.manual_seed(0)
    return Llama(SHAPES[name], attention or math_attention)


@unittest.skipUnless(support.HAVE_TORCH, support.NO_TORCH)
class ModelTest(unittest.TestCase):
    def test_parameter_count_matches_the_formula(self):
        for name in ("tiny", "tiny-gqa"):
            model = tiny(name)
            self.assertEqual(sum(p.numel() for p in model.parameters()), param_count(SHAPES[name]))

    def test_logits_shape_and_initial_loss(self):
        model = tiny()
        tokens = torch.randint(0, 512, (2, 32))
        logits = model(tokens)
        self.assertEqual(tuple(logits.shape), (2, 32, 512))
        # Small random weights give near-uniform predictions: loss close to ln(vocab).
        self.assertAlmostEqual(causal_lm_loss(logits, tokens).item(), math.log(512), delta=0.1)

    def test_causal(self):
        for name in ("tiny", "tiny-gqa"):
            model = tiny(name).eval()
            tokens = torch.randint(0, 512, (1, 24))
            changed = tokens.clone()
            changed[0, 16] = (changed[0, 16] + 1) % 512
            with torch.no_grad():
                a, b = model(tokens), model(changed)
            self.assertTrue(torch.equal(a[0, :16], b[0, :16]), "a later token changed an earlier prediction")
            self.assertFalse(torch.allclose(a[0, 16:], b[0, 16:]))

    def test_loss_ignores_the_last_position(self):
        logits = torch.zeros(1, 4, 8)
        logits[0, :3, 5] = 100.0  # positions 0..2 predict token 5 with certainty
        tokens = torch.tensor([[1, 5, 5, 5]])
        self.assertAlmostEqual(causal_lm_loss(logits, tokens).item(), 0.0, places=5)

    @unittest.skipUnless(support.HAVE_TORCH and sdpa_available(), "this PyTorch has no scaled_dot_product_attention")
    def test_sdpa_matches_math(self):
        q, k, v = (torch.randn(2, 4, 33, 16) for _ in range(3))
        ref = math_attention(q.double(), k.double(), v.double())
        # fp32 arithmetic, kernels summing in different orders: far under 1e-5 (seen: 5e-8)
        self.assertLess(((sdpa_attention(q, k, v).double() - ref).norm() / ref.norm()).item(), 1e-5)
        self.assertLess(((math_attention(q, k, v).double() - ref).norm() / ref.norm()).item(), 1e-5)

    def test_activation_checkpointing_gives_the_same_gradients(self):
        tokens = torch.randint(0, 512, (2, 16))
        grads = []
        for every in (0, 1, 2):
            model = tiny("tiny-gqa")
            model.set_activation_checkpointing(every)
            causal_lm_loss(model(tokens), tokens).backward()
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
        self.assertTrue(torch.allclose(grads[0], grads[1], rtol=1e-5, atol=1e-7))
        self.assertTrue(torch.allclose(grads[0], grads[2], rtol=1e-5, atol=1e-7))

    def test_rotary_encodes_relative_position(self):
        # Attention scores of rotated q, k depend on the distance between positions only.
        from sxcoll_worker.model import apply_rotary, rotary_tables

        cos, sin = rotary_tables(40, 16, 10000.0, torch.device("cpu"))
        q = torch.randn(16, dtype=torch.float64)
        k = torch.randn(16, dtype=torch.float64)
        rq = apply_rotary(q.expand(1, 40, 1, 16), cos.double(), sin.double())[0, :, 0]
        rk = apply_rotary(k.expand(1, 40, 1, 16), cos.double(), sin.double())[0, :, 0]
        self.assertAlmostEqual((rq[10] @ rk[3]).item(), (rq[30] @ rk[23]).item(), places=5)


if __name__ == "__main__":
    unittest.main()
