#!/usr/bin/env bash
# `sxcoll bench --validate` across 4 namespace hosts x 1 rank, every host's link shaped to
# RATE (tbf) so that the box's own speed does not matter; then
#   slow VICTIM   VICTIM's link at half RATE: the verdict, the JSON and hosts.json name it and
#                 no other; a rerun with the same --out measures no pair again
#   even          no host slowed: no host fails, exit 0
#   kill VICTIM   VICTIM's processes killed mid-validation (in round 2): the others finish
#                 without it (every pair of survivors, the allreduce of the 3), and their
#                 rank 0 (host 1's first where VICTIM is 0) reports it failed, "lost" with the cause,
#                 and excludes it alone
#   mpirun VICTIM as slow, launched by Open MPI's mpirun from host 0 with a host list of the
#                 names, its remote shell mpirun_agent.sh (hosts.sh exec, no ssh)
#   pdsh VICTIM   as slow, launched by `pdsh -R ssh -w NAMES` from host 0, an sshd on every
#                 host (a throwaway key); each rank's RANK from its host name's place in the list
#   validate_test.sh SXCOLL MODE [VICTIM [RANKS-PER-HOST]]   (RANKS-PER-HOST: kill only, default 1)
set -euo pipefail
(($# >= 2)) || { echo "usage: $0 SXCOLL slow|even|kill|mpirun|pdsh [VICTIM [RANKS-PER-HOST]]" >&2; exit 2; }
sxcoll=$1 mode=$2 victim=${3:--1} per_host=${4:-1}
# A burst of 512 KB (10 ms at the rate): with 64 KB (1.3 ms) a sender descheduled on a busy
# machine loses tokens, and a healthy link measures 30 % low.
readonly NHOSTS=4 RATE_MBIT=400 BURST=512kb
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"
[[ -x $sxcoll ]] || fail "no sxcoll binary at $sxcoll"
command -v python3 >/dev/null || { echo "$test_name: SKIP: python3 is needed to read the JSON" >&2; exit 77; }
if [[ $mode == mpirun ]] && ! command -v mpirun >/dev/null; then echo "$test_name: SKIP: no mpirun" >&2; exit 77; fi
if [[ $mode == pdsh ]]; then
  for tool in pdsh ssh ssh-keygen /usr/sbin/sshd; do
    command -v "$tool" >/dev/null || { echo "$test_name: SKIP: no $tool (pdsh, openssh-server)" >&2; exit 77; }
  done
fi

netns_begin "$NHOSTS"
for ((h = 0; h < NHOSTS; h++)); do "$HOSTS" shape "$h" rate "${RATE_MBIT}mbit" "$BURST" >/dev/null; done
[[ $victim -lt 0 || $mode == kill ]] || "$HOSTS" shape "$victim" rate "$((RATE_MBIT / 2))mbit" "$BURST" >/dev/null
victim_name=""
((victim < 0)) || victim_name=$("$HOSTS" name "$victim")

# 2 MiB x 8 writes a direction: at 50 MB/s about 0.35 s, far above tbf's 64 KB burst.
validate_args() { echo bench --validate -e 2M -n 8 -w 1 --timeout 10s --out "$1" --json "$2/validate.json" --hosts-out "$2/hosts.json"; }
# pdsh: an sshd on every host (port 22 of its own namespace), root by a throwaway key.
start_sshds() {
  local ssh_dir="$WORK/ssh"
  mkdir -p "$ssh_dir" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/id"
  cp "$ssh_dir/id.pub" "$ssh_dir/authorized_keys"
  cat >"$ssh_dir/sshd_config" <<CFG
Port 22
HostKey $ssh_dir/host_key
AuthorizedKeysFile $ssh_dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
PidFile none
CFG
  for ((h = 0; h < NHOSTS; h++)); do
    "$HOSTS" exec "$h" /usr/sbin/sshd -D -e -f "$ssh_dir/sshd_config" 2>>"$WORK/sshd-$h.log" &
    disown  # hosts.sh down ends it with the namespace
  done
  export PDSH_SSH_ARGS_APPEND="-i $ssh_dir/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
  for ((h = 0; h < NHOSTS; h++)); do  # until each answers
    for ((i = 0; i < 50; i++)); do
      # shellcheck disable=SC2086
      "$HOSTS" exec 0 ssh $PDSH_SSH_ARGS_APPEND "$("$HOSTS" name "$h")" true 2>/dev/null && break
      sleep 0.1
    done
  done
}

validate() {  # OUT-FOLDER RUN-FOLDER
  if [[ $mode == pdsh ]]; then
    local names rank_sh="$WORK/rank.sh"
    names=$(for ((h = 0; h < NHOSTS; h++)); do "$HOSTS" name "$h"; done | paste -sd,)
    mkdir -p "$2"
    # ssh passes no environment: each rank finds its place from its host name.
    cat >"$rank_sh" <<SH
#!/bin/sh
i=0
for h in $(tr , ' ' <<<"$names"); do [ "\$h" = "\$(hostname)" ] && break; i=\$((i + 1)); done
[ "\$i" = 0 ] || exec >/dev/null
export RANK=\$i WORLD_SIZE=$NHOSTS LOCAL_RANK=0 MASTER_ADDR=${names%%,*} MASTER_PORT=29500 TORCHELASTIC_RUN_ID=pdsh-$$-$RANDOM
exec "$(realpath "$sxcoll")" $(validate_args "$1" "$2")
SH
    chmod +x "$rank_sh"
    # pdsh prefixes every line with "HOST: "; rank 0's lines, unprefixed, make rank-0.out.
    local rc=0
    "$HOSTS" exec 0 timeout 100 pdsh -S -R ssh -w "$names" "$rank_sh" >"$2/pdsh.out" 2>"$2/rank-0.err" || rc=$?
    sed -n "s/^${names%%,*}: //p" "$2/pdsh.out" >"$2/rank-0.out"
    return "$rc"
  fi
  if [[ $mode != mpirun ]]; then
    # shellcheck disable=SC2046  # the arguments hold no spaces
    "$LAUNCH" --per-host "$per_host" --timeout 100 --out "$2" -- "$sxcoll" $(validate_args "$1" "$2")
    return
  fi
  local names
  names=$(for ((h = 0; h < NHOSTS; h++)); do "$HOSTS" name "$h"; done | paste -sd,)
  mkdir -p "$2"
  # mpirun runs on host 0 (the namespace hosts reach nothing else); only rank 0 prints.
  # shellcheck disable=SC2046
  "$HOSTS" exec 0 timeout 100 mpirun --allow-run-as-root --mca plm_rsh_agent "$NETNS_DIR/mpirun_agent.sh" \
    --mca oob_tcp_if_include eth0 --mca btl_tcp_if_include eth0 -H "$names" -np "$NHOSTS" \
    "$(realpath "$sxcoll")" $(validate_args "$1" "$2") >"$2/rank-0.out" 2>"$2/rank-0.err"
}

# Checks the three outputs of run folder $1: exactly the nodes in $2 (space-separated) fail.
check_outputs() {
  local run=$1 expected=$2 table
  table=$(grep -E '^  fukushimadc-' "$run/rank-0.out") || fail "no verdict table in rank 0's output"
  echo "$table"
  for ((h = 0; h < NHOSTS; h++)); do
    local name verdict
    name=$("$HOSTS" name "$h")
    verdict=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$table")
    if [[ " $expected " == *" $name "* ]]; then
      [[ $verdict == FAIL ]] || fail "$name: verdict '$verdict', expected FAIL"
    else
      [[ $verdict == ok ]] || fail "$name: verdict '$verdict', expected ok"
    fi
  done
  python3 - "$run/validate.json" "$run/hosts.json" "$expected" <<'PY' || fail "the JSON files do not agree with the table"
import json, sys
v = json.load(open(sys.argv[1]))
hosts = json.load(open(sys.argv[2]))["hosts"]
expected = set(sys.argv[3].split())
failed = {n["name"] for n in v["nodes"] if n["fail"]}
excluded = {h["name"] for h in hosts if h.get("exclude")}
assert failed == expected, f"JSON fails {failed}, expected {expected}"
assert excluded == expected, f"hosts.json excludes {excluded}, expected {expected}"
assert len(hosts) == 4 and all(h["address"].startswith("198.51.100.") for h in hosts), hosts
assert v["failed_nodes"] == len(expected)
for n in v["nodes"]:
    if n["name"] in expected:
        assert n["causes"], f"{n['name']} fails without a cause"
PY
}

run="$WORK/run"
started=$(date +%s)
[[ $mode != pdsh ]] || start_sshds
case $mode in
  slow | mpirun | pdsh)
    rc=0
    validate "$WORK/state" "$run" >"$WORK/launch.out" 2>"$WORK/launch.err" || rc=$?
    grep -E '^# (validate|slow link)' "$run/rank-0.out" | tail -n 8
    ((rc == 1)) || { cat "$run/rank-0.err" >&2; fail "the launcher's exit $rc, expected 1 (a node fails)"; }
    if [[ $mode == mpirun ]]; then
      grep -q '^# sxcoll bench --validate: 4 nodes, 4 ranks, transport tcp, launcher mpirun' "$run/rank-0.out" ||
        fail "the header does not name 4 nodes and launcher mpirun"
    fi
    check_outputs "$run" "$victim_name"
    grep -E "^  $victim_name +FAIL .*slow on every link" "$run/rank-0.out" >/dev/null ||
      fail "$victim_name's cause is not 'slow on every link'"
    # Every slow link touches the victim.
    if grep -E '^# slow link' "$run/rank-0.out" | grep -v "$victim_name" | grep -q .; then
      fail "a slow link without $victim_name"
    fi
    # Resumed: the same --out measures no pair again and gives the same verdict.
    rc=0
    validate "$WORK/state" "$WORK/again" >/dev/null 2>&1 || rc=$?
    ((rc == 1)) || fail "the rerun: exit $rc, expected 1"
    if grep -q 'round .* of .*pairs left' "$WORK/again/rank-0.out"; then fail "the rerun measured pairs again"; fi
    grep -q 'resumed' "$WORK/again/rank-0.out" || fail "the rerun does not say it resumed"
    check_outputs "$WORK/again" "$victim_name"
    ;;
  even)
    rc=0
    validate "$WORK/state" "$run" >"$WORK/launch.out" 2>"$WORK/launch.err" || rc=$?
    grep -E '^# validate' "$run/rank-0.out" | tail -n 3
    ((rc == 0)) || { grep -E '^  fukushimadc-' "$run/rank-0.out" >&2 || true; fail "launch.sh exit $rc, expected 0"; }
    check_outputs "$run" ""
    ;;
  kill)
    validate "$WORK/state" "$run" >"$WORK/launch.out" 2>"$WORK/launch.err" &
    launcher=$!
    for ((i = 0; i < 600; i++)); do
      grep -q 'round 2 of 3' "$run/rank-0.out" 2>/dev/null && break
      kill -0 "$launcher" 2>/dev/null || break
      sleep 0.1
    done
    grep -q 'round 2 of 3' "$run/rank-0.out" 2>/dev/null || fail "the validation never reached its second round"
    kill -0 "$launcher" 2>/dev/null || fail "the validation ended before the kill"
    echo "killing host $victim ($victim_name) in round 2"
    "$HOSTS" kill "$victim" KILL
    killed_at=$(date +%s)
    rc=0
    wait "$launcher" || rc=$?
    echo "the survivors ended $(($(date +%s) - killed_at)) s after the kill"
    world=$((NHOSTS * per_host))
    for ((r = 0; r < world; r++)); do echo "rank $r: exit $(<"$run/rank-$r.rc"): $(tail -n 1 "$run/rank-$r.err")"; done
    # The survivors' rank 0 reports: rank 0, or the first rank of host 1 where host 0 (rank 0
    # and the store) died.
    reporter=0
    ((victim != 0)) || reporter=$per_host
    [[ $reporter == 0 ]] || cp "$run/rank-$reporter.out" "$run/rank-0.out"
    grep -E '^# validate' "$run/rank-0.out" | tail -n 6
    ((rc == 1)) || fail "launch.sh exit $rc, expected 1"
    for ((r = 0; r < world; r++)); do
      got=$(<"$run/rank-$r.rc")
      if ((r / per_host == victim)); then
        ((got == 137)) || fail "rank $r on the killed host: exit $got, expected 137 (SIGKILL)"
      else
        ((got == 1)) || fail "rank $r: exit $got, expected 1 (a node failed; not a timeout or a signal)"
      fi
    done
    check_outputs "$run" "$victim_name"
    lost_re="rank ($(seq -s'|' $((victim * per_host)) $(((victim + 1) * per_host - 1)))) lost"
    grep -E "^  $victim_name +FAIL .*lost during validation: $lost_re" "$run/rank-0.out" >/dev/null ||
      fail "$victim_name is not reported lost with its cause"
    grep -q "going on with the 3 other nodes" "$run/rank-0.out" || fail "no word that the others go on"
    # The rest finish: every pair of survivors measured, the allreduce of the 3 run.
    python3 - "$run/validate.json" "$victim_name" <<'PY' || fail "the survivors did not finish their steps"
import json, sys
v, victim = json.load(open(sys.argv[1])), sys.argv[2]
others = {n["name"] for n in v["nodes"]} - {victim}
pairs = {frozenset((l["a"], l["b"])) for l in v["links"] if victim not in (l["a"], l["b"])}
assert len(others) == 3 and pairs == {frozenset((a, b)) for a in others for b in others if a < b}, pairs
assert v["allreduce"] is not None and v["allreduce"]["busbw_gbs"] > 0, v["allreduce"]
assert "stopped" not in v, v["stopped"]
assert [l["name"] for l in v["lost_nodes"]] == [victim] and "rank" in v["lost_nodes"][0]["cause"], v["lost_nodes"]
for n in v["nodes"]:
    assert n["lost"] == (n["name"] == victim), n
    if n["name"] != victim:
        assert n["node_checks"].get("cpu_mem_gbs"), f"{n['name']} has no node checks"
PY
    ;;
  *) fail "unknown mode '$mode'" ;;
esac
elapsed=$(($(date +%s) - started))
netns_end
echo "$test_name: PASS: $mode ${victim_name:+($victim_name)} in ${elapsed} s"
