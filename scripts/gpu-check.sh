#!/usr/bin/env bash
# The GPU check of issue 6, in one go on a machine with CUDA GPUs (2 for the NCCL parts):
# the CUDA tests, allreduce of GPU buffers for every dtype and op with both algorithms
# and both engines, the other collectives (--coll all) through both engines, sxcoll over TCP against NCCL on its socket transport (the comparison
# of docs/PERFORMANCE.md), NCCL's default path as the box's ceiling, and the 32 GiB runs.
#
# Usage: scripts/gpu-check.sh [STEP...]   steps: facts tests matrix one_gpu ipc ipc_bw compare ceiling huge
#                                         (default: all but huge)
# ipc and ipc_bw (issue 11) run 2 ranks through CUDA IPC; one GPU serves (both ranks on it);
# one_gpu is the matrix's part that one GPU can run.
# Environment:
#   BUILD    build tree with app/sxcoll and tests/cuda/ (default build/; built when absent).
#            A prebuilt tree may carry its runtime libraries in BUILD/lib.
#   RESULTS  where logs and JSON go (default gpu-check-results/)
#   NCCL_HOME  NCCL's folder (lib/libnccl.so.2); found through python3's nvidia.nccl if unset
#   MAX      largest size of the comparison (default 4G); ITERS, WARMUP (default 5, 2)
#   SXCOLL_FLAGS  sxcoll's settings in the comparison and the 32 GiB run (default
#            "--nsocks 8 --buffsize 16M": 8 sockets per peer, 2 MiB pipeline slots, what
#            `sxcoll tune --engine sxcoll --mem cuda` chose on 2 x H200, docs/PERFORMANCE.md;
#            NCCL keeps its defaults)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RESULTS=${RESULTS:-gpu-check-results}
MAX=${MAX:-4G}
ITERS=${ITERS:-5}
WARMUP=${WARMUP:-2}
SXCOLL_FLAGS=${SXCOLL_FLAGS:---nsocks 8 --buffsize 16M}
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(facts tests matrix ipc ipc_bw compare ceiling)
mkdir -p "$RESULTS"
# NVLink multicast stays off on shared machines (see ../shared/device.md).
export NCCL_NVLS_ENABLE=0

if [ ! -x "$BUILD/app/sxcoll" ]; then
  scripts/build.sh || exit 1
fi
[ -d "$BUILD/lib" ] && export LD_LIBRARY_PATH="$PWD/$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${NCCL_HOME:-}" ]; then
  NCCL_HOME=$(python3 -c 'import nvidia.nccl as m; print(list(m.__path__)[0])' 2>/dev/null || true)
  [ -n "$NCCL_HOME" ] && export NCCL_HOME
fi
sxcoll="$BUILD/app/sxcoll"
failed=()

# shellcheck source=lib/check.sh
source scripts/lib/check.sh  # check NAME COMMAND...

# NCCL's socket transport: its bytes cross the kernel's TCP stack, as sxcoll's do here.
nccl_socket() { env NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_IB_DISABLE=1 "$@"; }

for step in "${steps[@]}"; do
  case $step in
    facts)
      { nvidia-smi -L; nvidia-smi topo -m; nproc; uname -r; echo "NCCL_HOME=${NCCL_HOME:-}"; } >"$RESULTS/facts.log" 2>&1
      cat "$RESULTS/facts.log"
      ;;
    tests)
      check device_reduce_test "$BUILD/tests/cuda/device_reduce_test"
      check gpu_allreduce_test "$BUILD/tests/cuda/gpu_allreduce_test"
      check nccl_engine_test "$BUILD/tests/nccl/nccl_engine_test"
      ;;
    matrix)
      for algo in ring tree; do
        check "sxcoll_${algo}_all_types" "$sxcoll" bench --np 2 --mem cuda --intra net --algo "$algo" -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
      done
      check nccl_all_types "$sxcoll" bench --np 2 --mem cuda --engine nccl -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
      # nccl-tests' other collectives (issue 13): both engines on the same buffers, every
      # dtype and op, root 1; over TCP and through CUDA IPC for sxcoll.
      check collectives_both_all_types "$sxcoll" bench --np 2 --mem cuda --intra net --engine both --coll all -r 1 \
        -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
      check collectives_cuda_ipc_all_types "$sxcoll" bench --np 2 --mem cuda --intra cuda_ipc --coll all -r 1 \
        -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
      ;;
    one_gpu)
      # What one GPU can check of the collective set (issue 13) and of --validate's GPU
      # node checks (issue 12): NCCL with one rank (it refuses two ranks on one GPU),
      # sxcoll's own with two ranks over TCP and through CUDA IPC, every dtype and op.
      check nccl_collectives_one_rank "$sxcoll" bench --np 1 --mem cuda --engine nccl --coll all \
        -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
      check collectives_tcp_all_types "$sxcoll" bench --np 2 --mem cuda --intra net --coll all -r 1 \
        -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
      check collectives_cuda_ipc_all_types "$sxcoll" bench --np 2 --mem cuda --intra cuda_ipc --coll all -r 1 \
        -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
      check validate_gpu_node "$sxcoll" bench --np 1 --validate --json "$RESULTS/validate.json"
      ;;
    ipc)
      for algo in ring tree; do
        for mode in write read; do
          check "cuda_ipc_${mode}_${algo}_all_types" "$sxcoll" bench --np 2 --mem cuda --intra cuda_ipc \
            --cuda-ipc "$mode" --algo "$algo" -d all -o all -b 1K -e 8M -f 8 -n 1 -w 1
        done
      done
      ;;
    ipc_bw)
      # CUDA IPC between 2 ranks against a device-to-device copy of the same bytes on the
      # same machine, in the same call (the copy is the peer: bench/micro/device_reduce_bench).
      for mode in write read; do
        check "cuda_ipc_${mode}_bw" "$sxcoll" bench --np 2 --mem cuda --intra cuda_ipc --cuda-ipc "$mode" -b 8 \
          -e "$MAX" -f 4 -n "$ITERS" -w "$WARMUP" --json "$RESULTS/cuda_ipc_${mode}_bw.json"
      done
      check d2d_copy "$BUILD/bench/sxcoll_device_reduce_bench" --benchmark_filter=Copy
      ;;
    compare)
      # shellcheck disable=SC2086  # the flags are words
      check compare nccl_socket "$sxcoll" bench --np 2 --mem cuda --intra net --engine both $SXCOLL_FLAGS \
        -b 1M -e "$MAX" -f 4 -n "$ITERS" -w "$WARMUP" --json "$RESULTS/compare.json"
      ;;
    ceiling)
      check nccl_default "$sxcoll" bench --np 2 --mem cuda --engine nccl -b 1M -e "$MAX" -f 4 -n "$ITERS" -w "$WARMUP" \
        --json "$RESULTS/nccl_default.json"
      ;;
    huge)
      # NCCL on its default path here: the point is 32 GiB with #wrong = 0 on both engines.
      # shellcheck disable=SC2086
      check huge_32g "$sxcoll" bench --np 2 --mem cuda --intra net --engine both $SXCOLL_FLAGS -b 32G -e 32G -n 1 -w 0 \
        --json "$RESULTS/huge_32g.json"
      ;;
    *)
      echo "unknown step '$step' (facts tests matrix ipc ipc_bw compare ceiling huge)" >&2
      exit 2
      ;;
  esac
done

finish
