#!/usr/bin/env bash
# Sets up, builds (dev preset: Debug + AddressSanitizer/UndefinedBehaviorSanitizer) and runs
# the whole test suite. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev -j "$(nproc)" "$@"
