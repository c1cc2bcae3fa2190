#!/usr/bin/env bash
# Sets up, builds (release preset) and runs the flagship example end to end on the embedded
# broker: the event router, all in one process, with its output checked.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target event_router
./build/release/examples/event_router all --events "${EVENTS:-20000}"
