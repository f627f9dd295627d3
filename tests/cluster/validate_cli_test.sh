#!/usr/bin/env bash
# `sxcoll bench --validate` as a user runs it on one machine: bad input is one line and exit
# 2 before any work; a run of 2 local ranks (one node) writes its JSON and a hosts.json that
# `sxcoll sft --hosts` reads; --out keeps a state.json a rerun resumes from.
#   validate_cli_test.sh SXCOLL
set -euo pipefail
sxcoll=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/sxcoll-validate-cli.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
fail() { echo "validate_cli_test: FAIL: $*" >&2; exit 1; }
cd "$work"
command -v python3 >/dev/null || { echo "validate_cli_test: SKIP: python3 is needed to read the JSON" >&2; exit 77; }

usage_error() {  # NEEDLE ARGS...
  local needle=$1 rc=0
  shift
  env -u RANK -u OMPI_COMM_WORLD_RANK -u SLURM_PROCID "$sxcoll" "$@" >out 2>err || rc=$?
  ((rc == 2)) || fail "$*: exit $rc, expected 2: $(cat err)"
  [[ $(wc -l <err) -eq 1 ]] || fail "$*: expected one line on stderr, got: $(cat err)"
  grep -qF -- "$needle" err || fail "$*: '$needle' not in: $(cat err)"
  [[ ! -s out ]] || fail "$*: work started before the input was checked: $(cat out)"
  echo "ok: $* -> $(cat err)"
}
usage_error "--validate-threshold 'lots'" bench --validate --validate-threshold lots
usage_error "--validate-threshold '150'" bench --validate --validate-threshold 150
usage_error "--validate-threshold '0%'" bench --validate --validate-threshold 0%
usage_error "--validate and --p2p" bench --validate --p2p
usage_error "neither --mem cuda nor --engine" bench --validate --mem cuda
usage_error "belong to --validate" bench --hosts-out h.json
usage_error "directory nowhere does not exist" bench --validate --out nowhere/run
touch taken.json
usage_error "--hosts-out taken.json: the file exists" bench --validate --hosts-out taken.json

rc=0
"$sxcoll" bench --validate --np 2 -e 1M -n 2 -w 1 --validate-threshold 15% --out state --json v.json \
  --hosts-out hosts.json >run.out 2>run.err || rc=$?
((rc == 0)) || fail "a local run: exit $rc: $(cat run.err)"
grep -q '^# validate: 0 of 1 nodes failed' run.out || fail "no summary line: $(cat run.out)"
grep -q 'no links to measure' run.out || fail "one node: no word that there are no links"
python3 - <<'PY' || fail "v.json / hosts.json"
import json
v = json.load(open("v.json"))
assert v["threshold"] == 0.15 and len(v["nodes"]) == 1 and not v["nodes"][0]["fail"], v
assert v["allreduce"]["busbw_gbs"] > 0
h = json.load(open("hosts.json"))["hosts"]
assert len(h) == 1 and "exclude" not in h[0] and h[0]["gpus"] >= 0, h
PY
[[ -f state/state.json ]] || fail "no state/state.json"
"$sxcoll" bench --validate --np 2 -e 1M -n 2 -w 1 --out state >again.out 2>&1 || fail "the rerun failed: $(cat again.out)"
grep -q 'resumed' again.out || fail "the rerun does not say it resumed"
if grep -q 'node checks .* (1 of 1)' again.out; then fail "the rerun measured the node again"; fi
# The hosts file is one `sxcoll sft --hosts` takes.
"$sxcoll" sft --dry-run --launcher mpirun --hosts hosts.json --plan /dev/null >sft.out 2>&1 || true
if grep -q 'hosts hosts.json' sft.out; then fail "sft refuses the hosts file: $(cat sft.out)"; fi
echo "validate_cli_test: PASS"
