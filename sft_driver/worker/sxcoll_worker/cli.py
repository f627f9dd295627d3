"""Command line of the worker: parse and check every flag before any work (exit 2, one line).

Parsing needs no PyTorch, so a bad flag is answered in milliseconds; the checks that need
PyTorch (FSDP or SDPA missing, no CUDA) run in train.setup(), still before any work.
"""

import argparse
import os
import sys
from typing import List, Optional

from .ds_config import check_against_flags, load_ds_config
from .errors import EXIT_RUNTIME, EXIT_USAGE, UsageError, print_error
from .shapes import SHAPES


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + message over two lines; we want one
        raise UsageError(message)


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python3 -m sxcoll_worker",
                description="Llama fine-tuning throughput worker: one process per GPU, started with "
                            "torchrun's environment; writes one JSON line per step.")
    m = p.add_argument_group("model")
    m.add_argument("--model", choices=sorted(SHAPES), default=None,
                   help="model shape (default tiny; with --checkpoint the checkpoint's shape)")
    m.add_argument("--checkpoint", metavar="PATH",
                   help="local Hugging Face Llama checkpoint folder to start from (needs transformers)")
    m.add_argument("--attention", choices=("auto", "sdpa", "math"), default="auto",
                   help="auto: SDPA (flash kernel on CUDA) where PyTorch has it, else math")
    m.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the elementwise ops (norm, rotary, SwiGLU, loss) into fused kernels "
                        "(default: on with CUDA and torch >= 2, off otherwise)")
    t = p.add_argument_group("training")
    t.add_argument("--seq-len", type=int, default=4096)
    t.add_argument("--micro-batch", type=int, default=1, help="sequences per GPU per forward/backward")
    t.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimizer step")
    t.add_argument("--steps", type=int, default=20, help="optimizer steps in all, warm-up included")
    t.add_argument("--warmup-steps", type=int, default=5,
                   help="steps of linear LR warm-up, also left out of the steady-state summary")
    t.add_argument("--precision", choices=("bf16", "fp32"), default="bf16",
                   help="bf16: bf16 compute with fp32 master weights and optimizer state")
    t.add_argument("--activation-checkpointing", action="store_true",
                   help="recompute decoder layers in backward instead of keeping their activations")
    t.add_argument("--ac-every", type=int, default=1, metavar="K",
                   help="with --activation-checkpointing: checkpoint every K-th layer only (default 1: all)")
    t.add_argument("--lr", type=float, default=2e-5)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm; 0 disables clipping")
    t.add_argument("--seed", type=int, default=1234)
    d = p.add_argument_group("data")
    d.add_argument("--data", default="synthetic",
                   help="'synthetic' (random tokens from --seed) or a packed-token file from sxcoll_worker.prepare")
    d.add_argument("--repeat-batch", action="store_true", help="reuse the first batch every step (overfit check)")
    r = p.add_argument_group("parallelism and device")
    r.add_argument("--parallel", choices=("auto", "fsdp", "ddp", "deepspeed"), default="auto",
                   help="auto: FSDP full-shard where PyTorch >= 2 offers it on CUDA, else DDP; deepspeed: "
                        "DeepSpeed ZeRO (stage from --deepspeed-config; needs DeepSpeed and CUDA)")
    r.add_argument("--deepspeed-config", metavar="FILE",
                   help="with --parallel deepspeed: the DeepSpeed JSON config (sxcoll sft writes it), read by "
                        "DeepSpeed itself; must agree with the flags")
    r.add_argument("--ds-optimizer", choices=("auto", "fused-adam", "torch-adamw"), default="auto",
                   help="with --parallel deepspeed: auto = DeepSpeed's FusedAdam where its op builds, else "
                        "torch's fused AdamW (optimizer offload always uses DeepSpeed's CPU Adam)")
    r.add_argument("--reduce-dtype", choices=("fp32", "bf16"), default="fp32",
                   help="FSDP gradient reduce-scatter dtype with --precision bf16")
    r.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    r.add_argument("--timeout-s", type=float, default=600.0,
                   help="deadline for any collective; a dead or stuck peer fails the run after this")
    o = p.add_argument_group("output")
    o.add_argument("--metrics", metavar="FILE", help="also write the JSON lines to FILE (rank 0)")
    o.add_argument("--profile", metavar="FILE",
                   help="after the measured steps, run one more under torch.profiler and write its operator "
                        "table to FILE (rank 0; other ranks FILE.rankN); that step is in no record")
    o.add_argument("--peak-tflops", type=float, default=None,
                   help="dense bf16 peak per GPU in TFLOP/s for MFU, overriding the built-in table")
    return p


def parse_args(argv: List[str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    for name in ("seq_len", "micro_batch", "grad_accum", "steps", "ac_every"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    if args.seq_len < 2:
        raise UsageError(f"--seq-len must be at least 2 (a next-token target needs two tokens), got {args.seq_len}")
    if args.warmup_steps < 0:
        raise UsageError(f"--warmup-steps must be 0 or more, got {args.warmup_steps}")
    if args.steps <= args.warmup_steps:
        raise UsageError(f"--steps ({args.steps}) must exceed --warmup-steps ({args.warmup_steps}): "
                         "the summary measures the steps after warm-up")
    if not args.lr > 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    if args.weight_decay < 0 or args.grad_clip < 0:
        raise UsageError("--weight-decay and --grad-clip must be 0 or more")
    if not args.timeout_s > 0:
        raise UsageError(f"--timeout-s must be positive, got {args.timeout_s}")
    if args.peak_tflops is not None and not args.peak_tflops > 0:
        raise UsageError(f"--peak-tflops must be positive, got {args.peak_tflops}")
    if args.checkpoint is not None and not os.path.isdir(args.checkpoint):
        raise UsageError(f"--checkpoint {args.checkpoint}: not a directory")
    if args.profile is not None and not os.path.isdir(os.path.dirname(os.path.abspath(args.profile))):
        raise UsageError(f"--profile {args.profile}: its folder does not exist")
    if args.metrics is not None:
        parent = os.path.dirname(os.path.abspath(args.metrics))
        if not os.path.isdir(parent):
            raise UsageError(f"--metrics {args.metrics}: folder {parent} does not exist")
    if args.checkpoint is None and args.model is None:
        args.model = "tiny"
    _check_deepspeed_flags(args)
    return args


def _world_size_from_env() -> int:
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1  # read_env() reports the bad variable


def _check_deepspeed_flags(args: argparse.Namespace) -> None:
    if args.parallel != "deepspeed":
        if args.deepspeed_config is not None:
            raise UsageError("--deepspeed-config needs --parallel deepspeed")
        return
    if args.deepspeed_config is None:
        raise UsageError("--parallel deepspeed needs --deepspeed-config FILE (sxcoll sft writes ds_config.json)")
    cfg = load_ds_config(args.deepspeed_config)
    check_against_flags(cfg, args, _world_size_from_env(), args.deepspeed_config)
    args.ds_config = cfg


def _is_other_rank() -> bool:
    """True for a valid rank other than 0 (which stays quiet about bad flags)."""
    try:
        rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return False
    return 0 < rank < world


def main(argv: Optional[List[str]] = None) -> int:
    # Every rank checks the same flags; only rank 0 (or a rank whose environment is broken)
    # prints, so the driver sees the one line once rather than once per GPU.
    quiet = _is_other_rank()
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        from .train import run  # PyTorch is imported only once the flags are known good

        return run(args)
    except UsageError as exc:
        if not quiet:
            print_error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_RUNTIME
