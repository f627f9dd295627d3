"""Shared helpers for the worker's tests: paths, launching ranks, reading JSON lines.

Run with the interpreter that has PyTorch (on Debian: /usr/bin/python3 after
`apt-get install python3-torch`); tests that need PyTorch skip cleanly without it.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TESTS_DIR))
WORKER_DIR = os.path.join(REPO, "sft_driver", "worker")
if WORKER_DIR not in sys.path:
    sys.path.insert(0, WORKER_DIR)

HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_TRANSFORMERS = importlib.util.find_spec("transformers") is not None
NO_TORCH = "PyTorch is not installed for this interpreter (Debian: apt-get install python3-torch)"


def worker_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["PYTHONPATH"] = WORKER_DIR + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"  # 2 ranks on CI's 2 cores: no oversubscription
    env["CUDA_VISIBLE_DEVICES"] = ""  # the CPU path, also on a machine with a GPU
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_module(module: str, args: Sequence[str], env_extra: Optional[Dict[str, str]] = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], env=worker_env(env_extra), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def run_ranks(n: int, args: Sequence[str], timeout: float = 120,
              ranks: Optional[Sequence[int]] = None) -> List[subprocess.CompletedProcess]:
    """Start ranks (default all n) of one job as local processes with torchrun's variables."""
    port = str(free_port())
    procs = []
    for rank in (range(n) if ranks is None else ranks):
        env = worker_env({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(n),
                          "LOCAL_WORLD_SIZE": str(n), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port})
        procs.append((rank, subprocess.Popen([sys.executable, "-m", "sxcoll_worker", *args], env=env, cwd=REPO,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    results = []
    for rank, p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for _, q in procs:
                q.kill()
            raise
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def read_jsonl(path: str) -> List[Dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
