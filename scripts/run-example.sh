#!/usr/bin/env bash
# Sets up, builds (release preset) and runs the flagship example end to end on the embedded
# broker: the event-sourced bank, all in one process, with its invariants checked.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)" --target bank
./build/release/examples/bank all --commands "${COMMANDS:-20000}" --accounts "${ACCOUNTS:-200}"
