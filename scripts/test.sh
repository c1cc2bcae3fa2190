#!/usr/bin/env bash
# Sets up, builds (dev preset: Debug + AddressSanitizer/UndefinedBehaviorSanitizer) and runs
# the whole test suite, then the tests that start no Kafka client again under
# ThreadSanitizer (scripts/tsan.sh). Extra arguments go to the dev preset's ctest (e.g.
# -L unit) and skip the ThreadSanitizer pass, as RILL_TSAN=off does.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev -j "$(nproc)" "$@"
if [ $# -eq 0 ] && [ "${RILL_TSAN:-on}" != off ]; then ./scripts/tsan.sh; fi
