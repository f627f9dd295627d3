"""The Llama architecture in plain PyTorch (Llama-2 as in Meta's reference and Hugging Face).

Pre-norm decoder layers: RMSNorm -> attention with rotary position embeddings (grouped-query
when n_kv_heads < n_heads) -> residual; RMSNorm -> SwiGLU MLP -> residual. No biases.
Parameter names follow the layout of Hugging Face's LlamaForCausalLM closely enough for
hf_checkpoint.py to map them one to one; rotary embeddings use the same "rotate half"
convention, so Hugging Face weights load without permutation.

The memory-bound elementwise pieces (norm, rotary, SwiGLU gate, loss) live in an `Ops`
table so that torch.compile can replace them with fused kernels without touching the
modules; matrix products and attention stay eager (cuBLAS and the flash kernel).
"""

from dataclasses import dataclass
from typing import Callable, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .attention import AttentionFn
from .shapes import ModelShape

INIT_STD = 0.02  # Llama-2's initializer_range


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    # Normalise in fp32 (as Llama does): the mean of squares overflows bf16's precision.
    x32 = x.float()
    y = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * y.to(x.dtype)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (batch, seq, heads, head_dim); cos, sin: (seq, head_dim)."""
    cos = cos[None, :, None, :].to(x.dtype)
    sin = sin[None, :, None, :].to(x.dtype)
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def swiglu(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * up


def causal_lm_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy; position t predicts token t+1, the last has no target.

    Packed SFT sequences are trained on every token (prompt included): throughput is the
    same either way and packing leaves no prompt boundaries to mask cheaply.
    """
    labels = torch.full_like(tokens, -100)
    labels[:, :-1] = tokens[:, 1:]
    return F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), ignore_index=-100)


@dataclass(frozen=True)
class Ops:
    rms_norm: Callable = rms_norm
    apply_rotary: Callable = apply_rotary
    swiglu: Callable = swiglu
    loss: Callable = causal_lm_loss


EAGER_OPS = Ops()


def compiled_ops() -> Ops:
    """The same functions through torch.compile (shapes are fixed for a run: dynamic=False).

    Each decoder layer passes its own weight views (FSDP's flat-parameter views differ in
    storage offset), which can cost a recompilation each; allow enough that a 80-layer
    model never silently falls back to eager.
    """
    import torch._dynamo

    for key in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, key):
            setattr(torch._dynamo.config, key, max(256, getattr(torch._dynamo.config, key)))
    return Ops(*(torch.compile(fn, dynamic=False) for fn in (rms_norm, apply_rotary, swiglu, causal_lm_loss)))


def rotary_tables(seq_len: int, head_dim: int, theta: float, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    # Recomputed each forward (seq x head_dim, negligible) rather than kept as buffers, so
    # that FSDP's buffer casting and meta-device initialisation never touch them.
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim))
    freqs = torch.outer(torch.arange(seq_len, device=device, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


class Linear(nn.Linear):
    """Bias-free linear layer with Llama's initialisation.

    FSDP materialises meta-device modules by calling reset_parameters() on each, so the
    initialisation lives there and is the same for every construction path.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__(in_features, out_features, bias=False)

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=INIT_STD)


class Embedding(nn.Embedding):
    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=INIT_STD)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float, ops: Ops):
        super().__init__()
        self.eps = eps
        self.ops = ops
        self.weight = nn.Parameter(torch.empty(dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ops.rms_norm(x, self.weight, self.eps)


class Attention(nn.Module):
    def __init__(self, s: ModelShape, attention_fn: AttentionFn, ops: Ops):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = s.n_heads, s.n_kv_heads, s.head_dim
        self.q_proj = Linear(s.dim, s.n_heads * s.head_dim)
        self.k_proj = Linear(s.dim, s.n_kv_heads * s.head_dim)
        self.v_proj = Linear(s.dim, s.n_kv_heads * s.head_dim)
        self.o_proj = Linear(s.n_heads * s.head_dim, s.dim)
        self.attention_fn = attention_fn
        self.ops = ops

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim)
        q = self.ops.apply_rotary(q, cos, sin)
        k = self.ops.apply_rotary(k, cos, sin)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))  # (batch, heads, seq, head_dim)
        repeat = self.n_heads // self.n_kv_heads
        if repeat > 1:  # grouped-query attention: each K/V head serves `repeat` query heads
            k = k.repeat_interleave(repeat, dim=1)
            v = v.repeat_interleave(repeat, dim=1)
        out = self.attention_fn(q, k, v)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))


class MLP(nn.Module):
    def __init__(self, s: ModelShape, ops: Ops):
        super().__init__()
        self.gate_proj = Linear(s.dim, s.ffn_dim)
        self.up_proj = Linear(s.dim, s.ffn_dim)
        self.down_proj = Linear(s.ffn_dim, s.dim)
        self.ops = ops

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.ops.swiglu(self.gate_proj(x), self.up_proj(x)))


class DecoderLayer(nn.Module):
    """One FSDP unit. With `checkpointed` set, only its input is kept for backward and the
    rest is recomputed (non-reentrant torch.utils.checkpoint, inside the FSDP unit, so the
    recomputation runs on the parameters FSDP has already gathered for backward)."""

    def __init__(self, s: ModelShape, attention_fn: AttentionFn, ops: Ops):
        super().__init__()
        self.input_layernorm = RMSNorm(s.dim, s.norm_eps, ops)
        self.self_attn = Attention(s, attention_fn, ops)
        self.post_attention_layernorm = RMSNorm(s.dim, s.norm_eps, ops)
        self.mlp = MLP(s, ops)
        self.checkpointed = False
        self.reentrant = False  # DeepSpeed ZeRO-3 needs the reentrant variant (deepspeed_engine.py)

    def _forward(self, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        h = h + self.self_attn(self.input_layernorm(h), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))

    def forward(self, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        if self.checkpointed and self.training and torch.is_grad_enabled():
            return checkpoint(self._forward, h, cos, sin, use_reentrant=self.reentrant)
        return self._forward(h, cos, sin)


class Llama(nn.Module):
    def __init__(self, s: ModelShape, attention_fn: AttentionFn, ops: Ops = EAGER_OPS):
        super().__init__()
        s.validate()
        self.shape = s
        self.embed_tokens = Embedding(s.vocab_size, s.dim)
        self.layers = nn.ModuleList(DecoderLayer(s, attention_fn, ops) for _ in range(s.n_layers))
        self.norm = RMSNorm(s.dim, s.norm_eps, ops)
        self.lm_head = None if s.tie_embeddings else Linear(s.dim, s.vocab_size)
        self.ops = ops

    def set_activation_checkpointing(self, every: int, reentrant: bool = False) -> None:
        """Checkpoint every `every`-th layer (1: all layers, 0: none)."""
        for i, layer in enumerate(self.layers):
            layer.checkpointed = every > 0 and i % every == 0
            layer.reentrant = reentrant

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.embed_tokens(tokens)
        cos, sin = rotary_tables(tokens.shape[1], self.shape.head_dim, self.shape.rope_theta, tokens.device)
        for layer in self.layers:
            h = layer(h, cos, sin)
        h = self.norm(h)
        if self.lm_head is None:
            return F.linear(h, self.embed_tokens.weight)
        return self.lm_head(h)
