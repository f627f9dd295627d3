"""`--profile FILE`: one more step after the measured ones, under torch.profiler.

Where one engine is slower than another the step time alone does not say why; the operator
table does (which kernels, how long the GPU sat idle between them). The profiled step is
extra: it is in no step record and not in the summary, so the figures stay unperturbed.
"""

import time
from typing import Callable

import torch


def profile_one_step(path: str, run_step: Callable[[], None], on_gpu: bool, label: str) -> None:
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_gpu else [])
    with profile(activities=activities, record_shapes=False) as prof:
        start = time.perf_counter()
        run_step()
        if on_gpu:
            torch.cuda.synchronize()
        wall_s = time.perf_counter() - start
    events = prof.key_averages()
    # (Summing the rows' device time would count a kernel under every operator that launched it;
    # the table's own footer, "Self CUDA time total", counts each kernel once.)
    sort = "self_device_time_total" if events and hasattr(events[0], "self_device_time_total") else "self_cuda_time_total"
    with open(path, "w") as f:
        f.write(f"# {label}: one extra step under torch.profiler, after the measured ones\n")
        f.write(f"# step wall time {wall_s:.3f} s (profiler on); against it, the footer's kernel time\n")
        f.write(events.table(sort_by=sort if on_gpu else "self_cpu_time_total", row_limit=40) + "\n")
