#!/usr/bin/env bash
# The benchmark of docs/PERFORMANCE.md: sxcoll's allreduce over TCP against OpenMPI's
# MPI_Allreduce with its TCP transport, same sizes, same ranks, same machine, one run.
# Usage: scripts/bench-vs-mpi.sh [NP...]   (default: 2 4). Prints a Markdown table per NP.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${ITERS:-10}
WARMUP=${WARMUP:-3}
MIN=${MIN:-8}
MAX=${MAX:-256M}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
for np in "${@:-2 4}"; do
  for np1 in $np; do
    mpirun --oversubscribe -np "$np1" --mca btl tcp,self --mca btl_tcp_if_include lo \
      build/tools/mpi_allreduce_perf -b "$MIN" -e "$MAX" -n "$ITERS" -w "$WARMUP" >"$out/mpi$np1"
    build/app/sxcoll bench --np "$np1" -b "$MIN" -e "$MAX" -n "$ITERS" -w "$WARMUP" -c 0 >"$out/sx$np1"
    echo
    echo "### $np1 ranks (float sum; busbw in GB/s, time in us; out-of-place | in-place)"
    echo
    echo "| size (B) | MPI time | sxcoll time | MPI busbw | sxcoll busbw | ratio | MPI busbw ip | sxcoll busbw ip | ratio ip |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    # mpi: size count time algbw busbw time algbw busbw; sxcoll: size count type op root time algbw busbw wrong time algbw busbw wrong algo
    awk 'FNR==NR && $1 !~ /^#/ {mt[$1]=$3; mb[$1]=$5; mbi[$1]=$8; next}
         FNR!=NR && $1 !~ /^#/ && ($1 in mb) {
           r = mb[$1] > 0 ? sprintf("%.2f", $8 / mb[$1]) : "-";
           ri = mbi[$1] > 0 ? sprintf("%.2f", $12 / mbi[$1]) : "-";
           printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, mt[$1], $6, mb[$1], $8, r, mbi[$1], $12, ri }' \
      "$out/mpi$np1" "$out/sx$np1"
  done
done
