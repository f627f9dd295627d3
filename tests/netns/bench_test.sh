#!/usr/bin/env bash
# sxcoll bench across NHOSTS namespace hosts x R ranks, torchrun-style: shared memory
# between the ranks of a host, TCP between hosts:
#   bench_test.sh SXCOLL NHOSTS R ALGO
# Asserts every rank exits 0, rank 0's table checks clean (integer and float, sum and max),
# its header names the hosts, places every rank on the host it was launched on and routes
# its links (shm within the host, tcp across), the bytes crossed the hosts' links, and
# down leaves nothing behind.
set -euo pipefail
(($# == 4)) || { echo "usage: $0 SXCOLL NHOSTS R ALGO" >&2; exit 2; }
sxcoll=$1 nhosts=$2 per_host=$3 algo=$4
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"
[[ -x $sxcoll ]] || fail "no sxcoll binary at $sxcoll"

netns_begin "$nhosts"
world=$((nhosts * per_host))
"$LAUNCH" --per-host "$per_host" --timeout 90 --out "$WORK/run" -- \
  "$sxcoll" bench -b 8 -e 4M -f 4 -n 2 -w 1 -c 1 -d int32,float -o sum,max --algo "$algo" --transport tcp \
  --timeout 20s ||
  fail "bench across $nhosts hosts x $per_host ranks (--algo $algo): a rank failed (above)"

table="$WORK/run/rank-0.out"
cat "$table"
grep -qxF "# Out of bounds values : 0 OK" "$table" || fail "rank 0: no '# Out of bounds values : 0 OK'"
rows=$(grep -cE '^ +[0-9]+ ' "$table" || true)
want_rows=0
for ((bytes = 8; bytes <= 4 * 1024 * 1024; bytes *= 4)); do want_rows=$((want_rows + 4)); done
((rows == want_rows)) || fail "rank 0: $rows table rows, expected $want_rows (8 B .. 4 MiB, factor 4, 2 types x 2 ops)"
# nccl-tests' 13 fields per row; the algorithm per size is on a '#' line of its own.
bad=$(grep -E '^ +[0-9]+ ' "$table" | awk 'NF != 13' | head -n1)
[[ -z $bad ]] || fail "rank 0: a row without nccl-tests' 13 fields: $bad"
grep -E "^# algorithm per size: 8(\.\.[0-9]+[KMG]?)? [a-z_]+" "$table" || fail "rank 0: no '# algorithm per size:' line"

# "# ranks: 6  hosts: 3 (a, b, c)  launcher: torchrun": bench lists the distinct host names, sorted.
names=()
for ((h = 0; h < nhosts; h++)); do names+=("$("$HOSTS" name "$h")"); done
sorted=$(printf '%s\n' "${names[@]}" | sort | paste -sd, - | sed 's/,/, /g')
expect="# ranks: $world  hosts: $nhosts ($sorted)  launcher: torchrun"
grep -qxF "$expect" "$table" || fail "rank 0's header lacks '$expect': $(grep '^# ranks' "$table")"
# "#  Rank  3 Pid   1234 on fukushimadc-02-hgx-0002": each rank on the host it was launched on.
for ((r = 0; r < world; r++)); do
  grep -qE "^#  Rank +$r Pid +[0-9]+ on +${names[r / per_host]}\$" "$table" ||
    fail "rank 0's header does not place rank $r on ${names[r / per_host]}"
done
grep -q "^# engine: sxcoll  (transport: intra-node: shm; inter-node: tcp" "$table" ||
  fail "rank 0's header does not name shm within hosts and tcp between them"
links_re="^# links of rank 0: shm to $((per_host - 1)) ranks? of this host, tcp to [0-9]+ ranks? of other hosts\$"
grep -qE "$links_re" "$table" || fail "rank 0's links are not routed shm within, tcp across: $(grep '^# links' "$table")"
# The bytes crossed the hosts' links (each host's eth0 into the bridge), not loopback:
# every host sent and received at least a 2 MiB allreduce's share.
for ((h = 0; h < nhosts; h++)); do
  tx=$("$HOSTS" exec "$h" cat /sys/class/net/eth0/statistics/tx_bytes)
  rx=$("$HOSTS" exec "$h" cat /sys/class/net/eth0/statistics/rx_bytes)
  echo "host $h eth0: sent $tx B, received $rx B"
  ((tx > 1000000 && rx > 1000000)) || fail "host $h's eth0 carried only $tx B out, $rx B in"
done

netns_end
echo "$test_name: PASS: $nhosts hosts x $per_host ranks, --algo $algo"
