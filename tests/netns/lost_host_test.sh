#!/usr/bin/env bash
# A host lost mid-run: NHOSTS hosts x R ranks run a long bench; once rank 0 has printed its
# first rows, every rank of host VICTIM is killed (SIGKILL, through its namespace). The
# survivors must exit non-zero by themselves (not by the runner's timeout), within LIMIT s
# of the kill, each naming a lost rank of that host.
#   lost_host_test.sh SXCOLL NHOSTS R VICTIM
set -euo pipefail
(($# == 4)) || { echo "usage: $0 SXCOLL NHOSTS R VICTIM" >&2; exit 2; }
sxcoll=$1 nhosts=$2 per_host=$3 victim=$4
readonly LIMIT=30
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"
[[ -x $sxcoll ]] || fail "no sxcoll binary at $sxcoll"
((victim < nhosts)) || fail "no host $victim among $nhosts"

netns_begin "$nhosts"
world=$((nhosts * per_host))
run="$WORK/run"
# Long enough that the kill lands mid-sweep (32 MiB x 40 iterations at the end: about 10 s on 2 cores).
"$LAUNCH" --per-host "$per_host" --timeout 150 --out "$run" -- \
  "$sxcoll" bench -b 8 -e 32M -f 4 -n 40 -w 1 -c 1 --algo ring --transport tcp --timeout 10s \
  >"$WORK/launch.out" 2>"$WORK/launch.err" &
launcher=$!

# Mid-run: the table has begun (a 2 KiB row) and the run is not over.
for ((i = 0; i < 600; i++)); do
  [[ -f $run/launched ]] && grep -qE '^ +2048 ' "$run/rank-0.out" 2>/dev/null && break
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
grep -qE '^ +2048 ' "$run/rank-0.out" 2>/dev/null || { cat "$WORK/launch.err" >&2; fail "the run never got to its 2 KiB row"; }
kill -0 "$launcher" 2>/dev/null || fail "the run ended before the kill: make it longer"
victim_name=$("$HOSTS" name "$victim")
echo "killing host $victim ($victim_name): $("$HOSTS" pids "$victim" | tr '\n' ' ')"
killed_at=$(date +%s%N)
"$HOSTS" kill "$victim" KILL

rc=0
wait "$launcher" || rc=$?
elapsed_ms=$((($(date +%s%N) - killed_at) / 1000000))
elapsed="$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))"
cat "$WORK/launch.err"
echo "the survivors ended ${elapsed} s after the kill"
((rc == 1)) || fail "launch.sh exit $rc, expected 1 (ranks failed)"

lost_re="rank ($(seq -s'|' $((victim * per_host)) $(((victim + 1) * per_host - 1)))) lost"
for ((r = 0; r < world; r++)); do
  got=$(<"$run/rank-$r.rc")
  h=$((r / per_host))
  if ((h == victim)); then
    ((got == 137)) || fail "rank $r on the killed host: exit $got, expected 137 (SIGKILL)"
    grep -qF "FAIL rank $r (local rank $((r % per_host)) on host $h $victim_name," "$WORK/launch.err" ||
      fail "launch.sh does not name killed rank $r on $victim_name"
    continue
  fi
  ((got != 0)) || fail "rank $r survived the loss of host $victim with exit 0"
  ((got != 124 && got < 128)) || fail "rank $r did not notice by itself: exit $got (timeout or signal)"
  grep -qE "$lost_re" "$run/rank-$r.err" ||
    fail "rank $r's error does not name a lost rank of host $victim (/$lost_re/): $(tail -n 2 "$run/rank-$r.err")"
  echo "rank $r (host $h): exit $got: $(grep -E "$lost_re" "$run/rank-$r.err" | head -n 1)"
done
((elapsed_ms <= LIMIT * 1000)) || fail "the survivors took ${elapsed} s (limit ${LIMIT} s)"

netns_end
echo "$test_name: PASS: host $victim of $nhosts killed; every survivor named a lost rank within ${elapsed} s"
