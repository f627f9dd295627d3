"""Model FLOPs per token and MFU, written down once so that every report uses the same formula.

    model FLOPs per token = 6 * N + 12 * L * d * T

  * 6N: forward (2 FLOPs per multiply-add per weight) plus backward (twice the forward) for
    every weight that takes part in a matrix product. **N is every parameter except the
    input token-embedding table**: that table is read by a lookup and does no arithmetic,
    while the output head (d x vocab) is a real matrix product and counts. RMSNorm weights
    are counted too (negligible). With tied embeddings the one table counts once, as the
    head. For Llama-2-7B: N = 6,738,415,616 - 131,072,000 = 6,607,343,616. (This is
    torchtitan's convention; counting all parameters instead would add 6 * 131M FLOPs per
    token, +1.7 % MFU for 7B at T = 4096.)
  * 12 * L * d * T: attention scores and the weighted sum of values (QK^T and AV: 2 matrix
    products of T x d per token per layer, 2 FLOPs each, x3 for forward plus backward), as
    in the PaLM paper's appendix B (12 * L * H * Q * T with H * Q = d). It counts the full
    T x T score matrix although causal attention needs only half of it: that is the
    convention, kept so that numbers compare with published MFU figures.
  * Not counted: activation-checkpointing recomputation (that would be hardware FLOPs
    utilisation, HFU), norms, rotary embeddings, softmax, the loss, the optimizer.

    MFU = model FLOPs per token * tokens/s / (number of GPUs * peak dense bf16 FLOP/s per GPU)
"""

from typing import Optional

from .shapes import ModelShape, embedding_param_count, param_count


def flop_param_count(s: ModelShape) -> int:
    """N of the 6N term (see module docstring)."""
    n = param_count(s)
    if not s.tie_embeddings:
        n -= embedding_param_count(s)
    return n


def flops_per_token(s: ModelShape, seq_len: int) -> int:
    return 6 * flop_param_count(s) + 12 * s.n_layers * s.dim * seq_len


# Dense (no sparsity) bf16 tensor-core peak per GPU, from NVIDIA's datasheets. The first
# entry whose key occurs in torch.cuda.get_device_name() wins, so variants come first.
PEAK_BF16_FLOPS = (
    ("H200 NVL", 835.5e12),
    ("H200", 989.4e12),        # H200 SXM: same tensor cores as H100 SXM
    ("GH200", 989.4e12),
    ("H100 NVL", 835.5e12),
    ("H100 PCIe", 756.5e12),
    ("H100", 989.4e12),        # "NVIDIA H100 80GB HBM3" is the SXM part
    ("H800", 989.4e12),
    ("A100", 312e12),
    ("A800", 312e12),
)


def peak_bf16_flops(device_name: str) -> Optional[float]:
    """Peak dense bf16 FLOP/s for a CUDA device name; None when unknown (or a CPU)."""
    for key, peak in PEAK_BF16_FLOPS:
        if key.lower() in device_name.lower():
            return peak
    return None


def mfu(flops_per_tok: float, tokens_per_s: float, n_gpus: int, peak_per_gpu: Optional[float]) -> Optional[float]:
    if not peak_per_gpu or n_gpus <= 0:
        return None
    return flops_per_tok * tokens_per_s / (n_gpus * peak_per_gpu)
