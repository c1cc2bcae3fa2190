#!/usr/bin/env bash
# Builds the bench preset (Release -O3, no sanitizers) and runs the end-to-end benchmark
# suite twice: on the embedded broker (~7.5 min), then on the simulated cluster (~1.5 min),
# every workload against its hand-written baseline in the same run. Prints the tables,
# writes build/bench/e2e.tsv and e2e-sim.tsv and draws benchmarks/chart.svg and
# chart-sim.svg. Extra arguments go to bench_e2e (e.g. --partitions 16). Then the Nexmark
# queries q0-q5, q7, q8 on both brokers (benchmarks/nexmark/), each output checked
# against a plain C++ reference, written to build/bench/nexmark.txt (~6 min). Last, the
# yardstick the targets apply to: instructions per record of each simulated-cluster
# workload and its baseline under callgrind, with calls per record on the path
# (benchmarks/instructions.sh), written to build/bench/instructions.txt (~5 min).
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
# Nexmark: each query in a process of its own (so that its peak RSS is its own), best time of
# 3 runs of 10^6 events on the simulated cluster and of 2 runs of 300 000 on the embedded
# broker (the mock keeps about 5 MiB per partition).
nexmark=build/bench/nexmark.txt
rm -f "$nexmark"
header=on
for q in q0 q1 q2 q3 q4 q5 q7 q8; do
  ./build/bench/benchmarks/bench_nexmark "$q" --broker sim --events 1000000 --repeat 3 \
    --partitions 32 --header "$header" | tee -a "$nexmark"
  header=off
  ./build/bench/benchmarks/bench_nexmark "$q" --broker embedded --embedded-events 300000 \
    --repeat 2 --partitions 32 --header off | tee -a "$nexmark"
done
./benchmarks/instructions.sh | tee build/bench/instructions.txt
