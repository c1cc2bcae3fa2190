#!/usr/bin/env bash
# What recording metrics at `info` costs W1 (pass-through), in instructions: runs W1 with
# metrics.recording.level=info, then with off, each alone under callgrind, counting only
# the instructions of the stream thread's loop (stream_thread::run_once and all it calls:
# poll, processing, sends, commits, metric samples), not the broker, the input's producer or
# the output's check. Instructions are deterministic where wall-clock time on a shared
# 2-core machine is not. Prints instructions per record of each side and their ratio
# (off / info: 1.00 means free, the issue's bound is >= 0.98), with and without the work done
# once a second rather than per record (which valgrind's slowdown inflates per record).
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
  local total=0 timed=0
  for f in "$out/$side".[0-9]*; do
    n=$(grep '^summary:' "$f" | awk '{print $2}')
    total=$((total + ${n:-0}))
    # Work done once a second, not per record: the thread's metric sample and the clients'
    # statistics (parsed in their callback). Under valgrind a run lasts ~50x longer, so this
    # weighs ~50x more per record than natively; it is reported apart.
    t=$(callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
        grep -E 'stream_thread::sample\(|statistics_slot::store' | awk '{gsub(",", "", $1); s += $1} END {print s + 0}')
    timed=$((timed + ${t:-0}))
  done
  echo "$total $timed"
}

read -r info info_timed <<<"$(count info)"
read -r off off_timed <<<"$(count off)"
awk -v i="$info" -v it="$info_timed" -v o="$off" -v ot="$off_timed" -v n="$records" 'BEGIN {
  printf "W1, %d records, instructions in the stream thread per record:\n", n
  printf "  all of it:            info %.0f, off %.0f; ratio off/info %.3f\n", i / n, o / n, o / i
  printf "  per-record work only: info %.0f, off %.0f; ratio off/info %.3f (target >= 0.98)\n", (i - it) / n, (o - ot) / n, (o - ot) / (i - it)
  printf "  once-a-second work (metric samples, client statistics): %d instructions at info, %d off, over the run\n", it, ot
}'
