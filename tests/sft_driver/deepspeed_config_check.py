"""The DeepSpeed config `sxcoll sft` writes, held against what DeepSpeed accepts.

Usage (ctest runs it): python3 deepspeed_config_check.py SXCOLL_BINARY

The configs come from `sxcoll sft --dry-run` (the same function writes the attempt's
ds_config.json) for ZeRO-2, ZeRO-3 and ZeRO-3 with optimizer offload. Three checks:

1. Every key is one of DeepSpeed's documented keys (deepspeed.ai/docs/config-json), from a
   table here; always runs.
2. DeepSpeed's own config code, where the vendored package (DeepSpeed 0.14.5, pydantic 1,
   hjson: third_party/deepspeed/deepspeed-vendor.tar.gz in the checkout, or
   SXCOLL_DEEPSPEED_VENDOR = that tarball or its unpacked folder) can be loaded: the
   "zero_optimization" block through its pydantic model DeepSpeedZeroConfig (extra keys
   forbidden, every type checked), the top-level keys against the names in
   deepspeed/runtime/constants.py, the optimizer type against DeepSpeed's optimizer names.
   Loaded without PyTorch: DeepSpeed's package __init__ (which imports torch) is bypassed.
3. The worker itself accepts the file with the flags the dry run gives it (what it checks
   before DeepSpeed starts: batch sizes, precision, clipping, optimizer, no scheduler).
"""

import ast
import importlib
import json
import logging
import os
import re
import shlex
import subprocess
import sys
import tarfile
import tempfile
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "sft_driver", "worker"))

from sxcoll_worker.cli import parse_args  # noqa: E402 - after the path
from sxcoll_worker.errors import UsageError  # noqa: E402

SXCOLL = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(REPO, "build", "app", "sxcoll")

# deepspeed.ai/docs/config-json: the keys this driver may write, by section.
DOCUMENTED_TOP = {"train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "optimizer",
                  "scheduler", "fp16", "bf16", "gradient_clipping", "zero_optimization", "steps_per_print",
                  "wall_clock_breakdown", "activation_checkpointing", "prescale_gradients", "communication_data_type",
                  "zero_allow_untested_optimizer", "data_types"}
DOCUMENTED_ZERO = {"stage", "allgather_partitions", "allgather_bucket_size", "overlap_comm", "reduce_scatter",
                   "reduce_bucket_size", "contiguous_gradients", "offload_param", "offload_optimizer",
                   "stage3_max_live_parameters", "stage3_max_reuse_distance", "stage3_prefetch_bucket_size",
                   "stage3_param_persistence_threshold", "sub_group_size", "elastic_checkpoint",
                   "stage3_gather_16bit_weights_on_model_save", "ignore_unused_parameters", "round_robin_gradients",
                   "zero_hpz_partition_size", "zero_quantized_weights", "zero_quantized_gradients",
                   "memory_efficient_linear"}  # the last: DeepSpeedZeroConfig, deepspeed.readthedocs.io "ZeRO"
DOCUMENTED_OFFLOAD_OPTIMIZER = {"device", "nvme_path", "pin_memory", "ratio", "buffer_count", "fast_init"}
DOCUMENTED_OPTIMIZER_TYPES = {"Adam", "AdamW", "OneBitAdam", "ZeroOneAdam", "OneBitLamb", "Lamb", "Lion"}

PLAN = {"python": "python3",
        "defaults": {"engine": "deepspeed", "device": "cuda", "seq_len": 4096, "steps": 5, "warmup_steps": 2,
                     "precision": "bf16", "activation_checkpointing": True, "nodes": 2, "ranks_per_node": 8},
        "models": [{"model": "llama2-7b", "micro_batch": 8, "grad_accum": 4, "zero_stage": 2},
                   {"model": "llama2-7b", "micro_batch": 8, "grad_accum": 4, "zero_stage": 3},
                   {"model": "llama2-7b", "micro_batch": 4, "grad_accum": 1, "zero_stage": 3,
                    "offload_optimizer": True}]}


def dry_run_configs():
    """[(run id, config, the worker's flags)] as `sxcoll sft --dry-run` prints them."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "plan.json")
        with open(plan, "w") as f:
            json.dump(PLAN, f)
        out = subprocess.run([SXCOLL, "sft", "--dry-run", "--plan", plan], capture_output=True, text=True,
                             timeout=60, cwd=tmp)
    if out.returncode != 0:
        raise AssertionError(f"sxcoll sft --dry-run failed ({out.returncode}): {out.stderr}")
    runs, config = [], None
    for line in out.stdout.splitlines():
        m = re.match(r"# DeepSpeed config \((.*)\): (\{.*\})$", line)
        if m:
            config = json.loads(m.group(2))
        elif " -m sxcoll_worker " in line and config is not None:
            argv = shlex.split(line)
            runs.append((config, argv[argv.index("sxcoll_worker") + 1:]))
            config = None
    return runs


def vendor_site():
    """The unpacked vendor folder, or None with the reason."""
    given = os.environ.get("SXCOLL_DEEPSPEED_VENDOR")
    path = given or os.path.join(REPO, "third_party", "deepspeed", "deepspeed-vendor.tar.gz")
    if os.path.isdir(path):
        return path, None
    if not os.path.isfile(path):
        return None, f"no vendored DeepSpeed at {path} (set SXCOLL_DEEPSPEED_VENDOR to the tarball or its folder)"
    site = tempfile.mkdtemp(prefix="ds-vendor-")
    with tarfile.open(path) as t:
        t.extractall(site)
    return site, None


def load_deepspeed_config_code(site):
    """DeepSpeed's ZeRO config model, its key constants and optimizer names, without PyTorch."""
    sys.path.insert(0, site)  # the vendored pydantic 1 and hjson
    for name, rel in (("deepspeed", "deepspeed"), ("deepspeed.runtime", "deepspeed/runtime"),
                      ("deepspeed.runtime.zero", "deepspeed/runtime/zero")):
        pkg = types.ModuleType(name)  # a bare package: its __init__ would import torch
        pkg.__path__ = [os.path.join(site, rel)]
        sys.modules[name] = pkg
    utils = types.ModuleType("deepspeed.utils")  # what the config modules take from it: the logger
    utils.logger = logging.getLogger("DeepSpeed")
    sys.modules["deepspeed.utils"] = utils
    zero_config = importlib.import_module("deepspeed.runtime.zero.config")
    constants = importlib.import_module("deepspeed.runtime.constants")
    keys = {v for k, v in vars(constants).items() if k.isupper() and isinstance(v, str)}
    keys.add(zero_config.ZERO_OPTIMIZATION)
    # Optimizer names live in runtime/config.py, which imports torch: read its assignments instead.
    with open(os.path.join(site, "deepspeed", "runtime", "config.py")) as f:
        tree = ast.parse(f.read())
    optimizers = {node.value.value for node in tree.body
                  if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                  and any(isinstance(t, ast.Name) and t.id.endswith("_OPTIMIZER") for t in node.targets)}
    return zero_config.DeepSpeedZeroConfig, keys, optimizers


class GeneratedConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.runs = dry_run_configs()

    def test_three_runs_with_their_stages(self):
        self.assertEqual([c["zero_optimization"]["stage"] for c, _ in self.runs], [2, 3, 3])
        self.assertEqual(self.runs[2][0]["zero_optimization"]["offload_optimizer"]["device"], "cpu")
        self.assertEqual(self.runs[0][0]["train_batch_size"], 8 * 4 * 16)

    def test_only_documented_keys(self):
        for cfg, _ in self.runs:
            self.assertLessEqual(set(cfg), DOCUMENTED_TOP)
            self.assertLessEqual(set(cfg["zero_optimization"]), DOCUMENTED_ZERO)
            self.assertLessEqual(set(cfg["zero_optimization"].get("offload_optimizer", {})),
                                 DOCUMENTED_OFFLOAD_OPTIMIZER)
            self.assertIn(cfg["optimizer"]["type"], DOCUMENTED_OPTIMIZER_TYPES)

    def test_deepspeeds_own_config_models(self):
        site, why = vendor_site()
        if site is None:
            self.skipTest(why)
        zero_model, keys, optimizers = load_deepspeed_config_code(site)
        for cfg, _ in self.runs:
            self.assertLessEqual(set(cfg), keys, "a top-level key DeepSpeed does not read")
            zero = zero_model(**cfg["zero_optimization"])  # pydantic: unknown keys and bad types raise
            self.assertEqual(int(zero.stage), cfg["zero_optimization"]["stage"])
            offload = cfg["zero_optimization"].get("offload_optimizer")
            if offload:
                self.assertEqual(str(zero.offload_optimizer.device), "cpu")
            self.assertIn(cfg["optimizer"]["type"].lower(), optimizers)
        # The model really checks: a misspelt key is refused.
        with self.assertRaises(Exception):
            zero_model(**{**self.runs[1][0]["zero_optimization"], "stage3_prefetch_bucket": 1})

    def test_the_worker_accepts_it_with_its_flags(self):
        env = dict(os.environ, WORLD_SIZE="16")
        for cfg, flags in self.runs:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(cfg, f)
            i = flags.index("--deepspeed-config")
            flags = flags[:i + 1] + [f.name] + flags[i + 2:]
            flags[flags.index("--metrics") + 1] = os.path.join(tempfile.gettempdir(), "m.jsonl")
            old = dict(os.environ)
            os.environ.update(env)
            try:
                args = parse_args(flags)
                self.assertEqual(args.parallel, "deepspeed")
                # A file that disagrees with the flags is refused, naming the key.
                with open(f.name, "w") as g:
                    json.dump({**cfg, "gradient_accumulation_steps": 7}, g)
                with self.assertRaisesRegex(UsageError, "gradient_accumulation_steps is 7 but --grad-accum is"):
                    parse_args(flags)
            finally:
                os.environ.clear()
                os.environ.update(old)
                os.unlink(f.name)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
