#!/usr/bin/env bash
# smoke.sh — proves that the Soft-RoCE VM has a working RoCEv2 stack on both rails, with
# the stock tools, before anything of sxcoll's is blamed. Runs INSIDE the VM:
#
#   tests/softroce/vm-run.sh --bin tests/softroce/smoke.sh -- smoke.sh
#
# For each rail (rxe0 on 192.0.2.1, rxe1 on 198.51.100.1):
#   1. ibv_devinfo -v: the device exists, its port is PORT_ACTIVE, and it has a RoCE v2 GID
#      for the rail's IPv4 address (::ffff:a.b.c.d); that GID's index is used below;
#   2. ibv_rc_pingpong server + client (RC QP, send/recv) through rxe's loopback;
#   3. ib_write_bw -s 65536 -n 2000 -F server + client (RDMA WRITE), client to the rail's
#      address; the bandwidth is printed (under TCG it is a scale for ratios, nothing more).
# Every step has a deadline. Exit status 0 only if all checks pass.
#
# SMOKE_EXTRA_BW="SIZE:ITERS ..." adds ib_write_bw runs on rxe0 (e.g. "1048576:200
# 4194304:50"), for recording figures; they count as checks too.
set -uo pipefail

readonly RAILS=("rxe0 192.0.2.1" "rxe1 198.51.100.1")
readonly STEP_TIMEOUT=120      # seconds for any one server or client
next_port=18515                 # each server gets its own port: no TIME_WAIT surprises
passed=0
failed=0
log_dir="$(mktemp -d /tmp/smoke.XXXXXX)"

pass() { echo "smoke: PASS: $*"; passed=$((passed + 1)); }
fail() { echo "smoke: FAIL: $*"; failed=$((failed + 1)); }

# Waits until something listens on TCP port $1 (IPv4 or IPv6), at most 20 s: the client
# must not race the server's listen(), or it fails with "Couldn't connect".
wait_listen() {
  local hex i
  hex="$(printf '%04X' "$1")"
  for ((i = 0; i < 200; i++)); do
    if awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 }
                         END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# Runs a server/client pair: run_pair NAME "SERVER CMD" "CLIENT CMD" PORT (the commands
# already carry -p PORT; PORT is what to wait for). Both must exit 0. Their output is
# kept in $log_dir/NAME.{server,client} and shown on failure.
# shellcheck disable=SC2086  # $server and $client are command lines, split on purpose
run_pair() {
  local name="$1" server="$2" client="$3" port="$4" spid src=0 crc=0
  timeout "$STEP_TIMEOUT" $server >"$log_dir/$name.server" 2>&1 &
  spid=$!
  if ! wait_listen "$port"; then
    kill "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    fail "$name: server never listened on port $port"
    sed 's/^/  server| /' "$log_dir/$name.server"
    return 1
  fi
  timeout "$STEP_TIMEOUT" $client >"$log_dir/$name.client" 2>&1 || crc=$?
  wait "$spid" || src=$?
  if ((src != 0 || crc != 0)); then
    # busybox timeout: 143 (SIGTERM) when the step's deadline killed it.
    fail "$name: server exit $src, client exit $crc (143 = killed after $STEP_TIMEOUT s)"
    sed 's/^/  server| /' "$log_dir/$name.server"
    sed 's/^/  client| /' "$log_dir/$name.client"
    return 1
  fi
  return 0
}

# GID index of the RoCE v2 entry for IPv4 address $2 on device $1, from ibv_devinfo -v
# ("GID[  1]:  ::ffff:192.0.2.1, RoCE v2"); empty if none.
gid_index() {
  awk -v want="::ffff:$2," '
    /GID\[ *[0-9]+\]:/ && /RoCE v2/ {
      for (i = 1; i <= NF; i++) if ($i == want) { sub(/.*GID\[ */, ""); sub(/\].*/, ""); print; exit }
    }' "$log_dir/devinfo.$1"
}

# Sets $gid to the GID index of the rail address's RoCE v2 entry.
check_devinfo() {
  local dev="$1" addr="$2"
  if ! timeout 30 ibv_devinfo -v -d "$dev" >"$log_dir/devinfo.$dev" 2>&1; then
    fail "$dev: ibv_devinfo -v -d $dev failed"
    sed 's/^/  | /' "$log_dir/devinfo.$dev"
    return 1
  fi
  if ! grep -q 'state:[[:space:]]*PORT_ACTIVE' "$log_dir/devinfo.$dev"; then
    fail "$dev: port 1 is not PORT_ACTIVE"
    sed 's/^/  | /' "$log_dir/devinfo.$dev"
    return 1
  fi
  gid="$(gid_index "$dev" "$addr")"
  if [[ -z "$gid" ]]; then
    fail "$dev: no RoCE v2 GID for ::ffff:$addr"
    grep 'GID\[' "$log_dir/devinfo.$dev" | sed 's/^/  | /'
    return 1
  fi
  pass "$dev: PORT_ACTIVE, RoCE v2 GID ::ffff:$addr at GID index $gid"
}

# ib_write_bw on DEV with GID index GID, SIZE bytes, ITERS iterations; prints Gb/s.
check_write_bw() {
  local dev="$1" addr="$2" gid="$3" size="$4" iters="$5" port=$((next_port++))
  local args="-d $dev -x $gid -s $size -n $iters -F --report_gbits -p $port"
  run_pair "ib_write_bw.$dev.$size" "ib_write_bw $args" "ib_write_bw $args $addr" "$port" || return 1
  # Result row: "#bytes #iterations BW peak[Gb/sec] BW average[Gb/sec] MsgRate[Mpps]".
  local avg
  avg="$(awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' "$log_dir/ib_write_bw.$dev.$size.client" | tail -n1)"
  if [[ -z "$avg" ]]; then
    fail "ib_write_bw on $dev, $size B: no result row in the client's output"
    sed 's/^/  client| /' "$log_dir/ib_write_bw.$dev.$size.client"
    return 1
  fi
  pass "ib_write_bw -d $dev -x $gid -s $size -n $iters to $addr: BW average $avg Gb/s"
}

echo "smoke: kernel $(uname -r); devices: $(ibv_devices 2>&1 | awk 'NR > 2 { printf "%s ", $1 }')"
first_dev="" first_addr="" first_gid=""
for rail in "${RAILS[@]}"; do
  read -r dev addr <<<"$rail"
  gid=""
  check_devinfo "$dev" "$addr" || continue
  [[ -n "$first_dev" ]] || { first_dev="$dev"; first_addr="$addr"; first_gid="$gid"; }

  port=$((next_port++))
  if run_pair "ibv_rc_pingpong.$dev" "ibv_rc_pingpong -d $dev -g $gid -p $port" \
              "ibv_rc_pingpong -d $dev -g $gid -p $port $addr" "$port"; then
    pass "ibv_rc_pingpong -d $dev -g $gid to $addr: $(grep -m1 'bytes in' "$log_dir/ibv_rc_pingpong.$dev.client")"
  fi

  check_write_bw "$dev" "$addr" "$gid" 65536 2000
done

if [[ -n "${SMOKE_EXTRA_BW:-}" && -n "$first_dev" ]]; then
  for spec in $SMOKE_EXTRA_BW; do
    check_write_bw "$first_dev" "$first_addr" "$first_gid" "${spec%%:*}" "${spec##*:}"
  done
fi

# Results also go to the 9p share when vm-run.sh was given --out.
if [[ -n "${SXCOLL_VM_OUT:-}" ]]; then
  mkdir -p "$SXCOLL_VM_OUT/smoke-logs" && cp "$log_dir"/* "$SXCOLL_VM_OUT/smoke-logs/"
fi
echo "smoke: $passed passed, $failed failed"
((failed == 0 && passed > 0))
