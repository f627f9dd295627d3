"""Process group and data-parallel wrapper: FSDP full-shard where available, else DDP.

Environment (torchrun's names): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.
Without WORLD_SIZE the worker runs as a single process (a process group of one, so the
code path stays the same). Backend: NCCL on CUDA, gloo on CPU.
"""

import contextlib
import datetime
import importlib
import os
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn

from .errors import UsageError
from .model import DecoderLayer


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world_size: int
    local_rank: int
    master: Optional[str]  # "addr:port", None for a lone process


def _int_env(env: Dict[str, str], name: str) -> int:
    value = env.get(name)
    if value is None:
        raise UsageError(f"environment: WORLD_SIZE is set but {name} is not (start the worker with torchrun "
                         "or set RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT)")
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"environment: {name}={value!r} is not an integer") from None


def read_env(env: Dict[str, str] = None) -> DistEnv:
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env:
        return DistEnv(rank=0, world_size=1, local_rank=0, master=None)
    world, rank, local = _int_env(env, "WORLD_SIZE"), _int_env(env, "RANK"), _int_env(env, "LOCAL_RANK")
    if world < 1 or not 0 <= rank < world or not 0 <= local < world:
        raise UsageError(f"environment: RANK={rank} LOCAL_RANK={local} do not fit WORLD_SIZE={world}")
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if not env.get(name):
            raise UsageError(f"environment: WORLD_SIZE={world} but {name} is not set")
    _int_env(env, "MASTER_PORT")
    return DistEnv(rank, world, local, f"{env['MASTER_ADDR']}:{env['MASTER_PORT']}")


def init_process_group(denv: DistEnv, device: torch.device, timeout_s: float) -> str:
    backend = "nccl" if device.type == "cuda" else "gloo"
    timeout = datetime.timedelta(seconds=timeout_s)
    if denv.master is None:
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1, timeout=timeout)
    else:
        try:
            dist.init_process_group(backend, init_method="env://", rank=denv.rank, world_size=denv.world_size,
                                    timeout=timeout)
        except RuntimeError as exc:  # name the place: which rendezvous, and the likely cause
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RuntimeError(f"rendezvous of {denv.world_size} ranks at {denv.master} failed within "
                               f"--timeout-s {timeout_s:g} (a peer missing or unreachable?): {first}") from exc
    return backend


def fsdp_status() -> Tuple[bool, str]:
    """Whether this PyTorch has the FSDP used here, and why not if it has not."""
    try:
        # importlib, not `import torch.distributed.fsdp`, which would rebind `torch` locally
        wrap = importlib.import_module("torch.distributed.fsdp.wrap")  # 1.13 on Python 3.11 fails here
        getattr(wrap, "ModuleWrapPolicy")  # torch >= 2.0
    except Exception as exc:  # ImportError, but 1.13's dataclass bug raises ValueError
        first = str(exc).splitlines()[0] if str(exc) else ""
        return False, f"torch.distributed.fsdp does not import on torch {torch.__version__} ({type(exc).__name__}: {first[:160]})"
    return True, f"torch {torch.__version__} has FSDP with per-module auto-wrap"


def choose_parallel(requested: str, device: torch.device) -> Tuple[str, str]:
    """Return (fsdp|ddp, why); UsageError when the requested one cannot run here."""
    has_fsdp, why = fsdp_status()
    if requested == "ddp":
        return "ddp", "requested with --parallel ddp"
    if requested == "fsdp":
        if not has_fsdp:
            raise UsageError(f"--parallel fsdp: {why}")
        if device.type != "cuda":
            raise UsageError("--parallel fsdp needs CUDA (this worker does not use FSDP's CPU support)")
        return "fsdp", "requested with --parallel fsdp"
    if has_fsdp and device.type == "cuda":
        return "fsdp", why
    if has_fsdp:
        return "ddp", "no CUDA device; FSDP is used only on CUDA"
    return "ddp", why


def meta_device_supported() -> bool:
    """torch >= 2 can build modules on the meta device (`with torch.device('meta')`)."""
    return hasattr(torch.device("cpu"), "__enter__")


def build_on(device: torch.device, factory: Callable[[], nn.Module]) -> nn.Module:
    """Construct directly on `device` where PyTorch allows (no CPU copy of a 7B model)."""
    if meta_device_supported():
        with device:
            return factory()
    return factory().to(device)


@dataclass
class Wrapped:
    model: nn.Module          # what forward() is called on
    name: str                 # fsdp | ddp
    options: Dict             # what the metrics report about the wrapper

    def accumulating(self, is_last_micro_step: bool):
        """Context for a micro-step's forward and backward.

        DDP skips its gradient all-reduce on all but the last micro-step (no_sync). FSDP
        reduce-scatters every micro-step instead: its no_sync would keep unsharded fp32
        gradients of the whole model on every GPU (27 GB for 7B, 276 GB for 70B), which
        defeats sharding; the extra reduce-scatters overlap with backward.
        """
        if self.name == "ddp" and not is_last_micro_step:
            return self.model.no_sync()
        return contextlib.nullcontext()

    def clip_grad_norm(self, max_norm: float) -> torch.Tensor:
        if self.name == "fsdp":
            return self.model.clip_grad_norm_(max_norm)  # norm over all shards
        return torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)


def wrap_fsdp(model: nn.Module, device: torch.device, precision: str, reduce_dtype: str,
              materialize_rank0_weights: bool, rank: int) -> Wrapped:
    """FSDP full-shard, one unit per decoder layer (+ the root: embeddings, final norm, head).

    `model` may live on the meta device: FSDP then materialises each unit on the GPU in turn
    (reset_parameters(), our modules' Llama init), so no GPU ever holds the whole model.
    With a checkpoint, rank 0 holds the real weights on the CPU and the others stay on meta
    (param_init_fn allocates them); sync_module_states broadcasts rank 0's values.
    """
    from torch.distributed.fsdp import BackwardPrefetch, MixedPrecision, ShardingStrategy
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy

    mixed = None
    if precision == "bf16":
        mixed = MixedPrecision(param_dtype=torch.bfloat16, buffer_dtype=torch.bfloat16,
                               reduce_dtype=torch.bfloat16 if reduce_dtype == "bf16" else torch.float32)
    param_init_fn = None
    if materialize_rank0_weights and rank != 0:
        def param_init_fn(module: nn.Module) -> None:
            module.to_empty(device=device, recurse=False)
    options = dict(sharding_strategy="FULL_SHARD", auto_wrap="DecoderLayer", backward_prefetch="BACKWARD_PRE",
                   forward_prefetch=True, limit_all_gathers=True, use_orig_params=False,
                   param_dtype=precision, reduce_dtype=reduce_dtype if precision == "bf16" else "fp32",
                   grad_accum_reduce="reduce-scatter every micro-step")
    fsdp = FSDP(model, sharding_strategy=ShardingStrategy.FULL_SHARD,
                auto_wrap_policy=ModuleWrapPolicy({DecoderLayer}), mixed_precision=mixed,
                backward_prefetch=BackwardPrefetch.BACKWARD_PRE, forward_prefetch=True,
                limit_all_gathers=True, use_orig_params=False, device_id=device,
                sync_module_states=True, param_init_fn=param_init_fn)
    return Wrapped(fsdp, "fsdp", options)


def wrap_ddp(model: nn.Module, device: torch.device) -> Wrapped:
    from torch.nn.parallel import DistributedDataParallel as DDP

    # DDP broadcasts rank 0's parameters at construction: all ranks start identical.
    ddp = DDP(model, device_ids=[device.index] if device.type == "cuda" else None, gradient_as_bucket_view=True)
    return Wrapped(ddp, "ddp", dict(grad_accum_reduce="no_sync on all but the last micro-step",
                                    gradient_as_bucket_view=True))


def all_gather_floats(values, device: torch.device) -> torch.Tensor:
    """Gather a few float64 values from every rank: returns (world_size, len(values))."""
    mine = torch.tensor(values, dtype=torch.float64, device=device)
    out = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(out, mine)
    return torch.stack(out).cpu()


def all_gather_strings(value: str):
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, value)
    return out
