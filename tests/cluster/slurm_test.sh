#!/usr/bin/env bash
# Real Slurm (Debian's slurm-wlm 22.05 and munge) across the 8 namespace hosts of
# tests/netns, named as the seed cluster (fukushimadc-02-hgx-0001..0007, 0009): one
# slurmctld and one slurmd per host (slurm_cluster.sh). The jobs run on four or two nodes
# with a gap in their numbers, so that Slurm hands out bracketed host lists.
#   srun     `srun -N 4` on 0001,0006,0007,0009: every task on its host, SLURM_JOB_NODELIST
#            fukushimadc-02-hgx-[0001,0006-0007,0009]; then `sxcoll bench` through srun (its
#            rendezvous from that list, no MASTER_ADDR): 4 hosts, launcher srun, 0 wrong
#   sbatch   `sbatch --wait -N 4` of `srun sxcoll bench --validate`, 0007's link at half the
#            others' rate: the job exits 1, the verdict, the JSON and hosts.json name 0007 alone
#   sft      `sbatch --wait -N 2` of `sxcoll sft --launcher slurm` with the tiny CPU plan and
#            no --hosts: the nodes come from the allocation's host list; both runs (1 and 2
#            nodes) finish, the inventory recorded is the two hosts
#   slurm_test.sh SXCOLL MODE
set -euo pipefail
(($# == 2)) || { echo "usage: $0 SXCOLL srun|sbatch|sft" >&2; exit 2; }
sxcoll=$(realpath "$1") mode=$2
# shellcheck source-path=SCRIPTDIR source=slurm_cluster.sh
source "$(dirname "$0")/slurm_cluster.sh"
[[ -x $sxcoll ]] || fail "no sxcoll binary at $sxcoll"
command -v python3 >/dev/null || { echo "$test_name: SKIP: python3 is needed to read the JSON" >&2; exit 77; }
readonly NAME=fukushimadc-02-hgx- JOB_LIMIT=150
plan=$(realpath "$(dirname "$0")/../../sft_driver/plans/tiny-cpu.json")
started=$SECONDS

slurm_begin 8
name_of() { echo "$NAME$1"; }

case $mode in
  srun)
    nodes="$(name_of 0001),$(name_of 0006),$(name_of 0007),$(name_of 0009)"
    # shellcheck disable=SC2016  # expanded by each task
    on_login timeout 60 srun -N 4 -w "$nodes" sh -c 'echo "$SLURM_PROCID $(hostname) $SLURM_JOB_NODELIST"' \
      >"$WORK/tasks.out" 2>"$WORK/tasks.err" || { cat "$WORK/tasks.err" >&2; slurm_logs; fail "srun -N 4 failed"; }
    sort -n "$WORK/tasks.out"
    expected="0 $(name_of 0001)|1 $(name_of 0006)|2 $(name_of 0007)|3 $(name_of 0009)"
    got=$(sort -n "$WORK/tasks.out" | cut -d' ' -f1,2 | paste -sd'|')
    [[ $got == "$expected" ]] || fail "tasks on '$got', expected '$expected'"
    lists=$(cut -d' ' -f3 "$WORK/tasks.out" | sort -u)
    [[ $lists == "${NAME}[0001,0006-0007,0009]" ]] || fail "SLURM_JOB_NODELIST '$lists'"
    # sxcoll's rendezvous: rank 0's host from SLURM_STEP_NODELIST, the port from the job id.
    on_login timeout 90 env -u MASTER_ADDR -u MASTER_PORT -u SXCOLL_MASTER srun -N 4 -w "$nodes" -o "$WORK/bench-%t.out" \
      -e "$WORK/bench-%t.err" "$sxcoll" bench -b 8 -e 1M -f 4 -n 2 -w 1 -c 1 --timeout 10s ||
      { tail -n 3 "$WORK"/bench-*.err >&2; fail "srun sxcoll bench failed"; }
    grep -E '^# (ranks|Out of bounds)' "$WORK/bench-0.out"
    grep -qE "^# ranks: 4 .*hosts: 4 \($(name_of 0001), $(name_of 0006), $(name_of 0007), $(name_of 0009)\).*launcher: srun" \
      "$WORK/bench-0.out" || fail "the header does not name the 4 hosts and launcher srun"
    grep -q '^# Out of bounds values : 0 OK' "$WORK/bench-0.out" || fail "wrong values"
    ;;
  sbatch)
    nodes="$(name_of 0001),$(name_of 0003),$(name_of 0007),$(name_of 0009)"
    for h in 0 2 6 7; do "$HOSTS" shape "$h" rate 400mbit 512kb >/dev/null; done
    "$HOSTS" shape 6 rate 200mbit 512kb >/dev/null  # 0007: the half-rate node
    cat >"$WORK/validate.sbatch" <<JOB
#!/bin/sh
echo "nodes: \$SLURM_JOB_NODELIST"
exec srun "$sxcoll" bench --validate -e 2M -n 8 -w 1 --timeout 10s --json "$WORK/validate.json" \
  --hosts-out "$WORK/hosts.json"
JOB
    rc=0
    on_login timeout "$JOB_LIMIT" sbatch --wait -N 4 -w "$nodes" -o "$WORK/job.out" -e "$WORK/job.err" \
      "$WORK/validate.sbatch" || rc=$?
    grep -E '^(nodes|# validate: [0-9]|  fukushimadc)' "$WORK/job.out" || true
    ((rc == 1)) || { cat "$WORK/job.err" >&2 || true; slurm_logs; fail "sbatch --wait: exit $rc, expected 1 (a node fails)"; }
    grep -qxF "nodes: ${NAME}[0001,0003,0007,0009]" "$WORK/job.out" || fail "the job's host list"
    grep -qE "^  $(name_of 0007) +FAIL .*slow on every link" "$WORK/job.out" || fail "0007 is not failed as slow"
    python3 - "$WORK/validate.json" "$WORK/hosts.json" "$(name_of 0007)" <<'PY' || fail "the JSON files"
import json, sys
v, hosts, victim = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["hosts"], sys.argv[3]
assert {n["name"] for n in v["nodes"] if n["fail"]} == {victim}, v["nodes"]
assert {h["name"] for h in hosts if h.get("exclude")} == {victim}, hosts
assert len(hosts) == 4 and v["allreduce"]["busbw_gbs"] > 0
PY
    ;;
  sft)
    nodes="$(name_of 0007),$(name_of 0009)"
    cat >"$WORK/sft.sbatch" <<JOB
#!/bin/sh
echo "nodes: \$SLURM_JOB_NODELIST"
exec "$sxcoll" sft --launcher slurm --plan "$plan" --results "$WORK/sft"
JOB
    rc=0
    on_login timeout "$JOB_LIMIT" sbatch --wait -N 2 -w "$nodes" -o "$WORK/job.out" -e "$WORK/job.err" \
      "$WORK/sft.sbatch" || rc=$?
    cat "$WORK/job.out" || true
    ((rc == 0)) || { cat "$WORK/job.err" >&2 || true; slurm_logs; fail "sbatch --wait of sxcoll sft: exit $rc"; }
    grep -qxF "nodes: ${NAME}[0007,0009]" "$WORK/job.out" || fail "the job's host list"
    dir=$(find "$WORK/sft" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    [[ -n $dir ]] || fail "no sweep folder under $WORK/sft"
    python3 - "$dir" "$(name_of 0007)" "$(name_of 0009)" <<'PY' || fail "the sweep's files"
import csv, json, sys
d, a, b = sys.argv[1:]
hosts = json.load(open(f"{d}/inputs/hosts.json"))["hosts"]
assert [h["name"] for h in hosts] == [a, b], hosts
rows = list(csv.DictReader(open(f"{d}/metrics/performance_summary.csv")))
assert sorted(int(r["nodes"]) for r in rows) == [1, 2] and all(r["status"] == "ok" for r in rows), rows
sweep = json.load(open(f"{d}/sweep.json"))
assert sweep["launcher"] == "slurm", sweep["launcher"]
PY
    grep -rqs -- "srun --nodes=2 --ntasks-per-node=1 --nodelist=$(name_of 0007),$(name_of 0009)" "$dir" ||
      fail "no srun of the 2-node run over the allocation's two hosts in the sweep's logs"
    ;;
  *) fail "unknown mode '$mode'" ;;
esac
slurm_end
echo "$test_name: PASS: $mode in $((SECONDS - started)) s"
