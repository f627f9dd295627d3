#!/usr/bin/env bash
# Open MPI's remote-shell agent for the namespace hosts (mpirun --mca plm_rsh_agent THIS):
# mpirun calls it as ssh would be called, `AGENT [ssh options] HOST COMMAND...`, and the
# command (orted with its arguments, one shell line) runs on HOST through hosts.sh exec:
# its namespace and host name, no ssh daemon. SXCOLL_NETNS_STATE names the run.
set -euo pipefail
while (($# > 0)) && [[ $1 == -* ]]; do
  case $1 in
    -x | -T | -t | -n | -q) shift ;;    # ssh flags mpirun may add: nothing to do here
    -o | -p | -l | -i) shift 2 ;;      # ssh flags with a value
    *) shift ;;
  esac
done
(($# >= 2)) || { echo "mpirun_agent.sh: usage: [ssh options] HOST COMMAND..." >&2; exit 2; }
host=$1
shift
exec "$(dirname "$0")/hosts.sh" exec "$host" sh -c "$*"
