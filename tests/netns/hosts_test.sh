#!/usr/bin/env bash
# hosts.sh itself: host names (from an inventory, gaps and all), addresses, loopback, that the
# hosts reach each other and nothing else, shaping, kill, two runs side by side, usage
# errors, and that down removes everything, a process still running in a host included.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$(dirname "$0")/test_lib.sh"

rc=0
"$HOSTS" up 0 2>/dev/null || rc=$?
((rc == 2)) || fail "up 0: exit $rc, expected 2 (bad usage)"

inventory=$(mktemp)
cat >"$inventory" <<'JSON'
{"hosts": [{"name": "fukushimadc-02-hgx-0007", "address": "10.0.0.7", "gpus": 8},
           {"name": "fukushimadc-02-hgx-0008", "address": "10.0.0.8", "gpus": 8, "exclude": true},
           {"name": "fukushimadc-02-hgx-0009", "address": "10.0.0.9", "gpus": 8},
           {"name": "gpu-a17", "address": "10.0.0.17", "gpus": 8}]}
JSON
netns_begin 3 --inventory "$inventory"
rm -f "$inventory"
expect_names=(fukushimadc-02-hgx-0007 fukushimadc-02-hgx-0009 gpu-a17)

for h in 0 1 2; do
  want=${expect_names[h]}
  got=$("$HOSTS" exec "$h" hostname)
  [[ $got == "$want" ]] || fail "host $h: hostname '$got', expected '$want'"
  [[ $("$HOSTS" exec "$want" cat /proc/sys/kernel/hostname) == "$want" ]] || fail "exec by name $want"
  addr=198.51.100.$((11 + h))
  [[ $("$HOSTS" addr "$h") == "$addr" ]] || fail "host $h: address $("$HOSTS" addr "$h"), expected $addr"
  "$HOSTS" exec "$h" ip -br addr show eth0 | grep -qF "$addr/24" || fail "host $h: eth0 lacks $addr/24"
  "$HOSTS" exec "$h" ip -br link show lo | grep -qE 'UNKNOWN|UP' || fail "host $h: loopback not up"
  # One route, the hosts' subnet: there is no way out of the namespaces.
  routes=$("$HOSTS" exec "$h" ip -4 route show)
  [[ $routes == "198.51.100.0/24 dev eth0 "* && $(wc -l <<<"$routes") -eq 1 ]] || fail "host $h: routes '$routes'"
done
# The root namespace's hostname is untouched.
[[ $(hostname) != "${expect_names[0]}" ]] || fail "the root namespace's hostname changed"
# Names resolve inside the hosts.
"$HOSTS" exec 2 getent hosts gpu-a17 | grep -q '^198\.51\.100\.13 ' || fail "host 2: gpu-a17 does not resolve"

# Reachability without a listener: a refused connection means the SYN got there and back.
probe() { "$HOSTS" exec "$1" timeout 5 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1 || true; }
out=$(probe 2 198.51.100.11)
[[ $out == *"Connection refused"* ]] || fail "host 2 -> host 0: '$out' (expected a refused connection)"
out=$(probe 0 198.51.100.13)
[[ $out == *"Connection refused"* ]] || fail "host 0 -> host 2: '$out'"
# An address outside: no route, so not a single packet leaves (documentation address).
out=$(probe 1 192.0.2.1)
[[ $out == *"unreachable"* ]] || fail "host 1 -> 192.0.2.1: '$out' (expected: network unreachable)"

# Shaping, both ends of host 1's link.
rc=0
"$HOSTS" shape 1 rate 10mbit || rc=$?
if ((rc == 0)); then
  "$HOSTS" exec 1 tc qdisc show dev eth0 | grep -q "tbf.*rate 10Mbit" || fail "host 1: no tbf on eth0"
  "$HOSTS" shape 1 clear
  "$HOSTS" exec 1 tc qdisc show dev eth0 | grep -q tbf && fail "host 1: tbf still there after clear"
else
  ((rc == 77)) || fail "shape 1 rate 10mbit: exit $rc"
  echo "note: tc tbf not available here"
fi
rc=0
"$HOSTS" shape 1 delay 1ms 2>/dev/null || rc=$?
((rc == 0 || rc == 77)) || fail "shape 1 delay 1ms: exit $rc"
((rc == 0)) && "$HOSTS" shape 1 clear
((rc == 77)) && echo "note: tc netem not available here (no sch_netem): 'shape delay' exits 77"

# kill: every process of a host.
"$HOSTS" exec 2 sleep 100 &
sleeper=$!
for ((i = 0; i < 50; i++)); do [[ -n $("$HOSTS" pids 2) ]] && break; sleep 0.1; done
"$HOSTS" kill 2
rc=0
wait "$sleeper" || rc=$?
((rc == 137)) || fail "kill 2: the sleeper exited $rc, expected 137"

# A second run beside this one: its own prefix, the same addresses, no collision.
second="$WORK/second.state"
SXCOLL_NETNS_STATE=$second "$HOSTS" up 2 >/dev/null || fail "second run: up"
p2=$(SXCOLL_NETNS_STATE=$second "$HOSTS" prefix)
[[ $p2 != "$NETNS_PREFIX" ]] || fail "two runs share prefix $p2"
[[ $(SXCOLL_NETNS_STATE=$second "$HOSTS" exec 1 hostname) == fukushimadc-02-hgx-0002 ]] || fail "second run: host 1's name"
out=$(SXCOLL_NETNS_STATE=$second "$HOSTS" exec 1 timeout 5 bash -c "exec 3<>/dev/tcp/198.51.100.11/9" 2>&1 || true)
[[ $out == *"Connection refused"* ]] || fail "second run: host 1 -> host 0: '$out'"
# A process left running in the second run: down must still remove it all.
SXCOLL_NETNS_STATE=$second "$HOSTS" exec 0 sleep 1000 &
stray=$!
for ((i = 0; i < 50; i++)); do [[ -n $(SXCOLL_NETNS_STATE=$second "$HOSTS" pids 0) ]] && break; sleep 0.1; done
SXCOLL_NETNS_STATE=$second "$HOSTS" down >/dev/null || fail "second run: down"
wait "$stray" || true
"$HOSTS" leftovers "$p2" || fail "second run left something"
# ... and the first run is unharmed.
[[ $("$HOSTS" exec 0 hostname) == "${expect_names[0]}" ]] || fail "first run damaged by the second's down"

netns_end
[[ ! -e $SXCOLL_NETNS_STATE ]] || fail "down left the state file"
echo "$test_name: PASS"
