#!/usr/bin/env bash
# perf.sh — the verbs performance record of docs/PERFORMANCE.md, in one VM run so that the
# figures share a machine state. Runs INSIDE the Soft-RoCE VM:
#
#   tests/softroce/vm-run.sh --bin build/app/sxcoll --bin tests/verbs/perf.sh --timeout 1500 -- perf.sh
#
# 1. ib_write_bw (perftest) on rail 0 at 64 KiB, 1 MiB, 4 MiB: the reference;
# 2. sxcoll bench --p2p on rail 0, same sizes: RDMA write bandwidth one way and both ways;
# 3. sxcoll 2-rank ring allreduce busbw on rail 0;
# 4. the same on both rails (p2p rail by rail, allreduce over both), and ib_write_bw on both
#    rails at once: what the VM's two CPUs allow two streams.
# Not a test: it prints figures; under TCG only their ratios mean something.
set -uo pipefail
# Every rank here runs on the VM: the verbs backend between them, not shared memory.
export SXCOLL_INTRA=net
PERF_ITERS="${PERF_ITERS:-200}"
SIZES=(65536 262144 1048576 4194304)
port=18600

write_bw() {  # DEV ADDR SIZE ITERS -> "BW average" Gb/s
  local dev="$1" addr="$2" size="$3" iters="$4" p=$((port++)) log
  log="$(mktemp)"
  timeout 300 ib_write_bw -d "$dev" -x 1 -s "$size" -n "$iters" -F --report_gbits -p "$p" >/dev/null 2>&1 &
  sleep 1
  timeout 300 ib_write_bw -d "$dev" -x 1 -s "$size" -n "$iters" -F --report_gbits -p "$p" "$addr" >"$log" 2>&1
  wait
  awk -v s="$size" '$1 == s && NF >= 5 { print $4 }' "$log" | tail -n1
  rm -f "$log"
}

iters_for() { echo $((PERF_ITERS * 1048576 / $1 > 2000 ? 2000 : (PERF_ITERS * 1048576 / $1 < 50 ? 50 : PERF_ITERS * 1048576 / $1))); }

echo "== perf: kernel $(uname -r), $(nproc) CPUs, PERF_ITERS=$PERF_ITERS"
echo "== 1. ib_write_bw -d rxe0 -x 1 -F --report_gbits"
for s in "${SIZES[@]}"; do
  echo "ib_write_bw rxe0 size $s iters $(iters_for "$s"): $(write_bw rxe0 192.0.2.1 "$s" "$(iters_for "$s")") Gb/s"
done

echo "== 2. sxcoll bench --p2p on rxe0"
timeout 900 sxcoll bench --np 2 --transport verbs --hca =rxe0 --p2p -b 64K -e 4M -f 4 -n 100 -w 10 --timeout 120s

echo "== 3. sxcoll 2-rank ring allreduce on rxe0"
timeout 900 sxcoll bench --np 2 --transport verbs --hca =rxe0 --algo ring -b 64K -e 4M -f 4 -n 50 -w 5 -c 0 --timeout 120s

echo "== 4a. sxcoll bench --p2p, both rails (rail by rail)"
timeout 900 sxcoll bench --np 2 --transport verbs --hca rxe0,rxe1 --p2p -b 1M -e 1M -n 100 -w 10 --timeout 120s
echo "== 4b. sxcoll 2-rank ring allreduce on both rails"
timeout 900 sxcoll bench --np 2 --transport verbs --hca rxe0,rxe1 --algo ring -b 64K -e 4M -f 4 -n 50 -w 5 -c 0 --timeout 120s
echo "== 4c. ib_write_bw on both rails at once, 1 MiB"
p0=$((port++)) p1=$((port++))
for d in "rxe0 $p0" "rxe1 $p1"; do
  set -- $d
  timeout 300 ib_write_bw -d "$1" -x 1 -s 1048576 -n 400 -F --report_gbits -p "$2" >/dev/null 2>&1 &
done
sleep 1
timeout 300 ib_write_bw -d rxe0 -x 1 -s 1048576 -n 400 -F --report_gbits -p "$p0" 192.0.2.1 >/tmp/bw0 2>&1 &
timeout 300 ib_write_bw -d rxe1 -x 1 -s 1048576 -n 400 -F --report_gbits -p "$p1" 198.51.100.1 >/tmp/bw1 2>&1 &
wait
echo "ib_write_bw rxe0 and rxe1 at once, 1 MiB: $(awk '$1 == 1048576 && NF >= 5 { print $4 }' /tmp/bw0) + $(awk '$1 == 1048576 && NF >= 5 { print $4 }' /tmp/bw1) Gb/s"
echo "== perf: done"
