"""A short matrix-multiply probe per rank, to name a slow GPU.

Inside a training step FSDP's collectives make every rank wait for the slowest, so per-rank
step times come out equal and cannot say which GPU is slow. A few large bf16 matrix
products timed on each rank alone, before training starts, can: a throttled or half-speed
GPU shows a proportionally lower TFLOP/s. (A slow network link is not what this measures.)
"""

import time

import torch


def matmul_tflops(device: torch.device, dtype: torch.dtype) -> float:
    on_gpu = device.type == "cuda"
    n, iters = (8192, 20) if on_gpu else (256, 5)  # ~22 TFLOP on a GPU (~30 ms), trivial on a CPU
    gen = torch.Generator(device=device).manual_seed(0)
    # Random operands, never zeros: some GPUs multiply zeros measurably faster.
    a = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    b = torch.randn(n, n, device=device, dtype=dtype, generator=gen)
    for _ in range(3):
        a @ b
    if on_gpu:
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        a @ b
    if on_gpu:
        torch.cuda.synchronize(device)
    return 2.0 * n ** 3 * iters / (time.perf_counter() - start) / 1e12
