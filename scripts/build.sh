#!/usr/bin/env bash
# Configures and builds sxcoll into build/ (Release with debug info, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DSXCOLL_WERROR=ON
cmake --build build -j "$(nproc)"
