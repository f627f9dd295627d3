#!/usr/bin/env bash
# Installs what is missing (a no-op when everything is there), builds sxcoll and runs every
# test (ctest): unit, multi-process over TCP, faults, CLI, the Soft-RoCE VM suites, the SFT
# worker and driver, and the suites that skip with a stated reason where their hardware is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# One test at a time: the multi-process tests fork up to 8 ranks on a 2-core machine.
ctest --test-dir build --output-on-failure --timeout 900 "$@"
