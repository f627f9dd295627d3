"""Causal self-attention kernels: PyTorch's SDPA (flash on CUDA) or a plain math version.

The math version exists for old PyTorch (1.13 has no F.scaled_dot_product_attention) and
as the reference the tests compare SDPA against. Both take (batch, heads, seq, head_dim).
"""

import math
from typing import Callable, Tuple

import torch
import torch.nn.functional as F

AttentionFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def sdpa_available() -> bool:
    return hasattr(F, "scaled_dot_product_attention")


def sdpa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def math_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    seq = q.shape[-2]
    scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    future = torch.ones(seq, seq, dtype=torch.bool, device=q.device).triu(1)
    scores = scores.masked_fill(future, float("-inf"))
    # softmax in fp32: bf16 loses too much in the normaliser's sum
    probs = torch.softmax(scores.float(), dim=-1).to(v.dtype)
    return torch.matmul(probs, v)


def _flash_only_if_usable(device: torch.device, dtype: torch.dtype, head_dim: int) -> Tuple[bool, str]:
    """Probe the flash kernel on this device and, if it runs, make SDPA use nothing else.

    The issue asks for flash attention; SDPA would silently fall back to another kernel
    (memory-efficient, cuDNN or math) when flash cannot run, so we probe once and pin it.
    """
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:  # torch < 2.3
        return False, "torch.nn.attention.sdpa_kernel missing; SDPA picks its kernel itself"
    q = torch.randn(1, 2, 128, head_dim, device=device, dtype=dtype, requires_grad=True)
    try:
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            F.scaled_dot_product_attention(q, q, q, is_causal=True).sum().backward()
    except RuntimeError as exc:
        return False, f"flash kernel not usable here ({str(exc).splitlines()[0][:120]}); SDPA picks its kernel itself"
    torch.backends.cuda.enable_flash_sdp(True)
    torch.backends.cuda.enable_mem_efficient_sdp(False)
    torch.backends.cuda.enable_math_sdp(False)
    if hasattr(torch.backends.cuda, "enable_cudnn_sdp"):
        torch.backends.cuda.enable_cudnn_sdp(False)
    return True, "flash kernel probed and pinned"


def choose_attention(requested: str, device: torch.device, dtype: torch.dtype,
                     head_dim: int) -> Tuple[str, AttentionFn, str]:
    """Return (label for the metrics, kernel, why). `requested` is auto, sdpa or math.

    The caller has already rejected `sdpa` where it does not exist (a usage error).
    """
    if requested == "math":
        return "math", math_attention, "requested with --attention math"
    if not sdpa_available():
        return "math", math_attention, f"torch {torch.__version__} has no F.scaled_dot_product_attention"
    why = "requested with --attention sdpa" if requested == "sdpa" else "F.scaled_dot_product_attention exists"
    if device.type == "cuda" and dtype in (torch.bfloat16, torch.float16):
        pinned, note = _flash_only_if_usable(device, dtype, head_dim)
        return ("sdpa-flash" if pinned else "sdpa"), sdpa_attention, f"{why}; {note}"
    return "sdpa", sdpa_attention, f"{why}; no flash kernel for {device.type}/{str(dtype).replace('torch.', '')}"
