#!/usr/bin/env bash
# run_fuzzer.sh FUZZER SECONDS SCRATCH_CORPUS SEED_CORPUS: runs a libFuzzer target for SECONDS
# over the seeds plus what earlier runs found; exit code non-zero on a crash, a leak or a
# timeout (libFuzzer writes the input to crash-*/leak-*/timeout-* in the scratch directory).
set -euo pipefail
fuzzer=$1 seconds=$2 scratch=$3 seeds=$4
mkdir -p "$scratch"
cd "$scratch"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -print_final_stats=1 "$scratch" "$seeds"
