#!/usr/bin/env bash
# Builds the bench preset (Release -O3, no sanitizers) and runs the end-to-end benchmark
# suite on the embedded broker: every workload against its hand-written baseline in the same
# run. Prints the table, writes build/bench/e2e.tsv and draws benchmarks/chart.svg.
# Extra arguments go to bench_e2e (e.g. --partitions 16).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset bench
cmake --build --preset bench -j "$(nproc)" --target bench_e2e
tsv=build/bench/e2e.tsv
rm -f "$tsv"
./build/bench/benchmarks/bench_e2e all --tsv "$tsv" "$@"
gnuplot -e "data='$tsv'; out='benchmarks/chart.svg'" benchmarks/chart.gp
echo "chart: benchmarks/chart.svg"
