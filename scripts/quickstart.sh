#!/usr/bin/env bash
# From a fresh Debian machine to a first fabric measurement: install, build, and run
# `sxcoll bench` on 4 local ranks over TCP (the embedded default: no launcher, no setup).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/app/sxcoll bench --np 4 -b 8 -e 64M "$@"
