"""Llama model shapes: the Llama-2 family as published, plus tiny shapes for tests.

The numbers are those of Meta's Llama-2 `config.json` files (Hugging Face names in the
comments). Weights are never needed: throughput depends on the shape alone.
"""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ModelShape:
    name: str
    dim: int                 # hidden_size
    n_layers: int            # num_hidden_layers
    n_heads: int             # num_attention_heads
    n_kv_heads: int          # num_key_value_heads (< n_heads: grouped-query attention)
    ffn_dim: int             # intermediate_size (SwiGLU hidden width)
    vocab_size: int
    norm_eps: float = 1e-5   # rms_norm_eps
    rope_theta: float = 10000.0
    tie_embeddings: bool = False  # Llama-2 has a separate output head

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def validate(self) -> None:
        if self.dim % self.n_heads:
            raise ValueError(f"model {self.name}: dim {self.dim} is not a multiple of n_heads {self.n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"model {self.name}: n_heads {self.n_heads} is not a multiple of n_kv_heads {self.n_kv_heads}")
        if self.head_dim % 2:
            raise ValueError(f"model {self.name}: head_dim {self.head_dim} must be even for rotary embeddings")


SHAPES = {
    "tiny": ModelShape("tiny", dim=64, n_layers=2, n_heads=4, n_kv_heads=4, ffn_dim=172, vocab_size=512),
    # Same size class, but with grouped-query attention so that CPU tests cover the 70B code path.
    "tiny-gqa": ModelShape("tiny-gqa", dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=172, vocab_size=512),
    "llama2-7b": ModelShape("llama2-7b", dim=4096, n_layers=32, n_heads=32, n_kv_heads=32, ffn_dim=11008, vocab_size=32000),
    "llama2-13b": ModelShape("llama2-13b", dim=5120, n_layers=40, n_heads=40, n_kv_heads=40, ffn_dim=13824, vocab_size=32000),
    "llama2-70b": ModelShape("llama2-70b", dim=8192, n_layers=80, n_heads=64, n_kv_heads=8, ffn_dim=28672, vocab_size=32000),
}


def layer_param_count(s: ModelShape) -> int:
    """Parameters of one decoder layer: q,o (d x d), k,v (d x kv_dim), 3 MLP matrices, 2 norms."""
    kv_dim = s.n_kv_heads * s.head_dim
    attention = 2 * s.dim * s.dim + 2 * s.dim * kv_dim
    mlp = 3 * s.dim * s.ffn_dim
    norms = 2 * s.dim
    return attention + mlp + norms


def embedding_param_count(s: ModelShape) -> int:
    """The input token-embedding table (a lookup: it does no multiply-adds)."""
    return s.vocab_size * s.dim


def param_count(s: ModelShape) -> int:
    """All trainable parameters, as `sum(p.numel() for p in model.parameters())` counts them."""
    head = 0 if s.tie_embeddings else s.vocab_size * s.dim
    return s.n_layers * layer_param_count(s) + embedding_param_count(s) + s.dim + head


def with_name(s: ModelShape, name: str) -> ModelShape:
    return replace(s, name=name)
