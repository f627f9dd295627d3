#!/usr/bin/env bash
# `sxcoll bench --p2p` over TCP on this host: every pair of 3 ranks measured, rows for
# every size, data checked, the per-link summary printed, exit code 0. Usage: p2p_tcp.sh SXCOLL
set -uo pipefail
sxcoll="$1"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
fail() { echo "p2p_tcp: FAIL: $*"; sed 's/^/  | /' "$out"; exit 1; }

timeout 100 "$sxcoll" bench --p2p --np 3 --transport tcp -b 4K -e 64K -f 4 -n 5 -w 1 --timeout 30s >"$out" 2>&1
rc=$?
((rc == 0)) || fail "exit code $rc"
for link in "0 <-> 1" "0 <-> 2" "1 <-> 2"; do
  rows="$(grep -c "^ *tcp *$link " "$out")"
  ((rows == 3)) || fail "link $link: $rows rows, expected one per size (4K, 16K, 64K)"
done
grep -q '^# p2p: [0-9]* of 3 links below 80 % of their rail' "$out" || fail "no per-link summary"
grep -q '^# Out of bounds values : 0 OK' "$out" || fail "data arrived wrong"
echo "p2p_tcp: PASS"
