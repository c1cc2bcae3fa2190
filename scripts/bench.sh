#!/usr/bin/env bash
# Builds the bench preset (Release -O3, no sanitizers) and runs the end-to-end benchmark
# suite twice: on the embedded broker (~7.5 min), then on the simulated cluster (~1.5 min),
# every workload against its hand-written baseline in the same run. Prints the tables,
# writes build/bench/e2e.tsv and e2e-sim.tsv and draws benchmarks/chart.svg and
# chart-sim.svg. Extra arguments go to bench_e2e (e.g. --partitions 16). Then the Nexmark
# queries q0-q5, q7, q8 on both brokers (~5 min; benchmarks/nexmark/), each output checked
# against a plain C++ reference, written to build/bench/nexmark.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset bench
cmake --build --preset bench -j "$(nproc)" --target bench_e2e bench_nexmark
tsv=build/bench/e2e.tsv
sim_tsv=build/bench/e2e-sim.tsv
rm -f "$tsv" "$sim_tsv"
./build/bench/benchmarks/bench_e2e all --tsv "$tsv" "$@"
./build/bench/benchmarks/bench_e2e all --broker sim --tsv "$sim_tsv" "$@"
gnuplot -e "data='$tsv'; out='benchmarks/chart.svg'" benchmarks/chart.gp
gnuplot -e "data='$sim_tsv'; out='benchmarks/chart-sim.svg'; broker='simulated cluster'" \
  benchmarks/chart.gp
echo "charts: benchmarks/chart.svg benchmarks/chart-sim.svg"
./build/bench/benchmarks/bench_nexmark all --events 1000000 --embedded-events 300000 \
  --partitions 32 | tee build/bench/nexmark.txt
