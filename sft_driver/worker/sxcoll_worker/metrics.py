"""JSON-lines metrics: one "config" line, one "step" line per optimizer step, one "summary".

Only rank 0 writes (stdout, and --metrics FILE). Every line is strict JSON (no NaN or
Infinity tokens, which C++ parsers reject): a non-finite loss is written as null with
"loss_status": "nan" or "inf". Lines are flushed one by one so that a crash keeps them.
The schema is documented in ../README.md.
"""

import json
import math
import resource
import statistics
import sys
from typing import Dict, List, Optional

import torch

from .flops import mfu

SCHEMA_VERSION = 1


def finite_or_none(x: Optional[float]) -> Optional[float]:
    return x if x is not None and math.isfinite(x) else None


def loss_status(x: float) -> str:
    return "ok" if math.isfinite(x) else ("nan" if math.isnan(x) else "inf")


class MetricsWriter:
    def __init__(self, path: Optional[str], enabled: bool):
        self.enabled = enabled
        self.echo = enabled
        self.file = open(path, "w") if (enabled and path) else None

    def write(self, record: Dict) -> None:
        if not self.enabled:
            return
        line = json.dumps({"schema": SCHEMA_VERSION, **record}, allow_nan=False, sort_keys=False)
        if self.echo:
            try:
                print(line, flush=True)
            except OSError:  # whoever read stdout went away; the --metrics file still gets every line
                self.echo = False
        if self.file:
            self.file.write(line + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()
            self.file = None


def peak_memory(device: torch.device) -> Dict[str, int]:
    """Peak since the start: CUDA caching-allocator figures, or the process's peak RSS on CPU."""
    if device.type == "cuda":
        return {"allocated": torch.cuda.max_memory_allocated(device), "reserved": torch.cuda.max_memory_reserved(device)}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1024 if sys.platform.startswith("linux") else 1)
    return {"allocated": rss, "reserved": rss}


def step_record(step: int, warmup: bool, rank_rows: List[List[float]], tokens: int, samples: int, lr: float) -> Dict:
    """rank_rows[r] = [step_time_s, loss, grad_norm, peak_allocated, peak_reserved] of rank r."""
    times = [row[0] for row in rank_rows]
    losses = [row[1] for row in rank_rows]
    loss = sum(losses) / len(losses)  # every rank saw as many tokens: a plain mean is the global mean
    grad_norm = rank_rows[0][2]
    return {
        "type": "step", "step": step, "warmup": warmup,
        # The step ends when the slowest rank ends: that is the step's time for throughput.
        "step_time_s": max(times), "tokens": tokens, "samples": samples,
        "loss": finite_or_none(loss), "loss_status": loss_status(loss),
        "grad_norm": finite_or_none(grad_norm),  # null: clipping off (not computed) or non-finite
        "lr": lr,
        "peak_mem_bytes": int(max(row[3] for row in rank_rows)),
        "peak_reserved_bytes": int(max(row[4] for row in rank_rows)),
        "rank_step_time_s": times,
        "rank_peak_mem_bytes": [int(row[3]) for row in rank_rows],
    }


def summary_record(steps: List[Dict], world_size: int, on_gpus: bool, flops_per_token: int,
                   peak_flops: Optional[float], mem_total_bytes: Optional[int]) -> Dict:
    """Steady state: the steps after warm-up only."""
    steady = [s for s in steps if not s["warmup"]]
    time_s = sum(s["step_time_s"] for s in steady)
    tokens = sum(s["tokens"] for s in steady)
    samples = sum(s["samples"] for s in steady)
    tokens_per_s = tokens / time_s if time_s > 0 else None
    per_rank = [statistics.mean(col) for col in zip(*(s["rank_step_time_s"] for s in steady))] if steady else []
    peak = max((s["peak_mem_bytes"] for s in steps), default=None)
    peak_reserved = max((s["peak_reserved_bytes"] for s in steps), default=None)
    times = [s["step_time_s"] for s in steady]
    losses = [s["loss"] for s in steps]
    return {
        "type": "summary",
        "steps": len(steps), "steady_steps": len(steady),
        "time_s": time_s, "tokens": tokens, "samples": samples,
        "samples_per_s": samples / time_s if time_s > 0 else None,
        "tokens_per_s": tokens_per_s,
        "tokens_per_s_per_gpu": tokens_per_s / world_size if tokens_per_s else None,
        "n_gpus": world_size if on_gpus else 0,
        "flops_per_token": flops_per_token,
        "peak_flops_per_gpu": peak_flops,
        "mfu": mfu(flops_per_token, tokens_per_s, world_size, peak_flops) if tokens_per_s else None,
        "step_time_mean_s": statistics.mean(times) if times else None,
        "step_time_median_s": statistics.median(times) if times else None,
        "step_time_min_s": min(times) if times else None,
        "step_time_max_s": max(times) if times else None,
        "rank_step_time_mean_s": per_rank,
        "peak_mem_bytes": peak,
        "peak_reserved_bytes": peak_reserved,
        "mem_total_bytes": mem_total_bytes,
        "headroom_bytes": (mem_total_bytes - peak_reserved) if (mem_total_bytes and peak_reserved) else None,
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
        "nonfinite_loss_steps": sum(1 for s in steps if s["loss_status"] != "ok"),
    }
