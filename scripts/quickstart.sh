#!/usr/bin/env bash
# From a fresh Debian machine to a first fabric measurement: install, build, and run
# `sxcoll bench` on 4 local ranks, shared memory between them (the embedded default: no launcher, no setup).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# Any arguments replace the default sweep (8 B to 64 MiB), e.g. scripts/quickstart.sh -b 1M -e 256M.
if [ $# -eq 0 ]; then set -- -b 8 -e 64M; fi
exec build/app/sxcoll bench --np 4 "$@"
