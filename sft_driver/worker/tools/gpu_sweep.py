"""Measure a Llama shape on this machine's GPUs: throughput, MFU and the largest micro-batch.

    python3 sft_driver/worker/tools/gpu_sweep.py --out DIR [--budget-s 420] [--nproc 2]

Runs the worker through torchrun (FSDP, bf16) for a short plan, inside a time budget:
  1. seq 4096, activation checkpointing, micro-batch 2 and 8 (eager): peak memory is
     linear in the micro-batch, so two points predict the largest that fits;
  2. the same at micro-batch 8 with --compile, to pick eager or compiled;
  3. the predicted largest micro-batch at seq 4096 and at seq 2048 (stepping down on OOM);
  4. seq 4096 without activation checkpointing, and with every other layer checkpointed.
Everything lands in DIR as runs.jsonl (every metrics line, tagged with its run) and
logs.txt (each run's command and stderr tail); the table is printed at the end. Used for
the numbers in docs/PERFORMANCE.md; not part of the tests.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

WORKER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB = 1024 ** 3


class Sweep:
    def __init__(self, args):
        self.args = args
        self.deadline = time.monotonic() + args.budget_s
        self.results = []
        self.tmp = tempfile.mkdtemp(prefix="sxcoll-sweep-")
        self.runs = open(os.path.join(args.out, "runs.jsonl"), "w")
        self.logs = open(os.path.join(args.out, "logs.txt"), "w")
        self.startup_s = 45.0  # first guess; replaced by what the first run shows

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, name, seq, mb, ac_every=1, compile_=False, est_step_s=None):
        steps, warmup = self.args.steps, self.args.warmup
        estimate = self.startup_s + steps * (est_step_s or 2.0) + (40 if compile_ else 0)
        if estimate > self.left():
            print(f"skip {name}: needs ~{estimate:.0f}s, {self.left():.0f}s left", flush=True)
            return None
        metrics = os.path.join(self.tmp, name + ".jsonl")
        flags = ["--model", self.args.model, "--precision", "bf16", "--parallel", self.args.parallel, "--seq-len", str(seq),
                 "--micro-batch", str(mb), "--steps", str(steps), "--warmup-steps", str(warmup),
                 "--metrics", metrics, "--timeout-s", "300"]
        if ac_every:
            flags += ["--activation-checkpointing", "--ac-every", str(ac_every)]
        flags += ["--compile"] if compile_ else ["--no-compile"]
        env = dict(os.environ, PYTHONPATH=WORKER_DIR, NCCL_NVLS_ENABLE="0", TORCH_SYMM_MEM_DISABLE_MULTICAST="1",
                   NVSHMEM_DISABLE_NVLS="1", PYTHONUNBUFFERED="1")
        print(f"run {name}: seq {seq} mb {mb} ac_every {ac_every} compile {compile_}", flush=True)
        start = time.monotonic()
        cmd, rc, err = self.launch(flags, env)
        wall = time.monotonic() - start
        lines = []
        if os.path.exists(metrics):
            with open(metrics) as f:
                lines = [json.loads(x) for x in f if x.strip()]
        for x in lines:
            self.runs.write(json.dumps({"run": name, **x}) + "\n")
        self.runs.flush()
        self.logs.write(f"==== {name} rc={rc} wall={wall:.1f}s\n$ {' '.join(cmd)}\n")
        self.logs.write("\n".join(err.splitlines()[-40:]) + "\n")
        self.logs.flush()
        by_type = {x["type"]: x for x in lines}
        steps_seen = [x for x in lines if x["type"] == "step"]
        result = {"name": name, "seq": seq, "mb": mb, "ac_every": ac_every, "compile": compile_, "rc": rc,
                  "wall_s": wall, "summary": by_type.get("summary"), "error": by_type.get("error"),
                  "oom": "out of memory" in err or (by_type.get("error") or {}).get("kind") == "oom",
                  "peak_reserved": max((s["peak_reserved_bytes"] for s in steps_seen), default=None),
                  "mem_total": (by_type.get("config") or {}).get("mem_total_bytes")}
        if result["summary"] and rc == 0:
            self.startup_s = min(self.startup_s, max(10.0, wall - sum(s["step_time_s"] for s in steps_seen)))
        self.results.append(result)
        s = result["summary"]
        print(f"  rc {rc} wall {wall:.0f}s" + (f" tok/s/gpu {fmt(s['tokens_per_s_per_gpu'], '.0f')} "
              f"mfu {fmt(s['mfu'], '.3f')} peak_reserved {fmt(s['peak_reserved_bytes'], '.1f', GIB)} GiB" if s else "")
              + (" OOM" if result["oom"] else ""), flush=True)
        return result

    def launch(self, flags, env):
        """torchrun, or (--launcher local) one process per rank with torchrun's variables, for
        PyTorch builds whose torchrun is broken (Debian's 1.13 under Python 3.11)."""
        n = self.args.nproc
        if self.args.launcher == "torchrun":
            cmds = [[sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n),
                     "-m", "sxcoll_worker", *flags]]
            envs = [env]
        else:
            import socket

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = str(sock.getsockname()[1])
            cmds = [[sys.executable, "-m", "sxcoll_worker", *flags]] * n
            envs = [dict(env, RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n),
                         MASTER_ADDR="127.0.0.1", MASTER_PORT=port) for r in range(n)]
        procs = [subprocess.Popen(c, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True) for c, e in zip(cmds, envs)]
        errs, rc = [], 0
        for p in procs:
            try:
                _, err = p.communicate(timeout=max(30.0, self.left()))
            except subprocess.TimeoutExpired:
                for q in procs:
                    os.killpg(q.pid, signal.SIGKILL)
                _, err = p.communicate()
            errs.append(err)
            rc = rc or p.returncode
        return cmds[0], rc, "\n".join(errs)

    def step_time(self, r):
        return r["summary"]["step_time_median_s"] if r and r["summary"] else None

    def largest(self, name, seq, mb, ac_every, compile_, per_sample_step_s, tries=3):
        """Run at mb; on OOM step down by ~10 % (at least 1), up to `tries` runs."""
        best = None
        for _ in range(tries):
            if mb < 1:
                break
            r = self.run(f"{name}-mb{mb}", seq, mb, ac_every, compile_, est_step_s=per_sample_step_s * mb)
            if r is None:
                break
            if r["summary"] and r["rc"] == 0:
                best = r
                break
            if not r["oom"]:
                break
            mb = min(mb - 1, int(mb * 0.9))
        return best


def fmt(value, spec, scale=1):
    return "-" if value is None else format(value / scale, spec)


def fit(points):
    """Least squares of peak bytes against micro-batch: (intercept, slope)."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    slope = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx
    return my - slope * mx, slope


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, default=420)
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--launcher", choices=("torchrun", "local"), default="torchrun")
    ap.add_argument("--model", default="llama2-7b")
    ap.add_argument("--parallel", default="fsdp", help="(ddp and a tiny model: a dry run of this script on a CPU)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seq-long", type=int, default=4096, help="the long sequence; the short one is half")
    ap.add_argument("--assume-mem-gib", type=float, default=8.0, help="device memory where none is reported (CPU)")
    ap.add_argument("--margin-gib", type=float, default=3.0, help="memory kept free beyond the fitted peak")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sw = Sweep(args)

    long_, short = args.seq_long, args.seq_long // 2
    small = sw.run(f"s{long_}-ac-eager-mb2", long_, 2)
    if not (small and small["summary"]):
        print("first run failed; see logs.txt", flush=True)
    else:
        per_sample = sw.step_time(small) / 2
        eager8 = sw.run(f"s{long_}-ac-eager-mb8", long_, 8, est_step_s=per_sample * 8)
        comp8 = sw.run(f"s{long_}-ac-compile-mb8", long_, 8, compile_=True, est_step_s=per_sample * 8)
        use_compile = bool(comp8 and comp8["summary"] and eager8 and eager8["summary"]
                           and sw.step_time(comp8) < sw.step_time(eager8))
        ref8 = comp8 if use_compile else eager8
        if not (ref8 and ref8["summary"]):  # eager at 8 failed: fall back on whichever mb-8 run worked
            ref8 = comp8 if comp8 and comp8["summary"] else None
            use_compile = ref8 is not None
        if ref8:
            per_sample = sw.step_time(ref8) / 8
            slope_ref = eager8 if eager8 and eager8["summary"] else ref8
            intercept, slope = fit([(2, small["peak_reserved"]), (8, slope_ref["peak_reserved"])])
            # the chosen run's own point at mb 8, with eager's slope (compile saves memory per sample)
            intercept = ref8["peak_reserved"] - 8 * slope
            usable = (small["mem_total"] or args.assume_mem_gib * GIB) - args.margin_gib * GIB
            mb4096 = max(8, int((usable - intercept) // slope))
            mb2048 = max(16, int((usable - intercept) // (slope / 2)))
            print(f"fit: peak = {intercept / GIB:.1f} GiB + mb x {slope / GIB:.2f} GiB at seq {long_}; "
                  f"predict mb {mb4096} ({long_}), {mb2048} ({short}); compile {use_compile}", flush=True)
            sw.largest(f"s{long_}-ac-best", long_, mb4096, 1, use_compile, per_sample)
            sw.largest(f"s{short}-ac-best", short, mb2048, 1, use_compile, per_sample / 2)
            sw.largest(f"s{long_}-noac", long_, 2, 0, use_compile, per_sample * 0.8, tries=2)
            sw.largest(f"s{long_}-ac2", long_, max(2, mb4096 // 3), 2, use_compile, per_sample * 0.9, tries=1)

    header = (f"{'run':28} {'seq':>5} {'mb':>3} {'ac':>3} {'cmp':>3} {'rc':>3} {'tok/s/GPU':>10} {'MFU':>6} "
              f"{'step_s':>7} {'peak_alloc':>10} {'peak_resv':>9} {'headroom':>8}")
    table = [header]
    for r in sw.results:
        s = r["summary"]
        if s:
            table.append(f"{r['name']:28} {r['seq']:5} {r['mb']:3} {r['ac_every']:3} {int(r['compile']):3} {r['rc']:3} "
                         f"{fmt(s['tokens_per_s_per_gpu'], '10.0f')} {fmt(s['mfu'], '6.3f')} "
                         f"{fmt(s['step_time_median_s'], '7.2f')} {fmt(s['peak_mem_bytes'], '9.1f', GIB)}G "
                         f"{fmt(s['peak_reserved_bytes'], '8.1f', GIB)}G {fmt(s['headroom_bytes'], '7.1f', GIB)}G")
        else:
            table.append(f"{r['name']:28} {r['seq']:5} {r['mb']:3} {r['ac_every']:3} {int(r['compile']):3} "
                         f"{str(r['rc']):>3} {'OOM' if r['oom'] else 'failed':>10}")
    text = "\n".join(table)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    print(text, flush=True)


if __name__ == "__main__":
    main()
