#!/usr/bin/env bash
# rss_executors.sh — RSS and start time of a 1000-executor topology in 1
# and in 5 workers (bench_rss_executors), as a markdown table.
#
#   bash bench/rss_executors.sh [build-dir] [executors]
#
# build-dir defaults to build (configured Release if it is not yet); the
# binary is built there. Run it against another tree's build (after copying
# bench/rss_executors.c there) for a before/after comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
build=${1:-build}
n=${2:-1000}
bench_build "$build" bench_rss_executors
echo "| executors | workers | start (s) | RSS started (MB) | RSS after traffic (MB) | peak RSS (MB) | stop (s) |"
echo "|---|---|---|---|---|---|---|"
for w in 1 5; do
    line=$("$build/bench/bench_rss_executors" --executors "$n" --workers "$w" | grep '^RESULT')
    get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    echo "| $n | $w | $(get start_s) | $(get rss_start_mb) | $(get rss_traffic_mb) | $(get rss_peak_mb) | $(get stop_s) |"
done
