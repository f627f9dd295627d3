#!/usr/bin/env bash
# Launches one run across the hosts of a hosts.sh run, as torchrun would: R ranks per host,
# each a process in its host's network and UTS namespace, all in the background under a
# timeout; then waits for every rank and reports each one that failed by rank and host.
#
#   launch.sh [--state FILE] --per-host R [--port P] [--timeout S] [--out DIR] -- CMD [ARG...]
#
# Rank r runs on host r / R as local rank r % R, with
#   RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE GROUP_RANK GROUP_WORLD_SIZE ROLE_RANK
#   ROLE_WORLD_SIZE MASTER_ADDR (host 0's address) MASTER_PORT TORCHELASTIC_RUN_ID
# (sxcoll reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT and takes its run token
# from TORCHELASTIC_RUN_ID; it counts the ranks of a host by their host names). Variables of
# other launchers (sxcoll's own, Open MPI, MPICH, Slurm) are removed so that they cannot win.
#
# DIR (default: a new mktemp folder, printed) gets rank-R.out, rank-R.err, rank-R.rc and
# ranks.tsv (rank, local rank, host index, host name, address, pid); `launched` appears once
# every rank has been started. Each rank is killed (TERM, then KILL 5 s later) at --timeout
# (default 120 s). Exit 0 when every rank exits 0, 1 when any fails (one line per failed
# rank on stderr, with the end of its stderr), 2 bad usage, 77 hosts.sh cannot run here.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
hosts="$here/hosts.sh"
prog=${0##*/}
usage() { echo "$prog: $*" >&2; echo "usage: $prog [--state FILE] --per-host R [--port P] [--timeout S] [--out DIR] -- CMD [ARG...]" >&2; exit 2; }

per_host="" port=29500 limit=120 out=""
while (($#)); do
  case $1 in
    --state) export SXCOLL_NETNS_STATE=$2; shift 2 ;;
    --per-host) per_host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; break ;;
    *) usage "unknown argument $1" ;;
  esac
done
(($#)) || usage "no command"
[[ $per_host =~ ^[1-9][0-9]*$ ]] || usage "--per-host R: R must be a whole number >= 1"
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then usage "--port $port: not a port"; fi
[[ $limit =~ ^[0-9]+$ ]] || usage "--timeout S: whole seconds"

nhosts=$("$hosts" n)
prefix=$("$hosts" prefix)
master=$("$hosts" addr 0)
world=$((nhosts * per_host))
declare -a names addrs
for ((h = 0; h < nhosts; h++)); do
  names[h]=$("$hosts" name "$h")
  addrs[h]=$("$hosts" addr "$h")
done
if [[ -z $out ]]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/sxcoll-netns-launch.XXXXXX")
  echo "$prog: output in $out"
fi
mkdir -p "$out"
rm -f "$out"/rank-*.out "$out"/rank-*.err "$out"/rank-*.rc "$out/launched" "$out/ranks.tsv"
# Unique per launch: a process of an earlier run on the same port is refused by the store.
run_id="$prefix-$$-$(date +%s%N)"

declare -a pids=()
# If this runner is stopped, its ranks go too.
trap 'kill -TERM "${pids[@]}" 2>/dev/null || true' INT TERM
printf 'rank\tlocal_rank\thost\tname\taddress\tpid\n' >"$out/ranks.tsv"
for ((r = 0; r < world; r++)); do
  h=$((r / per_host))
  l=$((r % per_host))
  timeout --kill-after=5 "$limit" "$hosts" exec "$h" \
    env -u SXCOLL_RANK -u SXCOLL_SIZE -u SXCOLL_LOCAL_RANK -u SXCOLL_MASTER -u SXCOLL_TOKEN -u SXCOLL_STORE_FD \
    -u OMPI_COMM_WORLD_RANK -u OMPI_COMM_WORLD_SIZE -u PMI_RANK -u PMI_SIZE -u SLURM_PROCID -u SLURM_NTASKS \
    RANK="$r" WORLD_SIZE="$world" LOCAL_RANK="$l" LOCAL_WORLD_SIZE="$per_host" \
    GROUP_RANK="$h" GROUP_WORLD_SIZE="$nhosts" ROLE_RANK="$r" ROLE_WORLD_SIZE="$world" \
    MASTER_ADDR="$master" MASTER_PORT="$port" TORCHELASTIC_RUN_ID="$run_id" \
    "$@" >"$out/rank-$r.out" 2>"$out/rank-$r.err" </dev/null &
  pids[r]=$!
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$l" "$h" "${names[h]}" "${addrs[h]}" "${pids[r]}" >>"$out/ranks.tsv"
done
: >"$out/launched"

failed=0
for ((r = 0; r < world; r++)); do
  rc=0
  wait "${pids[r]}" 2>/dev/null || rc=$?  # (a rank killed by a signal: no job message)
  echo "$rc" >"$out/rank-$r.rc"
done
for ((r = 0; r < world; r++)); do
  rc=$(<"$out/rank-$r.rc")
  ((rc == 0)) && continue
  failed=1
  h=$((r / per_host))
  why="exit $rc"
  if ((rc == 124)); then why="timed out after ${limit} s (killed)"; elif ((rc > 128)); then why="killed by signal $((rc - 128)) (exit $rc)"; fi
  echo "$prog: FAIL rank $r (local rank $((r % per_host)) on host $h ${names[h]}, ${addrs[h]}): $why" >&2
  tail -n 3 "$out/rank-$r.err" | sed "s/^/$prog:   rank $r: /" >&2
done
((failed == 0)) && echo "$prog: all $world ranks on $nhosts hosts exited 0"
exit "$failed"
