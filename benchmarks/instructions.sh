#!/usr/bin/env bash
# The simulated-cluster suite's yardstick in instructions: each workload's Rill side and its
# hand-written baseline run alone under callgrind, counting only the instructions of the
# side itself (bench::run_rill, the baseline loop run_loop, or W6's restore_loop: the
# stream thread's work and the simulated cluster's answers to it, not building the input or
# checking the output). Time moves with the records (--clock records), so a run under
# valgrind commits as often per record as a run at full speed. Instruction counts repeat
# from run to run where wall-clock time on a shared 2-core machine does not.
#
# Prints, per workload, instructions per record of each side and the ratio baseline / Rill
# (the throughput ratio the targets are written in: 1.00 means as cheap as the loop), and
# each side's virtual calls, std::function hops and map lookups per record (calls.py).
#
#   benchmarks/instructions.sh [scale]     (scale multiplies the record counts; default 1)
#
# Needs the bench build (cmake --preset bench && cmake --build build/bench --target
# bench_e2e) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1}
bench=build/bench/benchmarks/bench_e2e
[ -x "$bench" ] || { echo "build it first: cmake --preset bench && cmake --build build/bench --target bench_e2e" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The functions whose instructions count, as callgrind names them.
symbol() {  # $1: regex of nm -C's line
  nm -C "$bench" | grep -E "$1" | grep -v '\[clone' | head -1 | sed -E 's/^[0-9a-f]+ [tTwW] //'
}
rill_fn=$(symbol ' [tTwW] bench::run_rill\(bench::sim_world&')
loop_fn=$(symbol ' [tTwW] bench::\(anonymous namespace\)::run_loop\(')
restore_fn=$(symbol ' [tTwW] bench::\(anonymous namespace\)::restore_loop\(')
check_fn=$(symbol ' [tTwW] bench::check_output\(')  # inside run_rill, not counted
for f in "$rill_fn" "$loop_fn" "$restore_fn" "$check_fn"; do
  [ -n "$f" ] || { echo "a measured function is missing from $bench" >&2; exit 2; }
done

# count NAME FUNCTION ARGS... -> instructions of FUNCTION (all calls, all threads). Each
# count has a directory of its own: rows share workload ids, and a profile of one row must
# not be summed into the next.
runs=0
count() {
  local name=$1 fn=$2
  shift 2
  runs=$((runs + 1))
  local dir="$out/$runs-$name"
  mkdir -p "$dir"
  # Collection toggles on entering and leaving each function: the check of W6's output,
  # called inside run_rill, toggles it off again for its duration.
  local toggles=(--toggle-collect="$fn")
  [ "$fn" = "$rill_fn" ] && toggles+=(--toggle-collect="$check_fn")
  valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p" --collect-atstart=no \
    "${toggles[@]}" "$bench" "$@" --broker sim --repeat 1 --clock records \
    >"$dir/log" 2>&1 || { cat "$dir/log" >&2; exit 1; }
  if grep -qE "WRONG|output wrong|failed" "$dir/log"; then cat "$dir/log" >&2; exit 1; fi
  local total=0
  for f in "$dir"/callgrind.*; do
    n=$(grep '^summary:' "$f" | awk '{print $2}')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
# calls RECORDS -> the last count's calls per record on the path (benchmarks/calls.py)
calls() {
  local dir
  dir=$(ls -d "$out"/"$runs"-* | head -1)
  /usr/bin/python3 benchmarks/calls.py "$bench" "$1" "$dir"/callgrind.*
}

printf "%-44s %9s %14s %14s %7s  %s\n" workload records "Rill instr/rec" "base instr/rec" ratio \
  "calls per record, Rill | baseline"
row() {  # ID DESCRIPTION RECORDS BASELINE_FN ARGS...
  local id=$1 what=$2 records=$3 base_fn=$4
  shift 4
  local rill base rill_calls base_calls
  # Not in $(...): count numbers its runs in this shell.
  count "$id-rill" "$rill_fn" "$id" --records "$records" "$@" --rill on --baseline off >"$out/n"
  rill=$(cat "$out/n")
  rill_calls=$(calls "$records")
  if [ "$base_fn" = eos ]; then  # W5: Rill at-least-once is the baseline
    count "$id-alos" "$rill_fn" W1 --records "$records" "$@" --guarantee at_least_once --rill on --baseline off >"$out/n"
  else
    count "$id-base" "$base_fn" "$id" --records "$records" "$@" --rill off --baseline on >"$out/n"
  fi
  base=$(cat "$out/n")
  base_calls=$(calls "$records")
  awk -v w="$what" -v n="$records" -v r="$rill" -v b="$base" -v c="$rill_calls | $base_calls" \
    'BEGIN { printf "%-44s %9d %14.0f %14.0f %7.3f  %s\n", w, n, r / n, b / n, b / r, c }'
}
n() { echo $(($1 * scale)); }
row W1 "W1 pass-through" "$(n 100000)" "$loop_fn"
row W2 "W2 JSON filter + map" "$(n 50000)" "$loop_fn"
row W3 "W3 count, 10^3 keys, cache off" "$(n 200000)" "$loop_fn" --keys 1000 --cache off
row W3 "W3 count, 10^3 keys, cache on" "$(n 200000)" "$loop_fn" --keys 1000 --cache on
row W3 "W3 count, 10^6 keys, cache off" "$(n 200000)" "$loop_fn" --keys 1000000 --cache off
row W1 "W5 W1 exactly-once / at-least-once, 100 ms" "$(n 100000)" eos --guarantee exactly_once_v2
# 6 250 records a partition: under bulk restoration's threshold (10 000), the record path.
row W6 "W6 restore, record by record" "$(n 200000)" "$restore_fn"
# The workload as issue 16 gives it, 31 250 a partition: bulk restoration (SST ingestion).
row W6 "W6 restore 10^6, in bulk" "$(n 1000000)" "$restore_fn"
