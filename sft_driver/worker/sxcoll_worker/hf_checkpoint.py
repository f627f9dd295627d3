"""Start from a local Hugging Face Llama checkpoint instead of random weights (optional).

Needs `transformers` (for the config) and `safetensors` or torch.load for the weights; the
worker checks both up front and exits 2 when they are missing. Our module names are
LlamaForCausalLM's without the "model." prefix, and the rotary convention is the same, so
the mapping is a rename. Only plain Llama is accepted (no RoPE scaling, no biases).
"""

import json
import os
from typing import Dict, List

import torch

from .errors import UsageError
from .shapes import ModelShape


def require_transformers() -> None:
    try:
        import transformers  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"--checkpoint needs the transformers package, which is not installed ({exc})") from None


def read_shape(path: str) -> ModelShape:
    from transformers import AutoConfig

    try:
        cfg = AutoConfig.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--checkpoint {path}: no readable config.json ({str(exc).splitlines()[0]})") from None
    if getattr(cfg, "model_type", None) != "llama":
        raise UsageError(f"--checkpoint {path}: model_type {getattr(cfg, 'model_type', None)!r}, expected 'llama'")
    # transformers 5 keeps RoPE settings in rope_parameters; 4.x in rope_theta / rope_scaling.
    rope = dict(getattr(cfg, "rope_parameters", None) or {})
    rope.update(getattr(cfg, "rope_scaling", None) or {})
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type not in (None, "default"):
        raise UsageError(f"--checkpoint {path}: RoPE scaling {rope_type!r} is not supported (plain Llama only)")
    theta = getattr(cfg, "rope_theta", None) or rope.get("rope_theta", 10000.0)
    if getattr(cfg, "attention_bias", False) or getattr(cfg, "mlp_bias", False):
        raise UsageError(f"--checkpoint {path}: attention or MLP biases are not supported")
    n_kv = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
    shape = ModelShape(name="hf:" + os.path.basename(os.path.normpath(path)), dim=cfg.hidden_size,
                       n_layers=cfg.num_hidden_layers, n_heads=cfg.num_attention_heads, n_kv_heads=n_kv,
                       ffn_dim=cfg.intermediate_size, vocab_size=cfg.vocab_size, norm_eps=cfg.rms_norm_eps,
                       rope_theta=float(theta), tie_embeddings=bool(getattr(cfg, "tie_word_embeddings", False)))
    head_dim = getattr(cfg, "head_dim", None)
    if head_dim is not None and head_dim != shape.head_dim:
        raise UsageError(f"--checkpoint {path}: head_dim {head_dim} differs from hidden_size / heads")
    try:
        shape.validate()
    except ValueError as exc:
        raise UsageError(f"--checkpoint {path}: {exc}") from None
    return shape


def _weight_files(path: str) -> List[str]:
    for index_name, single in (("model.safetensors.index.json", "model.safetensors"),
                               ("pytorch_model.bin.index.json", "pytorch_model.bin")):
        index = os.path.join(path, index_name)
        if os.path.isfile(index):
            with open(index) as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
            return [os.path.join(path, s) for s in shards]
        if os.path.isfile(os.path.join(path, single)):
            return [os.path.join(path, single)]
    raise UsageError(f"--checkpoint {path}: no model.safetensors or pytorch_model.bin (or their index)")


def load_state_dict(path: str, shape: ModelShape) -> Dict[str, torch.Tensor]:
    """Our parameter names -> fp32 CPU tensors (fp32: they become the master weights)."""
    state = {}
    for file in _weight_files(path):
        if file.endswith(".safetensors"):
            from safetensors.torch import load_file

            part = load_file(file, device="cpu")
        else:
            part = torch.load(file, map_location="cpu")
        for name, tensor in part.items():
            if name.endswith("rotary_emb.inv_freq"):  # a buffer in old checkpoints; we compute it
                continue
            if name == "lm_head.weight" and shape.tie_embeddings:
                continue
            state[name[len("model."):] if name.startswith("model.") else name] = tensor.float()
    return state
