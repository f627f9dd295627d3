"""The run: check the setup, build and wrap the model, step, and report.

Order matters: everything that can be wrong with the input is checked before the process
group starts (exit 2), so a bad plan never leaves peers waiting on a rendezvous.
"""

import contextlib
import os
import platform
import socket
import sys
import time
import traceback
from dataclasses import asdict

import torch
import torch.distributed as dist

from . import __version__
from .attention import choose_attention, sdpa_available
from .data import check_packed_file, make_batches
from .errors import EXIT_OK, EXIT_OOM, EXIT_RUNTIME, UsageError, print_error
from .flops import flop_param_count, flops_per_token, peak_bf16_flops
from .metrics import MetricsWriter, peak_memory, step_record, summary_record
from .model import EAGER_OPS, Llama, compiled_ops
from .parallel import (DistEnv, Wrapped, all_gather_floats, all_gather_strings, build_on, choose_parallel,
                       init_process_group, meta_device_supported, read_env, wrap_ddp, wrap_fsdp)
from .probe import matmul_tflops
from .shapes import SHAPES, ModelShape, param_count


def _torch_at_least(major: int, minor: int) -> bool:
    parts = torch.__version__.split(".")
    return (int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)) >= (major, minor)


def pick_device(requested: str, denv: DistEnv) -> torch.device:
    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        raise UsageError("--device cuda: no CUDA device is visible to PyTorch")
    if requested == "cpu" or not has_cuda:
        return torch.device("cpu")
    if denv.local_rank >= torch.cuda.device_count():
        raise UsageError(f"LOCAL_RANK={denv.local_rank} but only {torch.cuda.device_count()} CUDA devices are visible")
    return torch.device("cuda", denv.local_rank)


def resolve_shape(args) -> ModelShape:
    if args.checkpoint is None:
        return SHAPES[args.model]
    from .hf_checkpoint import read_shape, require_transformers

    require_transformers()
    shape = read_shape(args.checkpoint)
    if args.model is not None:
        named = SHAPES[args.model]
        if (named.dim, named.n_layers, named.n_heads, named.n_kv_heads, named.ffn_dim, named.vocab_size) != \
           (shape.dim, shape.n_layers, shape.n_heads, shape.n_kv_heads, shape.ffn_dim, shape.vocab_size):
            raise UsageError(f"--model {args.model} does not match the shape of --checkpoint {args.checkpoint}")
    return shape


def check_setup(args, denv: DistEnv, device: torch.device, shape: ModelShape):
    """All checks that need PyTorch; returns (parallel, why). Raises UsageError."""
    if args.attention == "sdpa" and not sdpa_available():
        raise UsageError(f"--attention sdpa: torch {torch.__version__} has no F.scaled_dot_product_attention")
    if args.compile and not hasattr(torch, "compile"):
        raise UsageError(f"--compile needs torch >= 2 (this is {torch.__version__})")
    if args.compile is None:
        # Measured on 2 x H200, Llama-2-7B, seq 4096, micro-batch 8: 21 % more tokens/s and
        # 9 GiB less memory than eager; compiling costs about 10 s in the first step.
        args.compile = device.type == "cuda" and hasattr(torch, "compile")
    if args.data != "synthetic":
        problem = check_packed_file(args.data, args.seq_len, shape.vocab_size)
        if problem:
            raise UsageError(problem)
    if args.parallel == "deepspeed":
        from .deepspeed_engine import import_deepspeed

        args.deepspeed = import_deepspeed()  # first: "not importable" is the likeliest problem
        if device.type != "cuda":
            raise UsageError("--parallel deepspeed needs CUDA (this worker does not run DeepSpeed's CPU accelerator)")
        if args.checkpoint is not None:
            raise UsageError("--checkpoint is not supported with --parallel deepspeed yet (FSDP or DDP load it)")
        stage = args.ds_config["zero_optimization"]["stage"]
        return "deepspeed", f"requested with --parallel deepspeed: ZeRO stage {stage} from {args.deepspeed_config}"
    return choose_parallel(args.parallel, device)


def make_optimizer(params, args, device: torch.device):
    kwargs = dict(lr=args.lr, betas=(0.9, 0.95), eps=1e-8, weight_decay=args.weight_decay)
    # One fused kernel for the whole update instead of a handful per tensor group.
    fused = device.type == "cuda" and _torch_at_least(2, 0)
    if fused:
        kwargs["fused"] = True
    return torch.optim.AdamW(params, **kwargs), ("adamw-fused" if fused else "adamw")


def lr_at(step: int, args) -> float:
    """Linear warm-up over --warmup-steps, then constant (a throughput run, not a schedule study)."""
    if args.warmup_steps and step <= args.warmup_steps:
        return args.lr * step / args.warmup_steps
    return args.lr


def build_model(args, denv: DistEnv, device: torch.device, shape: ModelShape, parallel: str, attention_fn, ops) -> Wrapped:
    torch.manual_seed(args.seed)  # same initial weights on every rank (and FSDP/DDP also sync them)

    def factory():
        return Llama(shape, attention_fn, ops)

    if parallel == "deepspeed":
        from .deepspeed_engine import wrap_deepspeed

        every = args.ac_every if args.activation_checkpointing else 0
        return wrap_deepspeed(args.deepspeed, factory, args, args.ds_config, device,
                              lambda m: m.set_activation_checkpointing(every, reentrant=True))
    weights = None
    if args.checkpoint is not None and denv.rank == 0:
        from .hf_checkpoint import load_state_dict

        weights = load_state_dict(args.checkpoint, shape)
    if parallel == "fsdp" and weights is None:
        model = build_on(torch.device("meta"), factory)  # FSDP materialises it unit by unit
    elif parallel == "fsdp":
        # Rank 0 holds the checkpoint on the CPU; FSDP broadcasts it to the others' meta modules.
        # (Allocated, not initialised: the weights overwrite everything.)
        model = build_on(torch.device("meta"), factory).to_empty(device="cpu") if meta_device_supported() \
            else factory()
    else:
        model = build_on(device, factory)
    if weights is not None:
        model.load_state_dict(weights, strict=True)
        del weights
    model.set_activation_checkpointing(args.ac_every if args.activation_checkpointing else 0)
    if parallel == "fsdp":
        return wrap_fsdp(model, device, args.precision, args.reduce_dtype,
                         materialize_rank0_weights=args.checkpoint is not None, rank=denv.rank)
    return wrap_ddp(model, device)


class TorchStepper:
    """One optimizer step of the FSDP and DDP paths (DeepSpeed's: deepspeed_engine.DeepSpeedStepper)."""

    def __init__(self, wrapped: Wrapped, optimizer, loss_fn, args, autocast):
        self.wrapped, self.optimizer, self.loss_fn = wrapped, optimizer, loss_fn
        self.grad_accum, self.grad_clip, self.autocast = args.grad_accum, args.grad_clip, autocast

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def micro_step(self, batch: torch.Tensor, is_last: bool) -> torch.Tensor:
        with self.wrapped.accumulating(is_last):
            with self.autocast():
                logits = self.wrapped.model(batch)
            loss = self.loss_fn(logits, batch) / self.grad_accum
            del logits
            loss.backward()
        return loss.detach()

    def finish(self):
        grad_norm = self.wrapped.clip_grad_norm(self.grad_clip) if self.grad_clip > 0 else None
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return grad_norm


def _nccl_version() -> str:
    v = torch.cuda.nccl.version()
    return ".".join(map(str, v)) if isinstance(v, tuple) else str(v)


def config_record(args, denv, device, backend, shape, wrapped, parallel_why, attention, attention_why,
                  optimizer_name, batches, peak_flops, peak_source, mem_total, ops_name, hosts, probe) -> dict:
    tokens_per_step = denv.world_size * args.grad_accum * args.micro_batch * args.seq_len
    shape_fields = asdict(shape)
    shape_fields.pop("name")
    return {
        "type": "config", "worker_version": __version__,
        "model": shape.name, "shape": {**shape_fields, "head_dim": shape.head_dim},
        "param_count": param_count(shape), "flop_param_count": flop_param_count(shape),
        "flops_per_token": flops_per_token(shape, args.seq_len),
        "checkpoint": args.checkpoint,
        "seq_len": args.seq_len, "micro_batch": args.micro_batch, "grad_accum": args.grad_accum,
        "steps": args.steps, "warmup_steps": args.warmup_steps,
        "samples_per_step": denv.world_size * args.grad_accum * args.micro_batch, "tokens_per_step": tokens_per_step,
        "precision": args.precision,
        "activation_checkpointing": args.activation_checkpointing,
        "ac_every": args.ac_every if args.activation_checkpointing else 0,
        "compile": ops_name,
        "parallel": wrapped.name, "parallel_reason": parallel_why, "parallel_options": wrapped.options,
        "zero_stage": wrapped.options.get("zero_stage"),
        "optimizer_reason": getattr(wrapped, "optimizer_reason", "the worker's choice for this device (train.py)"),
        "attention": attention, "attention_reason": attention_why,
        "optimizer": optimizer_name, "lr": args.lr, "weight_decay": args.weight_decay, "grad_clip": args.grad_clip,
        "data": batches.describe(), "seed": args.seed,
        "world_size": denv.world_size, "backend": backend, "rank_hosts": hosts, "rank_matmul_tflops": probe,
        "device_type": device.type,
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "mem_total_bytes": mem_total, "peak_flops_per_gpu": peak_flops, "peak_flops_source": peak_source,
        "torch_version": torch.__version__, "cuda_version": torch.version.cuda,
        "nccl_version": _nccl_version() if backend == "nccl" else None,
        "python_version": platform.python_version(),
        "cuda_alloc_conf": os.environ.get("PYTORCH_CUDA_ALLOC_CONF"),
    }


def train(args, denv: DistEnv, device: torch.device, shape: ModelShape, parallel: str, parallel_why: str,
          backend: str, writer: MetricsWriter) -> int:
    compute_dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    attention, attention_fn, attention_why = choose_attention(args.attention, device, compute_dtype, shape.head_dim)
    ops = compiled_ops() if args.compile else EAGER_OPS
    wrapped = build_model(args, denv, device, shape, parallel, attention_fn, ops)
    model = wrapped.model
    model.train()
    if parallel == "deepspeed":
        from .deepspeed_engine import DeepSpeedStepper

        optimizer_name = wrapped.optimizer_name
        stepper = DeepSpeedStepper(wrapped, ops.loss, args.grad_accum, args.grad_clip)
    else:
        optimizer, optimizer_name = make_optimizer(model.parameters(), args, device)
    batches = make_batches(args.data, shape.vocab_size, args.micro_batch, args.grad_accum, args.seq_len, args.seed,
                           denv.rank, denv.world_size, args.repeat_batch, device)
    # FSDP's MixedPrecision casts the compute itself; DDP runs fp32 weights under autocast.
    use_autocast = parallel == "ddp" and args.precision == "bf16"

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16) if use_autocast else contextlib.nullcontext()

    if parallel != "deepspeed":
        stepper = TorchStepper(wrapped, optimizer, ops.loss, args, autocast)

    on_gpu = device.type == "cuda"
    peak_flops, peak_source = None, None
    if on_gpu:
        if args.peak_tflops:
            peak_flops, peak_source = args.peak_tflops * 1e12, "--peak-tflops"
        else:
            peak_flops = peak_bf16_flops(torch.cuda.get_device_name(device))
            peak_source = "datasheet table" if peak_flops else None
    mem_total = torch.cuda.get_device_properties(device).total_memory if on_gpu else None
    # Collectives: every rank takes part.
    hosts = all_gather_strings(socket.gethostname())
    probe_dtype = torch.bfloat16 if on_gpu else torch.float32
    probe = [round(x, 3) for x in all_gather_floats([matmul_tflops(device, probe_dtype)], device)[:, 0].tolist()]
    writer.write(config_record(args, denv, device, backend, shape, wrapped, parallel_why, attention, attention_why,
                               optimizer_name, batches, peak_flops, peak_source, mem_total,
                               "elementwise ops" if args.compile else "off", hosts, probe))

    def sync():
        if on_gpu:
            torch.cuda.synchronize(device)

    tokens = denv.world_size * args.grad_accum * args.micro_batch * args.seq_len
    samples = denv.world_size * args.grad_accum * args.micro_batch
    steps = []
    def one_step(step: int):
        stepper.set_lr(lr_at(step, args))
        loss_sum = torch.zeros((), device=device, dtype=torch.float32)
        for micro in range(args.grad_accum):
            loss_sum += stepper.micro_step(batches.get(step - 1, micro), micro == args.grad_accum - 1)
        return loss_sum, stepper.finish()

    for step in range(1, args.steps + 1):
        sync()
        start = time.perf_counter()
        lr = lr_at(step, args)
        loss_sum, grad_norm = one_step(step)
        sync()
        elapsed = time.perf_counter() - start
        peak = peak_memory(device)
        rows = all_gather_floats([elapsed, loss_sum.item(),
                                  float(grad_norm) if grad_norm is not None else float("nan"),
                                  float(peak["allocated"]), float(peak["reserved"])], device)
        record = step_record(step, step <= args.warmup_steps, rows.tolist(), tokens, samples, lr)
        steps.append(record)
        writer.write(record)
    writer.write(summary_record(steps, denv.world_size, on_gpu, flops_per_token(shape, args.seq_len),
                                peak_flops, mem_total))
    if args.profile:
        from .profile_step import profile_one_step

        path = args.profile if denv.rank == 0 else f"{args.profile}.rank{denv.rank}"
        profile_one_step(path, lambda: one_step(args.steps + 1), on_gpu, f"{wrapped.name}, rank {denv.rank}")
    return EXIT_OK


def _is_oom(exc: BaseException) -> bool:
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom_type is not None and isinstance(exc, oom_type)) or "out of memory" in str(exc)


def run(args) -> int:
    denv = read_env()
    if _torch_at_least(2, 1):
        # Fewer fragmentation failures near the memory limit; must be set before CUDA starts.
        os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")
    device = pick_device(args.device, denv)
    shape = resolve_shape(args)
    parallel, parallel_why = check_setup(args, denv, device, shape)
    try:
        writer = MetricsWriter(args.metrics, enabled=denv.rank == 0)
    except OSError as exc:
        raise UsageError(f"--metrics {args.metrics}: cannot write ({exc.strerror})") from None

    # From here on, work: failures are runtime errors (1) or out-of-memory (3), never 2.
    try:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = init_process_group(denv, device, args.timeout_s)
        code = train(args, denv, device, shape, parallel, parallel_why, backend, writer)
        writer.close()
        dist.destroy_process_group()
        return code
    except Exception as exc:  # noqa: BLE001 - report every failure in the one-line form
        oom = _is_oom(exc)
        message = f"rank {denv.rank}: {'out of memory' if oom else type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if not oom:
            traceback.print_exc(file=sys.stderr)
        print_error(message)
        writer.write({"type": "error", "rank": denv.rank, "kind": "oom" if oom else "runtime", "message": message})
        writer.close()
        sys.stdout.flush()
        sys.stderr.flush()
        # Peers may be blocked in a collective with us: leave without the orderly shutdown,
        # which would wait for them; the launcher (torchrun) stops the others.
        os._exit(EXIT_OOM if oom else EXIT_RUNTIME)
