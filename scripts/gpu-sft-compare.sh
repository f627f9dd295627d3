#!/usr/bin/env bash
# Issue 14 on a machine with a CUDA GPU, in one go: DeepSpeed ZeRO side by side with FSDP.
#
# Usage: scripts/gpu-sft-compare.sh [STEP...]   steps: facts small compare (default: all three)
#   facts    the GPU, Python, PyTorch, DeepSpeed as the worker imports it, and whether DeepSpeed's
#            FusedAdam op builds here (JIT, once; else the DeepSpeed runs use torch's fused AdamW)
#   small    tests/sft/test_gpu_deepspeed.py: the tiny shape with FSDP, ZeRO-2 and ZeRO-3 on the
#            same seed and data, each loss finite and falling as FSDP's does
#   compare  `sxcoll sft` on a plan of the Llama-2-7B shape (seq SEQ, bf16, activation
#            checkpointing, compiled elementwise ops): FSDP and DeepSpeed ZeRO-3, one GPU, the
#            same micro-batch; the report with its engine comparison table; each run profiles
#            one extra step (torch.profiler operator table) after its measured ones
# Environment:
#   BUILD      build tree with app/sxcoll (default build/; built when absent); a prebuilt tree may
#              carry its runtime libraries in BUILD/lib
#   DEEPSPEED_VENDOR  DeepSpeed for the worker: the vendored tarball (third_party/deepspeed/
#              deepspeed-vendor.tar.gz, the default) or an unpacked folder; "installed": the
#              interpreter's own
#   RESULTS    where logs and results go (default gpu-sft-compare-results/)
#   MB, SEQ, STEPS, WARMUP  the 7B runs' micro-batch, sequence, steps and warm-up (8, 4096, 5, 2)
#   OFFLOAD    1: the ZeRO-3 run offloads its optimizer to the CPU (ZeRO-Offload; default 0)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
RESULTS=${RESULTS:-gpu-sft-compare-results}
VENDOR=${DEEPSPEED_VENDOR:-third_party/deepspeed/deepspeed-vendor.tar.gz}
MB=${MB:-8}
SEQ=${SEQ:-4096}
STEPS=${STEPS:-5}
WARMUP=${WARMUP:-2}
OFFLOAD=${OFFLOAD:-0}
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(facts small compare)
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
# NVLink multicast stays off on shared machines (see ../shared/device.md).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
# DeepSpeed: no prebuilt ops; the ones it needs are JIT-built for this GPU's architecture only.
export DS_ACCELERATOR=cuda DS_BUILD_OPS=0 TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda} MAX_JOBS=${MAX_JOBS:-$(nproc)}
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$(python3 -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())' 2>/dev/null || echo 9.0)}

site=""
case $VENDOR in
  installed) ;;
  *)
    if [ -d "$VENDOR" ]; then
      site=$(cd "$VENDOR" && pwd)
    elif [ -f "$VENDOR" ]; then
      site=${TMPDIR:-/tmp}/sxcoll-deepspeed-vendor
      mkdir -p "$site" && tar -xzf "$VENDOR" -C "$site" || { echo "cannot unpack $VENDOR" >&2; exit 2; }
    else
      echo "DEEPSPEED_VENDOR: $VENDOR is neither the tarball nor a folder (or say 'installed')" >&2
      exit 2
    fi
    ;;
esac
worker="$PWD/sft_driver/worker"
export PYTHONPATH="$worker${site:+:$site}"
failed=()

# shellcheck source=lib/check.sh
source scripts/lib/check.sh  # check NAME COMMAND...

ds_optimizer=auto
build_fused_adam() {
  timeout 150 python3 -c 'import time; t = time.time()
from sxcoll_worker.deepspeed_engine import import_deepspeed
import_deepspeed()
from deepspeed.ops.op_builder import FusedAdamBuilder
FusedAdamBuilder().load()
print(f"FusedAdam built and loaded in {time.time() - t:.0f} s")'
}

small_test() { (cd tests/sft && python3 run_module.py test_gpu_deepspeed); }

# The 7B plan: the same shape, data, seed and micro-batch for both engines, one GPU each.
write_plan() {
  local offload=false
  [ "$OFFLOAD" = 1 ] && offload=true
  cat >"$RESULTS/plan-7b.json" <<EOF
{
  "name": "llama2-7b-fsdp-vs-deepspeed-1gpu",
  "python": "python3",
  "max_attempts": 1,
  "defaults": {
    "seq_len": $SEQ, "micro_batch": $MB, "grad_accum": 1, "nodes": 1,
    "ranks_per_node": 1, "steps": $STEPS, "warmup_steps": $WARMUP, "precision": "bf16",
    "activation_checkpointing": true, "device": "cuda", "data": "synthetic", "timeout_s": 240,
    "env": {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1", "NVSHMEM_DISABLE_NVLS": "1",
            "PYTHONPATH": "$site"}
  },
  "models": [
    {"model": "llama2-7b", "engine": "fsdp", "extra_args": ["--compile", "--profile", "$RESULTS/profile-fsdp.txt"]},
    {"model": "llama2-7b", "engine": "deepspeed", "zero_stage": 3, "offload_optimizer": $offload,
     "extra_args": ["--compile", "--ds-optimizer", "$ds_optimizer", "--profile", "$RESULTS/profile-zero3.txt"]}
  ]
}
EOF
}

for step in "${steps[@]}"; do
  case $step in
    facts)
      { nvidia-smi -L; nproc; python3 --version
        python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
        python3 -m sxcoll_worker.deepspeed_probe && echo "(DeepSpeed as the worker imports it, PYTHONPATH=$PYTHONPATH)"
        echo "TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST CUDA_HOME=$CUDA_HOME"; } >"$RESULTS/facts.log" 2>&1
      cat "$RESULTS/facts.log"
      echo "== fused_adam: DeepSpeed's FusedAdam op, JIT-built for this GPU"
      if build_fused_adam >"$RESULTS/fused_adam.log" 2>&1; then
        tail -1 "$RESULTS/fused_adam.log" | sed 's/^/   /'
      else  # not a failure: the DeepSpeed runs take torch's fused AdamW, and say so
        ds_optimizer=torch-adamw
        echo "   did not build (last lines of $RESULTS/fused_adam.log below): the DeepSpeed runs use torch's fused AdamW"
        tail -5 "$RESULTS/fused_adam.log" | sed 's/^/   | /'
      fi
      ;;
    small)
      check small_fsdp_zero2_zero3 small_test
      ;;
    compare)
      if [ ! -x "$BUILD/app/sxcoll" ]; then scripts/build.sh || exit 1; fi
      [ -d "$BUILD/lib" ] && export LD_LIBRARY_PATH="$PWD/$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      write_plan
      # Exit 1 also when only the PDF is missing (no WeasyPrint here): each run's status decides.
      SXCOLL_HOME=$PWD "$BUILD/app/sxcoll" sft --plan "$RESULTS/plan-7b.json" --results "$RESULTS/sft" \
        >"$RESULTS/sft.log" 2>&1
      echo "== sxcoll sft (exit $?):"
      sed 's/^/   | /' "$RESULTS/sft.log"
      report=$(ls -d "$RESULTS"/sft/*/reports 2>/dev/null | tail -1)
      if [ -n "$report" ]; then
        sed -n '/^## Results/,/^## Scaling/p' "$report/report.md"
      fi
      for s in "$RESULTS"/sft/*/runs/*/status.json; do
        grep -q '"status": "ok"' "$s" || failed+=("$(basename "$(dirname "$s")")")
      done
      for p in "$RESULTS"/profile-*.txt; do [ -f "$p" ] && head -2 "$p"; done
      ;;
    *)
      echo "unknown step '$step' (facts small compare)" >&2
      exit 2
      ;;
  esac
done

finish
