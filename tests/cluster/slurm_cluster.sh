# shellcheck shell=bash
# Sourced by the Slurm tests: a Slurm cluster in the namespace hosts of tests/netns.
#   slurm_begin N        hosts.sh up N (netns_begin), then munged, slurmctld and one slurmd
#                        per host, each in its host's namespace (host 0 is also the
#                        controller and the login node); waits until every node is idle
#   on_login CMD...      runs CMD on host 0 with the cluster's SLURM_CONF (srun, sbatch, sxcoll)
#   slurm_end            netns_end, then fails if any process that ran in a host lives on
#   slurm_logs           the end of every daemon's log (for a failure)
# Skips (77) without Debian's slurmd, slurmctld, slurm-client and munge. Every daemon runs
# in a host's namespace, so netns_end (hosts.sh down) ends them with the namespaces; their
# files live in $WORK (the test's scratch folder, removed on success).
#
# One machine, several slurmd: each runs in its own UTS namespace (its host name is its
# NodeName, which is how slurmd finds itself in slurm.conf) and network namespace (its own
# address and port 6818); spool, pid and log files are told apart by slurm.conf's %n. No
# cgroups: proctrack/linuxproc and task/none. slurmd 22.05 still loads a cgroup plugin at
# start, and `ip netns exec` gives every host a fresh /sys without /sys/fs/cgroup, where
# the default (autodetect) fails ("No filesystem mounted on /sys/fs/cgroup"); cgroup/v1,
# named in cgroup.conf, loads without touching the file system and is then never used.

# shellcheck source-path=SCRIPTDIR source=../netns/test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../netns/test_lib.sh"

readonly SLURM_START_LIMIT=${SXCOLL_SLURM_START_LIMIT:-60}

slurm_check() {
  local tool
  for tool in slurmctld slurmd srun sbatch sinfo scontrol munged mungekey; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null ||
      { echo "$test_name: SKIP: no $tool (Debian: slurmd slurmctld slurm-client munge)" >&2; exit 77; }
  done
  PATH=$PATH:/usr/sbin
}

slurm_write_conf() {
  local n=$1 i
  {
    cat <<CONF
# The namespace cluster of one test (tests/cluster/slurm_cluster.sh).
ClusterName=sxcoll-sim
SlurmctldHost=$("$HOSTS" name 0)($("$HOSTS" addr 0))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SLURM_DIR/munge/munge.socket
StateSaveLocation=$SLURM_DIR/ctld
SlurmctldPidFile=$SLURM_DIR/ctld/slurmctld.pid
SlurmctldLogFile=$SLURM_DIR/ctld/slurmctld.log
SlurmdSpoolDir=$WORK/s/%n
SlurmdPidFile=$SLURM_DIR/nodes/%n/slurmd.pid
SlurmdLogFile=$SLURM_DIR/nodes/%n/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/linear
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=2
MinJobAge=5
CONF
    for ((i = 0; i < n; i++)); do
      echo "NodeName=$("$HOSTS" name "$i") NodeAddr=$("$HOSTS" addr "$i") CPUs=$(nproc) State=UNKNOWN"
    done
    echo "PartitionName=sim Nodes=ALL Default=YES MaxTime=10 State=UP"
  } >"$SLURM_DIR/slurm.conf"
  echo "CgroupPlugin=cgroup/v1" >"$SLURM_DIR/cgroup.conf"
}

slurm_begin() {
  local n=$1 i name
  slurm_check
  netns_begin "$n"
  SLURM_DIR="$WORK/slurm"
  export SLURM_CONF="$SLURM_DIR/slurm.conf"
  # munged wants its socket's folders searchable by everyone, its key private.
  mkdir -p "$SLURM_DIR/munge" "$SLURM_DIR/ctld"
  chmod 755 "$WORK" "$SLURM_DIR" "$SLURM_DIR/munge"
  mungekey -c -k "$SLURM_DIR/munge/munge.key"
  # slurmstepd makes its socket in the spool folder, NAME_JOB.STEP (a batch step: 4294967291),
  # and a socket's path has 108 bytes at most: the spool folder's path is kept short.
  for ((i = 0; i < n; i++)); do
    name=$("$HOSTS" name "$i")
    local sock="$WORK/s/$name/${name}_99999.4294967291"
    ((${#sock} < 108)) || fail "the spool path $sock is too long for a socket (${#sock} > 107): set a shorter TMPDIR"
    mkdir -p "$SLURM_DIR/nodes/$name" "$WORK/s/$name"
  done
  slurm_write_conf "$n"
  # One munged for all hosts: its socket is a file, which every namespace reaches.
  "$HOSTS" exec 0 munged -F --socket="$SLURM_DIR/munge/munge.socket" --key-file="$SLURM_DIR/munge/munge.key" \
    --log-file="$SLURM_DIR/munge/munged.log" --pid-file="$SLURM_DIR/munge/munged.pid" \
    --seed-file="$SLURM_DIR/munge/munged.seed" >"$SLURM_DIR/munge/out" 2>&1 &
  disown  # hosts.sh down ends it with the namespace
  for ((i = 0; i < 50; i++)); do [[ -S $SLURM_DIR/munge/munge.socket ]] && break; sleep 0.1; done
  [[ -S $SLURM_DIR/munge/munge.socket ]] || { cat "$SLURM_DIR/munge/out" >&2; fail "munged did not start"; }
  "$HOSTS" exec 0 slurmctld -D -i >"$SLURM_DIR/ctld/out" 2>&1 &
  disown
  for ((i = 0; i < n; i++)); do
    name=$("$HOSTS" name "$i")
    "$HOSTS" exec "$i" slurmd -D >"$SLURM_DIR/nodes/$name/out" 2>&1 &
    disown
  done
  local deadline=$((SECONDS + SLURM_START_LIMIT)) idle=0
  while ((SECONDS < deadline)); do
    idle=$(on_login timeout 5 sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l || true)
    ((idle == n)) && break
    sleep 0.5
  done
  ((idle == n)) || { slurm_logs; fail "only $idle of $n nodes idle after ${SLURM_START_LIMIT} s"; }
  echo "slurm: $n nodes idle: $(on_login sinfo -h -o '%P %a %D %t %N')"
}

slurm_end() {
  local i pids="" pid
  for ((i = 0; i < $("$HOSTS" n); i++)); do pids+=" $("$HOSTS" pids "$i" | tr '\n' ' ')"; done
  netns_end
  for pid in $pids; do
    # A zombie is gone already (its parent, this shell, has yet to reap it).
    [[ -e /proc/$pid && $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] &&
      fail "process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) of the cluster outlived it"
  done
  return 0
}

on_login() { "$HOSTS" exec 0 env SLURM_CONF="$SLURM_CONF" "$@"; }

slurm_logs() {
  local f
  for f in "$SLURM_DIR"/munge/out "$SLURM_DIR"/ctld/slurmctld.log "$SLURM_DIR"/nodes/*/slurmd.log "$SLURM_DIR"/nodes/*/out; do
    [[ -f $f ]] || continue
    echo "--- ${f#"$WORK"/}" >&2
    tail -n 8 "$f" >&2
  done
}
