#!/usr/bin/env bash
# run.sh — build Gale (Release) if needed and run every benchmark once:
# the no-framework baselines (bench_baseline) and the storm-perf
# topologies (bench_storm_perf), then print each figure with its ratio to
# the plain loop, and the machine it ran on.
#
#   bash bench/run.sh                      # 5 s warm-up + 30 s per benchmark
#   bash bench/run.sh --warmup 1 --secs 5  # quick run
#
# --warmup and --secs go to every benchmark; any other option goes to
# bench_storm_perf (--pending N, --rate N, --sample-rate F, --bench NAME).
# GALE_BUILD_DIR picks the build directory (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

build=${GALE_BUILD_DIR:-build}
common=()
topo=()
while [ $# -gt 0 ]; do
    case "$1" in
        --warmup | --secs)
            [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
            common+=("$1" "$2")
            shift 2
            ;;
        -h | --help)
            sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            topo+=("$1")
            shift
            ;;
    esac
done

# Configure when there is no Release cache yet; always build the bench
# targets (incremental, so cheap when nothing changed).
bench_build "$build" bench_baseline bench_storm_perf

out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "# Gale benchmarks"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
dirty=$(git status --porcelain -- common topology worker include bench CMakeLists.txt 2>/dev/null | head -1)
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo none)${dirty:+ (+ uncommitted changes in the tree)}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min averages before the run)"
echo "options: ${common[*]:-(defaults: --warmup 5 --secs 30)} ${topo[*]:-}"

"$build/bench/bench_baseline" "${common[@]}" | tee -a "$out"
"$build/bench/bench_storm_perf" "${common[@]}" "${topo[@]}" | tee -a "$out"

echo
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (after the run)"
echo
echo "## Summary (tuples/s = null bolt executes per second; ratio = benchmark / plain loop)"
awk '
function num(x,   s, r) { # 12345678 -> 12,345,678
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
}
/^RESULT / {
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    name = f["bench"]; order[++n] = name; tput[name] = f["tput"]
    lat[name] = ("p50_us" in f) ? sprintf("p50 %s us, p99 %s us", f["p50_us"], f["p99_us"]) : ""
    cpu[name] = f["cpu"]; others[name] = f["others"]
}
END {
    loop = tput["loop"]; spsc = tput["spsc"]
    printf "%-22s %13s %8s %8s %6s %6s  %s\n", "benchmark", "tuples/s", "vs loop", "vs spsc", "cores", "others", "complete latency"
    for (i = 1; i <= n; i++) {
        b = order[i]
        throttled = (b ~ /_10k$/)
        printf "%-22s %13s %8s %8s %6s %6s  %s\n", b, num(tput[b]),
               throttled ? "(paced)" : (loop ? sprintf("%.4f", tput[b] / loop) : "-"),
               throttled ? "(paced)" : (spsc ? sprintf("%.3f", tput[b] / spsc) : "-"),
               cpu[b], others[b], lat[b]
    }
    print ""
    print "cores = CPU this benchmark used; others = CPU other processes used during its window"
    print "(2 cores in all: a high \"others\" means the figure is low because the machine was shared)."
    print ""
    print "Targets (floors named by the issue):"
    if ("const_null_unacked" in tput)
        printf "  ConstSpoutNullBolt unacked >= 5,000,000 tuples/s: %s (%s)\n",
               (tput["const_null_unacked"] >= 5000000 ? "MET" : "NOT MET"), num(tput["const_null_unacked"])
    if ("const_null_acked" in tput)
        printf "  ConstSpoutNullBolt acked   >= 1,000,000 tuples/s: %s (%s)\n",
               (tput["const_null_acked"] >= 1000000 ? "MET" : "NOT MET"), num(tput["const_null_acked"])
}' "$out"
