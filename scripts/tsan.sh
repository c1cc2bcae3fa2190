#!/usr/bin/env bash
# ThreadSanitizer over every test that starts no Kafka client: the unit, driver and crash
# tiers (the `tests_without_broker` target). librdkafka's own threads crash ThreadSanitizer
# on these machines, so the integration tier runs under the dev preset only. The crash tier
# runs fewer seeds here (RILL_CRASH_SEEDS, 12 a topology unless set): its harness steps the
# stream threads on one OS thread, so what ThreadSanitizer can look at (RocksDB's background
# threads, the metrics and state readers) is in every seed alike; the dev preset runs the
# full count.
# Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset tsan
cmake --build --preset tsan -j "$(nproc)" --target tests_without_broker
RILL_CRASH_SEEDS=${RILL_CRASH_SEEDS:-12} ctest --preset tsan -j "$(nproc)" "$@"
