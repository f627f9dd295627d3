#!/usr/bin/env bash
# verbs_checks.sh — the verbs transport on a real RoCE v2 stack. Runs INSIDE the Soft-RoCE
# VM (tests/softroce/vm-run.sh), with `sxcoll` on PATH:
#
#   tests/softroce/vm-run.sh --bin build/app/sxcoll --bin tests/verbs/verbs_checks.sh -- verbs_checks.sh basics
#
# Groups, one VM boot each (ctest runs them as verbs_basics, verbs_allreduce, verbs_faults):
#   basics     GID auto-detection against ibv_devinfo -v, --gid-index, bad --hca/--qps input,
#              per-rail byte counters, --rails (one rail per rank, the fallback to both),
#              the p2p check on both rails (3 ranks), writes above the port's largest
#              message (chunked), writes of zero bytes
#   allreduce  allreduce checked for 2, 3, 4 ranks x ring, tree x --qps 1, 4 x one rail, two
#              rails, with --tc; every dtype and op at small sizes; the other collectives
#              (--coll): one size sweep each, and every dtype x op at 4 KiB
#   collectives  the collectives of the allreduce group alone (not a ctest of its own)
#   hosts      2 hosts (UTS namespaces) x 2 ranks on two veth rails each: hier, ring_topo,
#              auto with shm inside and RoCE across, exact; each local rank on its rail
#   faults     a rank killed mid-collective, a rank stopped mid-collective: every survivor
#              names it, within the deadline
# Every sxcoll run has a deadline; the script prints PASS/FAIL per check and
# "N passed, M failed" at the end; exit 0 only if all passed.
set -uo pipefail
# Every rank here runs on the VM: the verbs backend between them, not shared memory.
export SXCOLL_INTRA=net

readonly HCAS=(rxe0 rxe1)
readonly ADDRS=(192.0.2.1 198.51.100.1)
passed=0
failed=0
log_dir="$(mktemp -d /tmp/verbs.XXXXXX)"
run_no=0

pass() { echo "verbs: PASS: $*"; passed=$((passed + 1)); }
fail() { echo "verbs: FAIL: $*"; failed=$((failed + 1)); }
show() { sed 's/^/  | /' "$1" | tail -n "${2:-40}"; }

# run LIMIT ARGS...: sxcoll with a deadline; output in $out, exit code in $rc, seconds in $secs.
run() {
  local limit="$1"
  shift
  run_no=$((run_no + 1))
  out="$log_dir/run$run_no.txt"
  local t0 t1
  t0="$(date +%s)"
  timeout "$limit" sxcoll "$@" >"$out" 2>&1
  rc=$?
  t1="$(date +%s)"
  secs=$((t1 - t0))
  echo "+ sxcoll $* -> exit $rc in ${secs} s" >>"$out"
}

# GID index of the RoCE v2 entry of IPv4 address $2 in `ibv_devinfo -v -d $1`, and the GID.
devinfo_gid() {
  ibv_devinfo -v -d "$1" | awk -v want="::ffff:$2," '
    /GID\[ *[0-9]+\]:/ && /RoCE v2/ {
      for (i = 1; i <= NF; i++) if ($i == want) { g = $0; sub(/.*GID\[ */, "", g); sub(/\].*/, "", g); print g; exit }
    }'
}

check_gid_detection() {
  run 120 bench --np 1 --transport verbs -b 8 -e 8 -n 1 -w 0
  ((rc == 0)) || { fail "single-rank verbs run: exit $rc"; show "$out"; return; }
  local i dev addr want got
  for i in 0 1; do
    dev="${HCAS[$i]}" addr="${ADDRS[$i]}"
    want="$(devinfo_gid "$dev" "$addr")"
    got="$(awk -v d="$dev:1" '$1 == "#" && $2 == "rail:" && $3 == d { print $5 " " $6 }' "$out")"
    if [[ -n "$want" && "$got" == "$want ::ffff:$addr" ]]; then
      pass "$dev: GID auto-detection picked index $want (::ffff:$addr, RoCE v2), as ibv_devinfo -v shows"
    else
      fail "$dev: GID auto-detection says '$got', ibv_devinfo -v says index '$want' for ::ffff:$addr"
      show "$out" 12
      ibv_devinfo -v -d "$dev" | grep 'GID\[' | sed 's/^/  devinfo| /'
    fi
  done
  grep -q '^# line rate: .* Gb/s per rank over 2 rail(s)' "$out" && pass "header states the line rate of both rails" ||
    { fail "no line rate in the header"; show "$out" 12; }
  run 120 bench --np 2 --transport verbs --hca rxe0 --gid-index 1 -b 4K -e 4K -n 2 -w 1 --timeout 60s
  if ((rc == 0)) && grep -q '^# rail: rxe0:1 GID 1 ' "$out"; then
    pass "--gid-index 1 forces the index; allreduce over it checked"
  else
    fail "--gid-index 1: exit $rc"; show "$out"
  fi
}

# expect_usage NEEDLE ARGS...: exit code 2 and one line on stderr containing NEEDLE.
expect_usage() {
  local needle="$1"
  shift
  run 60 bench "$@"
  if ((rc == 2)) && grep -qF -- "$needle" "$out"; then
    pass "bad input '$*': exit 2, '$needle'"
  else
    fail "bad input '$*': exit $rc, expected 2 and '$needle'"; show "$out" 10
  fi
}

check_usage_errors() {
  expect_usage "no active RoCE port matches --hca mlx5_0; found: rxe0:1 (not in --hca), rxe1:1 (not in --hca)" \
    --np 2 --transport verbs --hca mlx5_0
  expect_usage "--hca 'rxe0:x'" --np 2 --transport verbs --hca rxe0:x
  expect_usage "--qps 0: must be 1..64" --np 2 --transport verbs --qps 0
  expect_usage "--gid-index 200: entry 200 of rxe0:1 is empty" --np 2 --transport verbs --hca rxe0 --gid-index 200
}

# rail_bytes RANK RAIL: bytes RANK sent on RAIL, from the per-rail counters of $out.
rail_bytes() {
  awk -v r="$1" -v d="$2" '$2 == "rank" && $3 == r && $5 == d":" { print $7 }' "$out"
}

check_rail_counters() {
  run 180 bench --np 2 --transport verbs --hca rxe0:1,rxe1:1 --rails all --algo ring -b 1M -e 1M -n 2 -w 1 --timeout 60s
  ((rc == 0)) || { fail "two-rail run for the counters: exit $rc"; show "$out"; return; }
  local r rail bytes ok=1
  for r in 0 1; do
    for rail in rxe0:1 rxe1:1; do
      bytes="$(rail_bytes "$r" "$rail")"
      [[ -n "$bytes" && "$bytes" -gt 0 ]] || ok=0
    done
  done
  ((ok)) && pass "--rails all: both rails carried bytes for every rank (per-rail counters)" ||
    { fail "--rails all: a rail carried no bytes"; show "$out" 12; }
}

# --rails: a rank drives one rail where its peer drives the same one, and both rails where
# the peer drives the other (the rails of this VM, as a rail-optimized fabric's, do not
# reach each other).
check_rails() {
  local r ok=1
  run 180 bench --np 2 --transport verbs --hca rxe0:1,rxe1:1 --rails 1,1 --algo ring -b 1M -e 1M -n 2 -w 1 --timeout 60s
  for r in 0 1; do
    [[ "$(rail_bytes "$r" rxe0:1)" == 0 && "$(rail_bytes "$r" rxe1:1)" -gt 0 ]] || ok=0
  done
  grep -q 'this rank drives rxe1:1 (--rails 1,1)' "$out" || ok=0
  ((rc == 0 && ok)) && pass "--rails 1,1: both ranks drive rxe1, rxe0 carried nothing, result checked" ||
    { fail "--rails 1,1: exit $rc"; show "$out" 14; }
  ok=1
  run 180 bench --np 2 --transport verbs --hca rxe0:1,rxe1:1 --rails 0,1 --algo ring -b 1M -e 1M -n 2 -w 1 --timeout 60s
  for r in 0 1; do
    [[ "$(rail_bytes "$r" rxe0:1)" -gt 0 && "$(rail_bytes "$r" rxe1:1)" -gt 0 ]] || ok=0
  done
  ((rc == 0 && ok)) && pass "--rails 0,1: ranks on different rails connect over both, result checked" ||
    { fail "--rails 0,1: exit $rc"; show "$out" 14; }
  expect_usage "--rails '0,x'" --np 2 --transport verbs --rails 0,x
  expect_usage "--rails 0,2: rail 2 for local rank 1, but --hca selects 2 rails" \
    --np 2 --transport verbs --hca rxe0:1,rxe1:1 --rails 0,2
}

check_p2p() {
  run 300 bench --np 3 --transport verbs --p2p -b 64K -e 1M -f 16 -n 4 -w 1 --timeout 60s
  local ok=1 rail link
  ((rc == 0)) || ok=0
  for rail in rxe0:1 rxe1:1 "all 2"; do
    for link in "0 <-> 1" "0 <-> 2" "1 <-> 2"; do
      [[ "$(grep -c "^ *$rail *$link " "$out")" == 2 ]] || ok=0
    done
  done
  grep -q '^# p2p: [0-9]* of 9 links below 80 % of their rail' "$out" || ok=0
  grep -q '^# Out of bounds values : 0 OK' "$out" || ok=0
  ((ok)) && pass "p2p: 3 links x (2 rails + both at once) x 2 sizes measured, data checked, summary (${secs} s)" ||
    { fail "p2p on both rails: exit $rc"; show "$out"; }
  # Writes above rxe's 8 MiB max_msg_sz go as chunks; 8 MiB exactly ends with an empty send.
  run 300 bench --np 2 --transport verbs --hca =rxe1 --p2p -b 8M -e 16M -n 2 -w 0 --timeout 120s
  if ((rc == 0)) && grep -q '^# Out of bounds values : 0 OK' "$out" && [[ "$(grep -c '^ *rxe1:1 *0 <-> 1 ' "$out")" == 2 ]]; then
    pass "p2p writes of 8 MiB and 16 MiB (above the port's largest message) arrive whole (${secs} s)"
  else
    fail "chunked writes: exit $rc"; show "$out"
  fi
  # Zero-byte writes (an allreduce whose chunks are empty on some steps) and sizes that are
  # not multiples of the element size on both rails with 4 QPs.
  run 180 bench --np 3 --transport verbs --qps 4 --algo ring -b 0 -e 0 -n 2 -w 1 --timeout 60s
  ((rc == 0)) && pass "allreduce of 0 bytes over verbs" || { fail "0-byte allreduce: exit $rc"; show "$out"; }
}

check_allreduce_matrix() {
  local np algo qps hca tag
  for np in 2 3 4; do
    for hca in rxe0 rxe0,rxe1; do
      for qps in 1 4; do
        for algo in ring tree; do
          tag="np $np, $algo, --qps $qps, --hca $hca, --tc 106"
          run 240 bench --np "$np" --transport verbs --hca "$hca" --qps "$qps" --tc 106 --algo "$algo" \
            -b 8 -e 2M -f 8 -n 1 -w 1 --timeout 120s
          if ((rc == 0)) && grep -q '^# Out of bounds values : 0 OK' "$out" &&
             [[ "$(grep -cE '^ +[0-9]+ +[0-9]+ +float +sum' "$out")" == 7 ]]; then
            pass "allreduce $tag: 7 sizes 8 B..2 MiB correct (${secs} s)"
          else
            fail "allreduce $tag: exit $rc"; show "$out"
          fi
        done
      done
    done
  done
  run 300 bench --np 3 --transport verbs --hca rxe0,rxe1 --qps 4 --tc 106 --algo auto -b 8 -e 4K -f 8 -d all -o all \
    -n 1 -w 0 --timeout 120s
  if ((rc == 0)) && grep -q '^# Out of bounds values : 0 OK' "$out"; then
    pass "allreduce, 3 ranks, every dtype x op, 8 B..4 KiB, both rails, 4 QPs (${secs} s)"
  else
    fail "every dtype and op: exit $rc"; show "$out"
  fi
  run 300 bench --np 2 --transport verbs --hca rxe0,rxe1 --qps 4 --algo ring -b 3M -e 3M -n 2 -w 1 --timeout 120s
  ((rc == 0)) && grep -q '^# Out of bounds values : 0 OK' "$out" && pass "allreduce of 3 MiB over two rails (${secs} s)" ||
    { fail "3 MiB: exit $rc"; show "$out"; }
}

# The rest of nccl-tests' set over verbs, in the same VM boot: one size sweep of each
# collective (3 ranks, both rails, 4 QPs, root 1), then every dtype x op at one size.
check_collectives() {
  local colls=allgather,reduce_scatter,broadcast,reduce,alltoall,sendrecv
  run 300 bench --np 3 --transport verbs --hca rxe0,rxe1 --qps 4 --coll "$colls" -r 1 -b 8 -e 2M -f 8 -n 1 -w 1 \
    --timeout 120s
  # 7 sizes each; allgather, reduce_scatter and alltoall round 8 B down to 0 per rank.
  if ((rc == 0)) && [[ "$(grep -c '^# Out of bounds values : 0 OK' "$out")" == 6 ]] &&
     [[ "$(grep -cE '^ +[0-9]+ +[0-9]+ +float +(sum|none) ' "$out")" == 42 ]]; then
    pass "$colls, 3 ranks, 8 B..2 MiB, both rails, 4 QPs, root 1 (${secs} s)"
  else
    fail "collectives sweep: exit $rc"; show "$out"
  fi
  run 300 bench --np 3 --transport verbs --hca rxe0,rxe1 --coll "$colls" -r 2 -b 4K -e 4K -d all -o all -n 1 -w 0 \
    --timeout 120s
  if ((rc == 0)) && [[ "$(grep -c '^# Out of bounds values : 0 OK' "$out")" == 6 ]]; then
    pass "$colls, 3 ranks, every dtype x op at 4 KiB, root 2 (${secs} s)"
  else
    fail "collectives, every dtype and op: exit $rc"; show "$out"
  fi
}

# Starts a 4-rank ring allreduce loop over both rails with a 20 s deadline, sends SIG to
# rank 2 once the collectives run, and checks how the survivors end:
#   KILL: every survivor fails naming rank 2, within the deadline (the bootstrap store sees
#         the death at once; a verbs completion error would name it too);
#   STOP: the rank is alive but silent: every survivor fails by the engine's no-progress
#         deadline, naming what it waited for, and the launcher kills the silent rank.
check_lost_rank() {
  local signal="$1" what="$2" deadline=20 victim=2 pid t0 t1 r t
  out="$log_dir/fault-$signal.txt"
  sxcoll bench --np 4 --transport verbs --hca rxe0,rxe1 --algo ring -b 1M -e 1M -n 100000 -w 0 -c 0 \
    --timeout "${deadline}s" >"$out" 2>&1 &
  local launcher=$!
  for ((t = 0; t < 600; t++)); do
    pid="$(awk -v v="$victim" '$2 == "Rank" && $3 == v { print $5 }' "$out")"
    [[ -n "$pid" ]] && break
    sleep 0.1
  done
  if [[ -z "$pid" ]]; then
    fail "$what: the run never printed its ranks"; kill -9 "$launcher" 2>/dev/null; show "$out"; return
  fi
  sleep 2  # well inside the collectives
  t0="$(date +%s)"
  kill "-$signal" "$pid"
  # The launcher gives up on a rank that does not exit timeout + 10 s after a failure.
  [[ "$signal" == KILL ]] && limit=$deadline || limit=$((2 * deadline + 20))
  for ((t = 0; t < 10 * (limit + 30); t++)); do
    kill -0 "$launcher" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$launcher" 2>/dev/null; then
    fail "$what: the run is still going $((limit + 30)) s after rank $victim got SIG$signal"
    kill -9 "$launcher" 2>/dev/null
    kill -CONT "$pid" 2>/dev/null
    show "$out"
    return
  fi
  local rc_run=0
  wait "$launcher" || rc_run=$?
  t1="$(date +%s)"
  local ok=1 reports=""
  ((rc_run != 0)) || ok=0
  ((t1 - t0 <= limit)) || ok=0
  for r in 0 1 3; do
    local line
    # Ranks write their reports at once: split them where one message starts.
    line="$(sed 's/sxcoll: rank /\nsxcoll: rank /g' "$out" | grep -E "^sxcoll: rank $r: " | head -n1)"
    [[ -n "$line" ]] || ok=0
    [[ "$signal" != KILL || "$line" == *"rank $victim"* ]] || ok=0
    reports+="    ${line:-rank $r said nothing}"$'\n'
  done
  if ((ok)); then
    pass "$what: the run failed (exit $rc_run) $((t1 - t0)) s after SIG$signal to rank $victim (limit $limit s); survivors said:"
    printf '%s' "$reports"
  else
    fail "$what: exit $rc_run after $((t1 - t0)) s (limit $limit s)"
    show "$out"
  fi
}

# Two hosts in the VM, each its own host name (a UTS namespace) with two rails of its own:
# veth pairs A0-B0 and A1-B1, an rxe device on every end. rxe routes and receives in the
# VM's one network namespace (kernel 6.1: its UDP socket and route lookups are init_net's,
# so rxe cannot sit in separate network namespaces: tests/softroce/README.md), so policy
# routing makes what a host sends to the other leave on its own veth end: local delivery
# only for packets that came in on a rail, a table per destination. Rail r of every host is
# one subnet's worth of /32s: 203.0.113.1<r> on A, .2<r> on B.
setup_hosts() {
  echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter
  echo 1 >/proc/sys/net/ipv4/conf/all/accept_local
  local r a b
  for r in 0 1; do
    ip link add "A$r" type veth peer name "B$r" || return 1
    for end in A B; do
      echo 0 >"/proc/sys/net/ipv4/conf/$end$r/rp_filter"
      echo 1 >"/proc/sys/net/ipv4/conf/$end$r/accept_local"
      ip link set "$end$r" up
    done
    a="203.0.113.1$r" b="203.0.113.2$r"
    ip addr add "$a/32" dev "A$r" && ip addr add "$b/32" dev "B$r" || return 1
    ip rule add pref $((10 + r)) iif "A$r" lookup local
    ip rule add pref $((20 + r)) iif "B$r" lookup local
    ip route add "$b" dev "A$r" src "$a" table $((100 + r))
    ip route add "$a" dev "B$r" src "$b" table $((200 + r))
    ip rule add pref $((30 + r)) to "$b" lookup $((100 + r))
    ip rule add pref $((40 + r)) to "$a" lookup $((200 + r))
    rdma link add "rxeA$r" type rxe netdev "A$r" && rdma link add "rxeB$r" type rxe netdev "B$r" || return 1
  done
  ip rule add pref 100 lookup local && ip rule del pref 0 || return 1
  # The IPv4 GID of every new device (filled from a work queue).
  local dev n
  for dev in rxeA0 rxeA1 rxeB0 rxeB1; do
    for ((n = 0; n < 100; n++)); do
      grep -qs ffff /sys/class/infiniband/$dev/ports/1/gids/1 && break
      sleep 0.1
    done
  done
}

# run_hosts LIMIT ARGS...: sxcoll bench on 2 hosts x 2 ranks (ranks 0, 1 on verbs-host-a with
# rxeA0,rxeA1; 2, 3 on verbs-host-b with rxeB0,rxeB1, through NCCL_IB_HCA), torchrun-style
# variables; rank 0's output in $out, the worst exit code in $rc.
run_hosts() {
  local limit="$1" rank host hca pids=() port=$((29600 + run_no))
  shift
  run_no=$((run_no + 1))
  out="$log_dir/hosts$run_no.txt"
  for rank in 0 1 2 3; do
    if ((rank < 2)); then host=verbs-host-a hca=rxeA0,rxeA1; else host=verbs-host-b hca=rxeB0,rxeB1; fi
    RANK=$rank WORLD_SIZE=4 LOCAL_RANK=$((rank % 2)) MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      TORCHELASTIC_RUN_ID="hosts-$run_no" NCCL_IB_HCA=$hca SXCOLL_INTRA=auto \
      timeout "$limit" unshare -u sh -c 'hostname "$0" && exec sxcoll bench "$@"' "$host" "$@" \
      >"$log_dir/hosts$run_no.rank$rank.txt" 2>&1 &
    pids+=($!)
  done
  rc=0
  for rank in 0 1 2 3; do
    wait "${pids[$rank]}" || { local e=$?; ((e > rc)) && rc=$e; }
  done
  cp "$log_dir/hosts$run_no.rank0.txt" "$out"
  echo "+ 2 hosts x 2 ranks: sxcoll bench $* -> worst exit $rc" >>"$out"
}

check_hosts() {
  setup_hosts || { fail "setting up two hosts on veth rails"; ip rule show; rdma link show; return; }
  local algo r ok
  for algo in hier ring_topo auto; do
    run_hosts 300 --transport verbs --algo "$algo" -b 8 -e 1M -f 16 -d all -o sum -n 1 -w 1 --timeout 120s
    ok=1
    grep -q '^# Out of bounds values : 0 OK' "$out" || ok=0
    grep -q '^# links of rank 0: .*shm to 1 rank of this host' "$out" || ok=0
    grep -q '^# links of rank 0: .*verbs to [12] ranks\? of other hosts' "$out" || ok=0
    if [[ "$algo" == hier ]]; then
      # Local rank r of each host drives rail r (--rails auto: 2 ranks for 2 rails), and
      # hier's inter-node link of rank r joins local rank r of the other host: one rail each.
      for r in 0 1; do
        [[ "$(rail_bytes "$r" "rxeA$r:1")" -gt 0 && "$(rail_bytes "$r" "rxeA$((1 - r)):1")" == 0 ]] || ok=0
      done
    fi
    ((rc == 0 && ok)) &&
      pass "2 hosts x 2 ranks, --algo $algo: shm inside, RoCE across on veth rails, every dtype, 8 B..1 MiB exact$([[ $algo == hier ]] && echo ', each local rank on its own rail')" ||
      { fail "2 hosts x 2 ranks, --algo $algo: exit $rc"; show "$out" 30; }
  done
}

case "${1:-}" in
  basics)
    check_gid_detection
    check_usage_errors
    check_rail_counters
    check_rails
    check_p2p
    ;;
  allreduce)
    check_allreduce_matrix
    check_collectives
    ;;
  collectives)
    check_collectives  # by hand: ctest runs these in the allreduce group's boot
    ;;
  hosts)
    check_hosts
    ;;
  faults)
    check_lost_rank KILL "rank killed mid-collective"
    check_lost_rank STOP "rank stopped mid-collective"
    ;;
  *)
    echo "usage: verbs_checks.sh basics|allreduce|collectives|hosts|faults" >&2
    exit 2
    ;;
esac

if [[ -n "${SXCOLL_VM_OUT:-}" ]]; then
  mkdir -p "$SXCOLL_VM_OUT/verbs-logs" && cp "$log_dir"/* "$SXCOLL_VM_OUT/verbs-logs/" 2>/dev/null
fi
echo "verbs: $passed passed, $failed failed"
((failed == 0 && passed > 0))
