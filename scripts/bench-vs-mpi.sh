#!/usr/bin/env bash
# The benchmark of docs/PERFORMANCE.md: sxcoll's collectives against OpenMPI's counterparts
# (tools/mpi_coll_perf: MPI_Allreduce, MPI_Allgather, MPI_Reduce_scatter_block, MPI_Bcast,
# MPI_Reduce, MPI_Alltoall, MPI_Sendrecv), same sizes, same ranks, same machine, one run,
# each collective MPI first and sxcoll right after.
# Usage: scripts/bench-vs-mpi.sh [NP...]   (default: 2 4). Prints a Markdown table per NP
# and collective. Environment: COLLS (comma-separated sxcoll names, default allreduce),
# TRANSPORT (tcp: MPI's TCP BTL against sxcoll over loopback TCP, --intra net; shm: both
# with their defaults for local ranks, MPI's shared-memory BTL and sxcoll's shm), MIN, MAX,
# ITERS, WARMUP.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${ITERS:-10}
WARMUP=${WARMUP:-3}
MIN=${MIN:-8}
MAX=${MAX:-256M}
COLLS=${COLLS:-allreduce}
TRANSPORT=${TRANSPORT:-tcp}
case "$TRANSPORT" in
  tcp) mpi_args=(--mca btl tcp,self --mca btl_tcp_if_include lo); sx_args=(--intra net) ;;
  shm) mpi_args=(); sx_args=() ;;
  *) echo "bench-vs-mpi.sh: TRANSPORT=$TRANSPORT: expected tcp or shm" >&2; exit 2 ;;
esac
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ), transport $TRANSPORT"
for np in ${@:-2 4}; do
  for coll in ${COLLS//,/ }; do
    mpirun --oversubscribe -np "$np" "${mpi_args[@]}" \
      build/tools/mpi_coll_perf --coll "$coll" -b "$MIN" -e "$MAX" -n "$ITERS" -w "$WARMUP" >"$out/mpi"
    build/app/sxcoll bench --np "$np" "${sx_args[@]}" --coll "$coll" -b "$MIN" -e "$MAX" -n "$ITERS" -w "$WARMUP" \
      -c 0 >"$out/sx"
    echo
    echo "### $coll, $np ranks (float; busbw in GB/s, time in us; out-of-place | in-place)"
    echo
    echo "| size (B) | MPI time | sxcoll time | MPI busbw | sxcoll busbw | ratio | MPI busbw ip | sxcoll busbw ip | ratio ip |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    # mpi: size count time algbw busbw time algbw busbw; sxcoll: size count type op root time algbw busbw wrong time algbw busbw wrong
    awk 'FNR==NR && $1 !~ /^#/ {mt[$1]=$3; mb[$1]=$5; mbi[$1]=$8; next}
         FNR!=NR && $1 !~ /^#/ && ($1 in mb) {
           r = mb[$1] > 0 ? sprintf("%.2f", $8 / mb[$1]) : "-";
           ri = mbi[$1] > 0 ? sprintf("%.2f", $12 / mbi[$1]) : "-";
           printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, mt[$1], $6, mb[$1], $8, r, mbi[$1], $12, ri }' \
      "$out/mpi" "$out/sx"
  done
done
