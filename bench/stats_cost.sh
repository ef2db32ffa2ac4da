#!/usr/bin/env bash
# stats_cost.sh — issue 10's hot-path benchmark (not a test): what the
# stats cost ConstSpoutNullBolt (bench_storm_perf, one process), unacked
# and acked, with the stats as shipped (topology.stats.sample.rate at its
# default, read from `gale conf --list`) against sampling off
# (topology.stats.sample.rate=0: no clock reads, no latency sums or
# histograms; the exact counters stay, they cannot be switched off).
# The two run alternately in the same run, the order swapped every round
# (shipped, off; off, shipped; ...) so drift on a shared machine hits both
# alike. Prints every RESULT line (tagged variant=shipped|off), then per
# benchmark the medians, the median of the paired ratios shipped/off
# (the two runs of one round) and their min..max, and the machine.
#
#   bash bench/stats_cost.sh                           # 5 rounds, 2 s + 8 s per run
#   bash bench/stats_cost.sh --rounds 2 --warmup 1 --secs 3   # quick (about 1 min)
#
# --rounds N      rounds (default 5); each runs both variants of both benchmarks
# --warmup S      warm-up of each run (default 2)
# --secs S        measuring window of each run (default 8)
# --pending N     topology.max.spout.pending of the acked run (default 1000)
# GALE_BUILD_DIR picks the build directory (default: build-rel; configured
# as Release when it is not).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

build=${GALE_BUILD_DIR:-build-rel}
rounds=5
warmup=2 secs=8 perf=()
die() {
    echo "stats_cost.sh: $*" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help)
            bench_usage
            exit 0
            ;;
        --rounds)
            [ $# -ge 2 ] || die "$1 needs a value"
            [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive integer, not '$2'"
            rounds=$2
            shift 2
            ;;
        --warmup | --secs | --pending)
            [ $# -ge 2 ] || die "$1 needs a value"
            case "$1" in
                --warmup) warmup=$2 ;; --secs) secs=$2 ;; *) perf+=("$1" "$2") ;;
            esac
            shift 2
            ;;
        *) die "unknown option '$1' (--help lists them)" ;;
    esac
done

perf=(--warmup "$warmup" --secs "$secs" "${perf[@]}")

bench_build "$build" gale bench_storm_perf
gale=$build/bin/gale
perfbin=$build/bench/bench_storm_perf
shipped=$("$gale" conf --list | awk '$1 == "topology.stats.sample.rate" { print $3 }')
[[ $shipped =~ ^[0-9.]+$ ]] || die "cannot read topology.stats.sample.rate's default from gale conf --list"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gale-stats-cost.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "# Gale: the cost of stats on the hot path (issue 10)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
dirty=$(git status --porcelain -- common topology worker bench include CMakeLists.txt 2>/dev/null | head -1)
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo none)${dirty:+ (+ uncommitted changes in the tree)}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load:    $load0 (1/5/15 min averages before the run)"
echo "variants: shipped = topology.stats.sample.rate=$shipped (the default), off = topology.stats.sample.rate=0"
echo "runs:    $rounds round(s); bench_storm_perf ${perf[*]}"

# run VARIANT RATE ROUND BENCH
run() {
    "$perfbin" --bench "$4" --sample-rate "$2" "${perf[@]}" >"$tmp/out" ||
        die "bench_storm_perf --bench $4 --sample-rate $2 failed: $(tail -3 "$tmp/out")"
    sed -n "s/^RESULT /RESULT variant=$1 round=$3 /p" "$tmp/out" | tee -a "$tmp/results"
}
: >"$tmp/results"
for ((r = 1; r <= rounds; r++)); do
    for b in const_null_unacked const_null_acked; do
        if ((r % 2)); then
            run shipped "$shipped" "$r" "$b"
            run off 0 "$r" "$b"
        else
            run off 0 "$r" "$b"
            run shipped "$shipped" "$r" "$b"
        fi
    done
done
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (after the run)"
echo
awk '
function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
function median(s,   a, n) { n = split(s, a, " "); sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function lo(s,   a, n) { n = split(s, a, " "); sort(a, n); return a[1] }
function hi(s,   a, n) { n = split(s, a, " "); sort(a, n); return a[n] }
function q(s, p,   a, n, k) { n = split(s, a, " "); sort(a, n); k = int(p * (n - 1) + 0.5) + 1; return a[k] } # nearest rank
function num(x,   s, r) {
    if (x < 1000) return sprintf("%.4g", x)
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
}
{
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    b = f["bench"]; if (!(b in seen)) { seen[b] = 1; order[++n] = b }
    for (k = 1; k <= 3; k++) {
        fig = k == 1 ? "tput" : k == 2 ? "per_cpu_s" : "p50_us"
        if (!(fig in f)) continue
        v[b, fig, f["variant"]] = v[b, fig, f["variant"]] " " f[fig]
        x[b, fig, f["variant"], f["round"]] = f[fig]; has[b, fig] = 1
    }
    rounds[f["round"]] = 1
}
END {
    printf "%-20s %-10s %14s %14s %7s %13s %13s\n", "benchmark", "figure", "shipped", "off", "ratio", "paired q1..q3", "min..max"
    for (i = 1; i <= n; i++) {
        b = order[i]
        for (k = 1; k <= 3; k++) {
            fig = k == 1 ? "tput" : k == 2 ? "per_cpu_s" : "p50_us"
            if (!has[b, fig]) continue
            pr = ""
            for (r in rounds)
                if (((b, fig, "shipped", r) in x) && ((b, fig, "off", r) in x) && x[b, fig, "off", r] > 0)
                    pr = pr " " x[b, fig, "shipped", r] / x[b, fig, "off", r]
            printf "%-20s %-10s %14s %14s %7.3f  %5.3f..%-5.3f  %5.3f..%-5.3f\n", b, fig, num(median(v[b, fig, "shipped"])),
                   num(median(v[b, fig, "off"])), median(pr), q(pr, 0.25), q(pr, 0.75), lo(pr), hi(pr)
        }
    }
    print ""
    print "shipped/off: tput = null bolt executes per second, per_cpu_s = those per CPU-second of the"
    print "process (both: below 1 = the stats cost that much); p50_us = complete latency (above 1 ="
    print "slower). ratio = median of the per-round ratios (the two variants of one round ran back to"
    print "back); q1..q3 = their middle half, min..max = their range: a cost inside them is noise."
    print "Aim (issue 10): under 5 %."
}' "$tmp/results"
