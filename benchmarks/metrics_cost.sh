#!/usr/bin/env bash
# What recording metrics at `info` costs W1 (pass-through), in instructions: runs W1 with
# metrics.recording.level=info, then with off, each alone under callgrind, counting only
# the instructions of the stream thread's loop (stream_thread::run_once and all it calls:
# poll, processing, sends, commits, metric samples), not the broker, the input's producer or
# the output's check. Instructions are deterministic where wall-clock time on a shared
# 2-core machine is not. Prints instructions per record of each side and their ratio
# (off / info: 1.00 means free, the issue's bound is >= 0.98).
#
#   benchmarks/metrics_cost.sh [records]        (default 100000; needs the bench build)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
bench=build/bench/benchmarks/bench_e2e
[ -x "$bench" ] || { echo "build it first: cmake --preset bench && cmake --build build/bench --target bench_e2e" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() {  # $1: info|off -> instructions in the stream thread's loop
  local side=$1 rill=on baseline=off
  # W1-metrics runs info as its "rill" side and off as its baseline.
  if [ "$side" = off ]; then rill=off; baseline=on; fi
  valgrind --tool=callgrind --callgrind-out-file="$out/$side.%p" --collect-atstart=no \
    --toggle-collect='rill::runtime::stream_thread::run_once()' \
    "$bench" W1-metrics --records "$records" --repeat 1 --partitions 4 \
    --rill "$rill" --baseline "$baseline" >"$out/$side.log" 2>&1 ||
    { cat "$out/$side.log" >&2; exit 1; }
  if grep -q "WRONG\|output wrong" "$out/$side.log"; then cat "$out/$side.log" >&2; exit 1; fi
  local total=0
  for f in "$out/$side".[0-9]*; do
    n=$(grep '^summary:' "$f" | awk '{print $2}')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

info=$(count info)
off=$(count off)
awk -v i="$info" -v o="$off" -v n="$records" 'BEGIN {
  printf "W1, %d records: instructions per record in the stream thread, metrics info %.0f, off %.0f; ratio off/info %.3f (target >= 0.98)\n", n, i / n, o / n, o / i
}'
