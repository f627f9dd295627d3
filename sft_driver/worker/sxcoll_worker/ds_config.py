"""The DeepSpeed config file, read and held against the worker's own flags (no PyTorch needed).

`sxcoll sft` writes one ds_config.json per attempt (sft_driver/deepspeed_config.cc) and passes
its path; DeepSpeed reads that very file (deepspeed.initialize(config=PATH)). The worker reads
it too, only to refuse a run whose file and flags disagree: DeepSpeed would otherwise take the
batch sizes, precision and clipping from the file while the metrics describe the flags.
Learning rate: the worker sets it each step (linear warm-up, as for FSDP), so a "scheduler"
block would fight it and is refused; the "optimizer" block's hyperparameters must equal the
worker's (betas 0.9/0.95, eps 1e-8), whichever implementation runs them.
"""

import json
import math
from typing import Dict, Optional

from .errors import UsageError

ZERO_STAGES = (2, 3)
HOW_TO_PROVIDE = ("provide it: tar -xzf deepspeed-vendor.tar.gz -C DIR (DeepSpeed 0.14.5 with pydantic 1 and hjson) "
                  "and PYTHONPATH=DIR (in a sxcoll sft plan: \"env\": {\"PYTHONPATH\": \"DIR\"}), or pip install deepspeed")
BETAS = (0.9, 0.95)
EPS = 1e-8


def load_ds_config(path: str) -> Dict:
    try:
        with open(path) as f:
            cfg = json.load(f)
    except OSError as exc:
        raise UsageError(f"--deepspeed-config {path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise UsageError(f"--deepspeed-config {path}: not valid JSON ({exc})") from None
    if not isinstance(cfg, dict):
        raise UsageError(f"--deepspeed-config {path}: expected a JSON object")
    return cfg


def zero_stage(cfg: Dict) -> Optional[int]:
    zero = cfg.get("zero_optimization")
    return zero.get("stage") if isinstance(zero, dict) else None


def offload_optimizer_device(cfg: Dict) -> str:
    """'cpu' or 'nvme' when ZeRO-Offload moves the optimizer off the GPU, else 'none'."""
    off = (cfg.get("zero_optimization") or {}).get("offload_optimizer") or {}
    return off.get("device", "none") if isinstance(off, dict) else "none"


def _close(a, b) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isclose(a, b, rel_tol=1e-9, abs_tol=0)


def check_against_flags(cfg: Dict, args, world_size: int, path: str) -> None:
    """UsageError naming the first key whose value the flags contradict."""
    def fail(key: str, got, want: str) -> None:
        raise UsageError(f"--deepspeed-config {path}: {key} is {json.dumps(got)} but {want}")

    stage = zero_stage(cfg)
    if stage not in ZERO_STAGES:
        fail("zero_optimization.stage", stage, "the worker runs ZeRO stage 2 or 3")
    if offload_optimizer_device(cfg) not in ("none", "cpu"):
        fail("zero_optimization.offload_optimizer.device", offload_optimizer_device(cfg), "only cpu offload is supported")
    expect = {
        "train_micro_batch_size_per_gpu": (args.micro_batch, f"--micro-batch is {args.micro_batch}"),
        "gradient_accumulation_steps": (args.grad_accum, f"--grad-accum is {args.grad_accum}"),
    }
    for key, (want, why) in expect.items():
        if cfg.get(key) != want:
            fail(key, cfg.get(key), why)
    batch = args.micro_batch * args.grad_accum * world_size
    if "train_batch_size" in cfg and cfg["train_batch_size"] != batch:
        fail("train_batch_size", cfg["train_batch_size"],
             f"micro-batch x grad-accum x world size = {args.micro_batch} x {args.grad_accum} x {world_size} = {batch}")
    bf16 = bool((cfg.get("bf16") or {}).get("enabled", False))
    if bf16 != (args.precision == "bf16"):
        fail("bf16.enabled", bf16, f"--precision is {args.precision}")
    if (cfg.get("fp16") or {}).get("enabled", False):
        fail("fp16.enabled", True, "the worker trains in bf16 or fp32")
    if not _close(cfg.get("gradient_clipping", 0.0), args.grad_clip):
        fail("gradient_clipping", cfg.get("gradient_clipping"), f"--grad-clip is {args.grad_clip:g}")
    if "scheduler" in cfg:
        fail("scheduler", cfg["scheduler"]["type"] if isinstance(cfg["scheduler"], dict) else cfg["scheduler"],
             "the worker sets the learning rate itself (linear warm-up, as for FSDP); remove the block")
    opt = cfg.get("optimizer")
    if opt is None:
        return
    if not isinstance(opt, dict) or str(opt.get("type", "")).lower() not in ("adamw", "adam"):
        fail("optimizer.type", opt.get("type") if isinstance(opt, dict) else opt, "the worker runs AdamW")
    params = opt.get("params") or {}
    for key, want, why in (("lr", args.lr, f"--lr is {args.lr:g}"),
                           ("weight_decay", args.weight_decay, f"--weight-decay is {args.weight_decay:g}"),
                           ("eps", EPS, f"the worker's AdamW uses eps {EPS:g}")):
        if key in params and not _close(params[key], want):
            fail(f"optimizer.params.{key}", params[key], why)
    if "betas" in params and (not isinstance(params["betas"], list) or len(params["betas"]) != 2
                              or not all(_close(a, b) for a, b in zip(params["betas"], BETAS))):
        fail("optimizer.params.betas", params["betas"], f"the worker's AdamW uses betas {list(BETAS)}")
