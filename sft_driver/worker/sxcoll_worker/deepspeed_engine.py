"""DeepSpeed ZeRO (stage 2 or 3) as the data-parallel engine, side by side with FSDP.

The same Llama modules, data, activation checkpointing and metrics as the FSDP path; what
differs is who shards and steps. DeepSpeed reads the driver's config file itself
(deepspeed.initialize(config=PATH)); ds_config.py has already held it against the flags.

- ZeRO-3 builds the model inside deepspeed.zero.Init, so each parameter is partitioned (and
  cast to bf16) as soon as its module exists: no GPU ever holds the whole model, as with
  FSDP's meta-device build. ZeRO-2 builds it on the GPU in fp32 and lets DeepSpeed cast it.
- Activation checkpointing is the model's own torch.utils.checkpoint, but reentrant: ZeRO-3
  re-gathers parameters through module hooks during the recomputation, and non-reentrant
  checkpointing's metadata check is known to see them released (DeepSpeed issues #8130,
  #8148). The price, measured on one H200 (docs/PERFORMANCE.md): reentrant recomputation
  also redoes each layer's last product, which the non-reentrant kind skips (~3.5 % of a 7B step).
- Optimizer: DeepSpeed's FusedAdam where its CUDA op builds (DeepSpeed then builds it from
  the file's "optimizer" block), else torch's fused AdamW with the same hyperparameters;
  with optimizer offload, DeepSpeed's CPU Adam (ZeRO-Offload refuses a client optimizer).
"""

import logging
import os
import sys
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn

from .ds_config import BETAS, EPS, HOW_TO_PROVIDE, offload_optimizer_device, zero_stage
from .errors import UsageError


def _purge(prefix: str) -> None:
    for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
        del sys.modules[name]


def import_deepspeed():
    """DeepSpeed's module, or UsageError: one line that says why and how to provide it.

    `import deepspeed` also imports its triton kernels where triton is installed; a triton
    too new for them (3.6 with DeepSpeed 0.14.5) fails the import, so the import is retried
    with triton hidden, and triton is put back at once (torch.compile needs it)."""
    os.environ.setdefault("DS_ACCELERATOR", "cuda")
    try:
        import deepspeed

        return deepspeed
    except Exception as exc:  # noqa: BLE001 - any failure is "not importable"
        first = exc
    if "triton" in f"{type(first).__name__} {first}".lower():
        _purge("deepspeed")
        saved = sys.modules.get("triton")
        sys.modules["triton"] = None  # `import triton` now raises ImportError
        try:
            import deepspeed

            return deepspeed
        except Exception as exc:  # noqa: BLE001
            first = exc
        finally:
            if saved is not None:
                sys.modules["triton"] = saved
            else:
                del sys.modules["triton"]
    message = str(first).splitlines()[0] if str(first) else ""
    raise UsageError(f"--parallel deepspeed: DeepSpeed is not importable by {sys.executable} "
                     f"({type(first).__name__}: {message[:200]}); {HOW_TO_PROVIDE}")


def choose_optimizer(deepspeed, cfg: Dict, requested: str) -> Tuple[str, str]:
    """(deepspeed-cpu-adam | deepspeed-fused-adam | adamw-fused, why)."""
    if offload_optimizer_device(cfg) == "cpu":
        return "deepspeed-cpu-adam", "ZeRO-Offload of the optimizer: DeepSpeed's CPU Adam (built by DeepSpeed)"
    if requested == "torch-adamw":
        return "adamw-fused", "requested with --ds-optimizer torch-adamw"
    if "optimizer" not in cfg:
        return "adamw-fused", "the config has no optimizer block: torch's fused AdamW, the worker's flags"
    try:
        from deepspeed.ops.op_builder import FusedAdamBuilder

        FusedAdamBuilder().load(verbose=False)  # JIT build once per machine, then cached
    except Exception as exc:  # noqa: BLE001 - a failed build leaves torch's AdamW
        if requested == "fused-adam":
            raise RuntimeError(f"--ds-optimizer fused-adam: DeepSpeed's FusedAdam op did not build: {exc}") from exc
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return "adamw-fused", f"DeepSpeed's FusedAdam did not build ({first[:160]}): torch's fused AdamW instead"
    return "deepspeed-fused-adam", "DeepSpeed's FusedAdam op built (JIT); DeepSpeed builds it from the optimizer block"


@dataclass
class DeepSpeedWrapped:
    model: nn.Module  # the DeepSpeed engine: forward, backward, step
    name: str
    options: Dict
    optimizer_name: str
    optimizer_reason: str


def wrap_deepspeed(deepspeed, factory: Callable[[], nn.Module], args, cfg: Dict, device: torch.device,
                   prepare: Callable[[nn.Module], None]) -> DeepSpeedWrapped:
    """Builds the model the ZeRO way for the stage and hands it to deepspeed.initialize."""
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)  # its INFO lines would interleave with ours
    deepspeed.utils.logger.setLevel(logging.WARNING)
    if "WORLD_SIZE" not in os.environ:  # a lone worker: DeepSpeed's engine insists on torchrun's variables
        os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1")
    deepspeed.init_distributed(dist_backend="nccl", auto_mpi_discovery=False)  # adopts our process group
    stage = zero_stage(cfg)
    if stage == 3:
        with deepspeed.zero.Init(config_dict_or_path=args.deepspeed_config):
            model = factory()
    else:
        with device:
            model = factory()
    prepare(model)
    opt_name, opt_why = choose_optimizer(deepspeed, cfg, args.ds_optimizer)
    client = None
    if opt_name == "adamw-fused":
        def client(params):
            return torch.optim.AdamW(params, lr=args.lr, betas=BETAS, eps=EPS, weight_decay=args.weight_decay,
                                     fused=True)
    engine, _, _, _ = deepspeed.initialize(model=model, model_parameters=model.parameters(), optimizer=client,
                                           config=args.deepspeed_config)
    zero = cfg.get("zero_optimization", {})
    options = dict(zero_stage=stage, offload_optimizer=offload_optimizer_device(cfg),
                   config_file=os.path.abspath(args.deepspeed_config), deepspeed_version=deepspeed.__version__,
                   overlap_comm=zero.get("overlap_comm"), reduce_bucket_size=zero.get("reduce_bucket_size"),
                   activation_checkpointing="torch.utils.checkpoint, reentrant",
                   grad_accum_reduce="DeepSpeed's: reduce at every micro-step's backward (ZeRO-2/3)")
    return DeepSpeedWrapped(engine, "deepspeed", options, opt_name, opt_why)


class DeepSpeedStepper:
    """One optimizer step as DeepSpeed wants it: backward and step() after every micro-batch
    (step() updates only at the accumulation boundary; backward scales by 1/grad-accum)."""

    def __init__(self, wrapped: DeepSpeedWrapped, loss_fn, grad_accum: int, grad_clip: float):
        self.engine = wrapped.model
        self.loss_fn = loss_fn
        self.grad_accum = grad_accum
        self.grad_clip = grad_clip

    def set_lr(self, lr: float) -> None:
        for group in self.engine.optimizer.param_groups:
            group["lr"] = lr

    def micro_step(self, batch: torch.Tensor, is_last: bool) -> torch.Tensor:
        logits = self.engine(batch)
        loss = self.loss_fn(logits, batch)
        del logits
        self.engine.backward(loss)
        self.engine.step()
        return loss.detach() / self.grad_accum

    def finish(self) -> Optional[float]:
        if self.grad_clip <= 0:
            return None
        norm = self.engine.get_global_grad_norm()  # before clipping, over all partitions
        return float(norm) if norm is not None else None
