# shellcheck shell=bash
# Sourced by the netns tests: one run of hosts.sh per test, always torn down.
#   netns_begin N [hosts.sh up options]   skip (77) where hosts cannot be made, else up N
#   netns_end                             down, and fail if anything of the run remains
#   fail MESSAGE                          print and exit 1 (the EXIT trap still tears down)
# Sets: NETNS_DIR (this folder), HOSTS (hosts.sh), LAUNCH (launch.sh), WORK (scratch folder,
# kept on failure), SXCOLL_NETNS_STATE and SXCOLL_NETNS_OWNER (exported for hosts.sh).

NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOSTS="$NETNS_DIR/hosts.sh"
# shellcheck disable=SC2034  # for the tests that source this
LAUNCH="$NETNS_DIR/launch.sh"
test_name=${0##*/}
export test_name

fail() { echo "$test_name: FAIL: $*" >&2; exit 1; }

_netns_exit() {
  local rc=$?
  if [[ -n ${NETNS_PREFIX:-} && -f ${SXCOLL_NETNS_STATE:-/nonexistent} ]]; then
    "$HOSTS" down >/dev/null || { echo "$test_name: FAIL: down did not remove run $NETNS_PREFIX" >&2; rc=1; }
  fi
  if ((rc == 0)); then rm -rf -- "$WORK"; elif [[ -n ${WORK:-} ]]; then echo "$test_name: output kept in $WORK" >&2; fi
  exit "$rc"
}

netns_begin() {
  local rc=0
  "$HOSTS" check >/dev/null || rc=$?
  ((rc == 0)) || exit "$rc"  # 77: SKIP, the reason is on stderr
  # Runs whose owner died before its trap (a test killed by ctest's timeout) are removed.
  "$HOSTS" gc >/dev/null
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/sxcoll-netns-test.XXXXXX")
  export SXCOLL_NETNS_STATE="$WORK/hosts.state" SXCOLL_NETNS_OWNER=$$
  trap _netns_exit EXIT
  trap 'exit 130' INT TERM
  "$HOSTS" up "$@" >"$WORK/up.log" || { cat "$WORK/up.log" >&2; fail "hosts.sh up $*"; }
  NETNS_PREFIX=$("$HOSTS" prefix)
  cat "$WORK/up.log"
}

netns_end() {
  "$HOSTS" down || fail "hosts.sh down"
  # Nothing of the run: no namespace, no veth or bridge anywhere the root namespace sees.
  "$HOSTS" leftovers "$NETNS_PREFIX" || fail "run $NETNS_PREFIX left something behind"
  local ns_list links
  ns_list=$(ip netns list)
  links=$(ip -o link show)
  if grep -q "$NETNS_PREFIX" <<<"$ns_list$links"; then fail "after down: $NETNS_PREFIX still in 'ip netns list' or 'ip link'"; fi
  NETNS_PREFIX=""
}
