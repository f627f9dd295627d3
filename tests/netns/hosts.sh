#!/usr/bin/env bash
# Several "hosts" on one machine: N network namespaces, each with its own host name (a UTS
# namespace per command), a veth into one bridge that lives in a dedicated "switch"
# namespace, and an address from the documentation range 198.51.100.0/24. Nothing is made
# in, or sent to, the root namespace: its interfaces, routes and addresses stay untouched.
#
#   hosts.sh check                         can this machine make hosts? (exit 77 + reason if not)
#   hosts.sh up N [--names a,b,..] [--inventory hosts.json] [--prefix P]
#   hosts.sh exec HOST CMD [ARG...]        run CMD as HOST (its namespace and host name)
#   hosts.sh info | n | prefix             the hosts of this run (index, name, address, namespace)
#   hosts.sh addr|name|ns|pids HOST
#   hosts.sh kill HOST [SIGNAL]            signal every process of HOST (default KILL)
#   hosts.sh shape HOST rate RATE [BURST]  token bucket (tc tbf) on HOST's link, both directions
#   hosts.sh shape HOST delay DELAY        tc netem delay on HOST's link, both directions
#   hosts.sh shape HOST clear
#   hosts.sh down                          remove everything this run made
#   hosts.sh leftovers [PREFIX]            exit 1 listing whatever of the run still exists
#   hosts.sh list | gc                     every run on this machine / remove runs whose owner died
#
# HOST is an index 0..N-1 or a host name. The run is described by a state file: the path in
# $SXCOLL_NETNS_STATE (or --state FILE before the subcommand; default
# /run/sxcoll-netns/PREFIX.state). `up` writes it before it makes anything, so `down` (from a
# trap) can always remove a run that is half made.
#
# Exit codes: 0 done, 1 failed, 2 bad usage, 77 this machine cannot do it (not root, no `ip`
# or `unshare`, network namespaces / veth / bridge / a qdisc not available): the reason is on
# stderr, for a test to report as SKIP.
set -euo pipefail

readonly EX_FAIL=1 EX_USAGE=2 EX_SKIP=77
readonly SUBNET=198.51.100 FIRST_HOST_OCTET=11 MAX_HOSTS=64
readonly RUN_DIR=${SXCOLL_NETNS_RUN_DIR:-/run/sxcoll-netns}
# Every step that touches the kernel is bounded: a wedged `ip` never hangs a test.
readonly STEP_TIMEOUT=${SXCOLL_NETNS_STEP_TIMEOUT:-10}
# Per-namespace files that `ip netns exec` bind-mounts over /etc (only `hosts` here).
readonly ETC_NETNS=${SXCOLL_NETNS_ETC:-/etc/netns}
# Names like the real cluster's: no pattern to rely on, 0008 is missing.
readonly DEFAULT_NAMES="fukushimadc-02-hgx-0001 fukushimadc-02-hgx-0002 fukushimadc-02-hgx-0003
fukushimadc-02-hgx-0004 fukushimadc-02-hgx-0005 fukushimadc-02-hgx-0006 fukushimadc-02-hgx-0007
fukushimadc-02-hgx-0009"

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit "$EX_FAIL"; }
usage() { echo "$prog: $*" >&2; echo "$prog: see the comment at the top of $0" >&2; exit "$EX_USAGE"; }
skip() { echo "$prog: SKIP: $*" >&2; exit "$EX_SKIP"; }
step() { timeout --kill-after=2 "$STEP_TIMEOUT" "$@"; }

# ---------------------------------------------------------------- state file

declare -A S=()
state_file=${SXCOLL_NETNS_STATE:-}

# KEY=VALUE lines, read (never sourced: the file is data).
load_state() {
  [[ -n $state_file ]] || usage "no run: set SXCOLL_NETNS_STATE (or --state FILE) to the state file 'up' wrote"
  [[ -f $state_file ]] || die "no state file $state_file (is the run up?)"
  local key value
  while IFS='=' read -r key value; do
    [[ -z $key || $key == \#* ]] && continue
    S[$key]=$value
  done <"$state_file"
  [[ -n ${S[PREFIX]:-} ]] || die "$state_file: not a hosts.sh state file"
}

write_state() {
  local tmp="$state_file.tmp.$$" key
  {
    echo "# hosts.sh state: what this run made (read by down, exec, launch.sh)"
    for key in "${!S[@]}"; do echo "$key=${S[$key]}"; done | sort
  } >"$tmp"
  mv -f "$tmp" "$state_file"
}

# HOST (index or name) -> index
host_index() {
  local h=$1 i
  if [[ $h =~ ^[0-9]+$ ]]; then
    ((h < S[N])) || die "no host $h: this run has hosts 0..$((S[N] - 1))"
    echo "$h"
    return
  fi
  for ((i = 0; i < S[N]; i++)); do
    [[ ${S[NAME_$i]} == "$h" ]] && { echo "$i"; return; }
  done
  die "no host named '$h' in this run"
}

# ---------------------------------------------------------------- check

need_tools() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, veth and bridges); running as uid $(id -u)"
  local tool
  for tool in ip unshare timeout; do
    command -v "$tool" >/dev/null || skip "'$tool' not found (ip: iproute2, unshare/timeout: util-linux/coreutils)"
  done
}

# Make and remove a namespace with a bridge and a veth: what `up` needs, in one throwaway run.
cmd_check() {
  need_tools
  probe="sxnprobe$$"
  local err
  if ! err=$(step ip netns add "$probe" 2>&1); then
    skip "cannot make a network namespace (ip netns add: $err)"
  fi
  trap 'step ip netns del "$probe" 2>/dev/null || true' EXIT
  err=$( { step ip -n "$probe" link add sxbr type bridge && step ip -n "$probe" link add sxva type veth peer name sxvb &&
    step ip -n "$probe" link set lo up; } 2>&1) || skip "bridge/veth not available in a network namespace: $err"
  # shellcheck disable=SC2016
  err=$(step ip netns exec "$probe" unshare --uts sh -c 'printf %s sxnprobe >/proc/sys/kernel/hostname' 2>&1) ||
    skip "cannot give a namespace its own host name (unshare --uts): $err"
  step ip netns del "$probe"
  trap - EXIT
  echo "$prog: ok: network namespaces, bridge, veth and UTS namespaces work here"
}

# ---------------------------------------------------------------- up

random_prefix() { echo "sxn$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"; }

names_from_inventory() {
  # sxcoll sft's inventory: {"hosts": [{"name": ..., "exclude": true?}, ...]}
  command -v python3 >/dev/null || die "--inventory needs python3"
  python3 - "$1" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    hosts = json.load(f)["hosts"]
print(" ".join(h["name"] for h in hosts if not h.get("exclude")))
EOF
}

cmd_up() {
  local n="" names="" prefix=""
  while (($#)); do
    case $1 in
      --names) names=${2//,/ }; shift 2 ;;
      --inventory) names=$(names_from_inventory "$2"); shift 2 ;;
      --prefix) prefix=$2; shift 2 ;;
      -*) usage "up: unknown option $1" ;;
      *) [[ -z $n ]] || usage "up: one host count"; n=$1; shift ;;
    esac
  done
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_HOSTS)); then usage "up N: N must be 1..$MAX_HOSTS, got '${n}'"; fi
  need_tools
  [[ -n $prefix ]] || prefix=$(random_prefix)
  # Interface names are at most 15 characters: PREFIX + "v63".
  [[ $prefix =~ ^[a-z][a-z0-9]{1,10}$ ]] || usage "--prefix '$prefix': 2..11 lower-case letters and digits"
  local -a list
  read -r -a list <<<"$(tr -s ' \t\n' ' ' <<<"${names:-$DEFAULT_NAMES}")"
  ((${#list[@]} >= n)) || usage "up $n: only ${#list[@]} host names (give --names or --inventory)"
  local i j name
  for ((i = 0; i < n; i++)); do
    name=${list[$i]}
    [[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$ ]] || usage "host name '$name' is not a valid host name"
    for ((j = 0; j < i; j++)); do [[ ${list[$j]} != "$name" ]] || usage "host name '$name' given twice"; done
  done

  mkdir -p "$RUN_DIR"
  chmod 700 "$RUN_DIR"
  state_file=${state_file:-$RUN_DIR/$prefix.state}
  [[ ! -s $state_file ]] || die "$state_file exists: run '$prog down' for it first (or use another state file)"
  local existing
  existing=$(step ip netns list | awk '{print $1}')
  if grep -q "^$prefix-" <<<"$existing"; then die "namespaces named $prefix-* exist already"; fi

  # The whole plan goes to the state file before anything is made.
  S=([PREFIX]=$prefix [N]=$n [OWNER_PID]=${SXCOLL_NETNS_OWNER:-$PPID} [STATUS]=creating
    [SWITCH_NS]=$prefix-sw [BRIDGE]=${prefix}br [STATE]=$state_file)
  for ((i = 0; i < n; i++)); do
    S[NS_$i]=$prefix-h$i
    S[NAME_$i]=${list[$i]}
    S[ADDR_$i]=$SUBNET.$((FIRST_HOST_OCTET + i))
    S[VETH_$i]=${prefix}v$i
    S[IF_$i]=eth0
  done
  write_state
  # Who owns the run, for `gc`: found by prefix even where the state file lives elsewhere.
  echo "OWNER_PID=${S[OWNER_PID]} STATE=$state_file" >"$RUN_DIR/$prefix.owner"

  trap 'echo "$prog: up failed; removing what was made" >&2; cmd_down >/dev/null 2>&1 || true' ERR
  trap 'cmd_down >/dev/null 2>&1 || true; exit 130' INT TERM
  set -E
  local sw=${S[SWITCH_NS]} br=${S[BRIDGE]} ns
  step ip netns add "$sw"
  step ip -n "$sw" link set lo up
  step ip -n "$sw" link add "$br" type bridge
  step ip -n "$sw" link set "$br" up
  local hosts_file="127.0.0.1 localhost"$'\n'
  for ((i = 0; i < n; i++)); do hosts_file+="${S[ADDR_$i]} ${S[NAME_$i]}"$'\n'; done
  for ((i = 0; i < n; i++)); do
    ns=${S[NS_$i]}
    step ip netns add "$ns"
    step ip -n "$ns" link set lo up
    # Made in the switch namespace with its peer straight in the host's: the pair never
    # appears in the root namespace.
    step ip -n "$sw" link add "${S[VETH_$i]}" type veth peer name eth0 netns "$ns"
    step ip -n "$sw" link set "${S[VETH_$i]}" master "$br" up
    step ip -n "$ns" addr add "${S[ADDR_$i]}/24" dev eth0
    step ip -n "$ns" link set eth0 up
    # Host names resolve inside the hosts (ip netns exec bind-mounts this over /etc/hosts).
    if mkdir -p "$ETC_NETNS/$ns" 2>/dev/null && printf %s "$hosts_file" >"$ETC_NETNS/$ns/hosts" 2>/dev/null; then
      S[ETC_$i]=$ETC_NETNS/$ns
    else
      echo "$prog: note: cannot write $ETC_NETNS/$ns/hosts; host names will not resolve inside the hosts" >&2
    fi
  done
  S[STATUS]=up
  write_state
  trap - ERR INT TERM
  echo "$prog: up: $n hosts, prefix $prefix, state $state_file"
  cmd_info
}

# ---------------------------------------------------------------- queries

cmd_info() {
  local i
  printf '%-5s %-28s %-15s %s\n' index name address namespace
  for ((i = 0; i < S[N]; i++)); do
    printf '%-5s %-28s %-15s %s\n' "$i" "${S[NAME_$i]}" "${S[ADDR_$i]}" "${S[NS_$i]}"
  done
}

cmd_get() {
  local what=$1 i
  i=$(host_index "$2")
  case $what in
    addr) echo "${S[ADDR_$i]}" ;;
    name) echo "${S[NAME_$i]}" ;;
    ns) echo "${S[NS_$i]}" ;;
    pids) step ip netns pids "${S[NS_$i]}" ;;
  esac
}

# ---------------------------------------------------------------- exec / kill

cmd_exec() {
  (($# >= 2)) || usage "exec HOST CMD [ARG...]"
  local i
  i=$(host_index "$1")
  shift
  [[ ${S[STATUS]} == up ]] || die "run ${S[PREFIX]} is not up (status ${S[STATUS]})"
  # Same process all the way down (ip, unshare and sh exec): a signal to this pid reaches CMD.
  # shellcheck disable=SC2016
  exec ip netns exec "${S[NS_$i]}" unshare --uts \
    sh -c 'printf %s "$0" >/proc/sys/kernel/hostname && exec "$@"' "${S[NAME_$i]}" "$@"
}

cmd_kill() {
  local i sig=${2:-KILL} pids
  i=$(host_index "$1")
  pids=$(step ip netns pids "${S[NS_$i]}" 2>/dev/null || true)
  [[ -z $pids ]] && return 0
  # shellcheck disable=SC2086
  kill -s "$sig" $pids 2>/dev/null || true
}

# ---------------------------------------------------------------- shape

cmd_shape() {
  (($# >= 2)) || usage "shape HOST rate RATE [BURST] | delay DELAY | clear"
  local i kind=$2 err
  i=$(host_index "$1")
  local -a ends=("${S[NS_$i]} ${S[IF_$i]}" "${S[SWITCH_NS]} ${S[VETH_$i]}")
  local end ns dev
  for end in "${ends[@]}"; do
    read -r ns dev <<<"$end"
    case $kind in
      rate)
        [[ -n ${3:-} ]] || usage "shape HOST rate RATE (tc syntax: 100mbit, 1gbit)"
        err=$(step ip netns exec "$ns" tc qdisc replace dev "$dev" root tbf rate "$3" burst "${4:-64kb}" latency 100ms 2>&1) ||
          { [[ $err == *"unknown"* ]] && skip "tc tbf not available: $err"; die "tc tbf on $dev: $err"; } ;;
      delay)
        [[ -n ${3:-} ]] || usage "shape HOST delay DELAY (tc syntax: 5ms)"
        err=$(step ip netns exec "$ns" tc qdisc replace dev "$dev" root netem delay "$3" 2>&1) ||
          { [[ $err == *"unknown"* ]] && skip "tc netem not available (kernel without sch_netem): $err"; die "tc netem on $dev: $err"; } ;;
      clear) step ip netns exec "$ns" tc qdisc del dev "$dev" root 2>/dev/null || true ;;
      *) usage "shape HOST rate RATE | delay DELAY | clear" ;;
    esac
  done
}

# ---------------------------------------------------------------- down / leftovers / gc

# Removes the run in S: processes first (a namespace with a process in it outlives its name),
# then the host namespaces, then the switch (taking the bridge and every veth pair with it).
cmd_down() {
  local prefix=${S[PREFIX]} i ns pids tries
  local -a all=()
  for ((i = 0; i < S[N]; i++)); do all+=("${S[NS_$i]}"); done
  all+=("${S[SWITCH_NS]}")
  local existing
  existing=$(step ip netns list 2>/dev/null | awk '{print $1}' || true)
  for ns in "${all[@]}"; do
    grep -qxF "$ns" <<<"$existing" || continue
    for ((tries = 0; tries < 50; tries++)); do
      pids=$(step ip netns pids "$ns" 2>/dev/null || true)
      [[ -z $pids ]] && break
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      sleep 0.1
    done
    [[ -z $pids ]] || echo "$prog: warning: processes $pids still in $ns" >&2
    step ip netns del "$ns" || echo "$prog: warning: ip netns del $ns failed" >&2
  done
  for ((i = 0; i < S[N]; i++)); do
    [[ -n ${S[ETC_$i]:-} && -d ${S[ETC_$i]} ]] && rm -rf -- "${S[ETC_$i]}"
    # Also the one `up` may have written before it recorded it.
    [[ -d $ETC_NETNS/${S[NS_$i]} ]] && rm -rf -- "${ETC_NETNS:?}/${S[NS_$i]}"
  done
  rmdir -- "$ETC_NETNS" 2>/dev/null || true  # only if empty: made by the first run
  # The state and owner files go last, and only when nothing else is left: a failed down
  # can be repeated (or collected by gc).
  if ! leftovers "$prefix" "$RUN_DIR/$prefix.owner"; then
    echo "$prog: down: run $prefix NOT fully removed (state kept in ${state_file:-$RUN_DIR/$prefix.owner})" >&2
    return "$EX_FAIL"
  fi
  rm -f -- "$RUN_DIR/$prefix.owner"
  [[ -n ${S[STATE]:-} ]] && rm -f -- "${S[STATE]}"
  [[ -n $state_file ]] && rm -f -- "$state_file"
  echo "$prog: down: run $prefix removed"
}

# Prints whatever of run PREFIX still exists (but IGNORE); exit 1 if anything does.
leftovers() {
  local prefix=$1 ignore=${2:-} found=0 line
  while read -r line; do
    [[ -n $line ]] && { echo "left over: network namespace $line" >&2; found=1; }
  done < <(step ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true)
  # Nothing of a run is ever in the root namespace; if it were, that is a bug to see.
  while read -r line; do
    [[ -n $line ]] && { echo "left over: root-namespace link $line" >&2; found=1; }
  done < <(step ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep "^$prefix" || true)
  for line in "$ETC_NETNS/$prefix-"* "$RUN_DIR/$prefix.owner"; do
    [[ -e $line && $line != "$ignore" ]] && { echo "left over: $line" >&2; found=1; }
  done
  return "$found"
}

cmd_leftovers() {
  local prefix=${1:-}
  if [[ -z $prefix ]]; then load_state; prefix=${S[PREFIX]}; fi
  leftovers "$prefix" && echo "$prog: nothing of run $prefix remains"
}

# Every run on this machine: prefix, owner, whether the owner lives.
runs() {
  step ip netns list 2>/dev/null | awk '{print $1}' | sed -n 's/^\(sxn[a-z0-9]*\)-sw$/\1/p'
  local f
  for f in "$RUN_DIR"/*.owner; do [[ -e $f ]] && basename "$f" .owner; done
}

owner_of() { sed -n 's/^OWNER_PID=\([0-9]*\).*/\1/p' "$RUN_DIR/$1.owner" 2>/dev/null || true; }

cmd_list() {
  local p owner
  for p in $(runs | sort -u); do
    owner=$(owner_of "$p")
    if [[ -n $owner ]] && kill -0 "$owner" 2>/dev/null; then echo "$p owner $owner (alive)"; else echo "$p owner ${owner:-unknown} (gone)"; fi
  done
}

# Removes the runs whose owner process is gone (a test killed before its trap ran).
cmd_gc() {
  need_tools
  local p owner st
  for p in $(runs | sort -u); do
    owner=$(owner_of "$p")
    [[ -n $owner ]] && kill -0 "$owner" 2>/dev/null && continue
    st=$(sed -n 's/.*STATE=\(.*\)$/\1/p' "$RUN_DIR/$p.owner" 2>/dev/null || true)
    S=()
    if [[ -n $st && -f $st ]]; then
      state_file=$st
      load_state
    else
      # No state: take the namespaces by name.
      S=([PREFIX]=$p [N]=0 [SWITCH_NS]=$p-sw)
      local k=0 ns
      for ns in $(step ip netns list | awk '{print $1}' | grep "^$p-h[0-9]*$" || true); do S[NS_$k]=$ns; k=$((k + 1)); done
      S[N]=$k
      state_file=""
    fi
    echo "$prog: gc: run $p (owner ${owner:-unknown} gone)"
    cmd_down || true
  done
}

# ---------------------------------------------------------------- main

while (($#)); do
  case $1 in
    --state) state_file=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
(($#)) || usage "no subcommand"
sub=$1
shift
case $sub in
  check) cmd_check ;;
  up) cmd_up "$@" ;;
  exec) load_state; cmd_exec "$@" ;;
  info) load_state; cmd_info ;;
  n) load_state; echo "${S[N]}" ;;
  prefix) load_state; echo "${S[PREFIX]}" ;;
  addr | name | ns | pids) (($# == 1)) || usage "$sub HOST"; load_state; cmd_get "$sub" "$1" ;;
  kill) (($# >= 1)) || usage "kill HOST [SIGNAL]"; load_state; cmd_kill "$@" ;;
  shape) load_state; cmd_shape "$@" ;;
  down) load_state; cmd_down ;;
  leftovers) cmd_leftovers "$@" ;;
  list) cmd_list ;;
  gc) cmd_gc ;;
  *) usage "unknown subcommand '$sub'" ;;
esac
