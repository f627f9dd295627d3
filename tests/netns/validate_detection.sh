#!/usr/bin/env bash
# The measurement behind docs/PERFORMANCE.md's detection table (not a test: it asserts
# nothing). RUNS validations of NHOSTS namespace hosts x 1 rank, every host's link shaped to
# 400 Mbit/s (tbf, 512 KB burst, as validate_test.sh) and host VICTIM's to SLOWDOWN % less;
# each run in fresh hosts. Rank 0's output of run K goes to OUT/NAME-runK.log, and one line
# per run to OUT/NAME.tsv: run, wall s, exit code, victim failed (yes/no), its link
# deviation, how many other hosts failed, the validation's own time.
#   validate_detection.sh SXCOLL NHOSTS VICTIM SLOWDOWN RUNS THRESHOLD OUT
# SLOWDOWN 0: no host slowed. THRESHOLD is --validate-threshold (e.g. 10).
set -euo pipefail
(($# == 7)) || { echo "usage: $0 SXCOLL NHOSTS VICTIM SLOWDOWN RUNS THRESHOLD OUT" >&2; exit 2; }
sxcoll=$(realpath "$1") nhosts=$2 victim=$3 slowdown=$4 runs=$5 threshold=$6 out=$7
readonly RATE_MBIT=400 BURST=512kb
here=$(cd "$(dirname "$0")" && pwd)
hosts="$here/hosts.sh"
mkdir -p "$out"
name="hosts${nhosts}-slow${slowdown}-thr${threshold}"
tsv="$out/$name.tsv"
printf 'run\twall_s\texit\tvictim_failed\tvictim_link_dev\tothers_failed\tvalidate_s\n' >"$tsv"
for ((k = 1; k <= runs; k++)); do
  work=$(mktemp -d "${TMPDIR:-/tmp}/sxcoll-detect.XXXXXX")
  export SXCOLL_NETNS_STATE="$work/hosts.state" SXCOLL_NETNS_OWNER=$$
  trap '"$hosts" down >/dev/null 2>&1 || true; rm -rf -- "$work"' EXIT
  "$hosts" up "$nhosts" >/dev/null
  for ((h = 0; h < nhosts; h++)); do "$hosts" shape "$h" rate "${RATE_MBIT}mbit" "$BURST" >/dev/null; done
  if ((slowdown > 0)); then
    "$hosts" shape "$victim" rate "$((RATE_MBIT * (100 - slowdown) / 100))mbit" "$BURST" >/dev/null
  fi
  victim_name=$("$hosts" name "$victim")
  t0=$(date +%s%N)
  rc=0
  "$here/launch.sh" --per-host 1 --timeout 120 --out "$work/run" -- "$sxcoll" bench --validate -e 2M -n 8 -w 1 \
    --timeout 10s --validate-threshold "$threshold" --out "$work/state" --json "$work/validate.json" \
    >/dev/null 2>"$work/launch.err" || rc=$?
  wall=$((($(date +%s%N) - t0) / 1000000))
  cp "$work/run/rank-0.out" "$out/$name-run$k.log"
  python3 - "$work/validate.json" "$victim_name" "$slowdown" "$k" "$wall" "$rc" >>"$tsv" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
victim, slowdown, k, wall, rc = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
node = next(n for n in v["nodes"] if n["name"] == victim)
dev = node["rails"][0]["deviation_pct"] if node["rails"] else float("nan")
others = sum(1 for n in v["nodes"] if n["fail"] and n["name"] != victim)
print(f"{k}\t{wall / 1000:.1f}\t{rc}\t{'yes' if node['fail'] else 'no'}\t{dev:+.1f}\t{others}\t{v['elapsed_s']:.1f}")
PY
  "$hosts" down >/dev/null
  rm -rf -- "$work"
  trap - EXIT
done
cat "$tsv"
