#!/usr/bin/env bash
# sxcoll bench across NHOSTS namespace hosts x R ranks on this machine (tests/netns): shared
# memory within each host, TCP between them, one run per algorithm on the same hosts and
# links, rank 0's table of each kept. What docs/PERFORMANCE.md's "namespaced hosts" figures
# come from. Needs root (network namespaces); makes and removes its hosts itself.
#
#   scripts/netns-bench.sh OUT_DIR NHOSTS R "ALGO..." [BENCH FLAGS...]
#   e.g. scripts/netns-bench.sh results/netns 2 2 "ring ring_topo hier auto" -b 8 -e 64M -n 20
set -euo pipefail
cd "$(dirname "$0")/.."
(($# >= 4)) || { echo "usage: $0 OUT_DIR NHOSTS R \"ALGO...\" [BENCH FLAGS...]" >&2; exit 2; }
out=$1 nhosts=$2 per_host=$3 algos=$4
shift 4
sxcoll=${SXCOLL:-build/app/sxcoll}
[[ -x $sxcoll ]] || { echo "$0: no sxcoll at $sxcoll (scripts/build.sh)" >&2; exit 2; }
mkdir -p "$out"
export SXCOLL_NETNS_STATE
SXCOLL_NETNS_STATE=$(mktemp "${TMPDIR:-/tmp}/sxcoll-netns-bench.XXXXXX")
trap 'tests/netns/hosts.sh down >/dev/null || true; rm -f "$SXCOLL_NETNS_STATE"' EXIT
tests/netns/hosts.sh up "$nhosts" >/dev/null
for algo in $algos; do
  echo "== --algo $algo: $nhosts hosts x $per_host ranks"
  tests/netns/launch.sh --per-host "$per_host" --timeout 600 --out "$out/run-$algo" -- \
    "$(realpath "$sxcoll")" bench --algo "$algo" "$@"
  cp "$out/run-$algo/rank-0.out" "$out/$algo.log"
  # Rows are nccl-tests' 13 fields; the algorithm each size ran with is on its own '#' line.
  grep -v '^#' "$out/$algo.log" | awk '{printf "%12s %10s us %8s GB/s busbw\n", $1, $6, $8}'
  grep '^# algorithm per size: ' "$out/$algo.log" || true
done
