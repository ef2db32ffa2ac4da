#!/usr/bin/env bash
# idle.sh — what a topology costs at rest and at a moderate rate: runs
# bench/topo/paced.c under `gale local` (a) idle (its spout never emits)
# (also with -c topology.spout.wait.max.micros=100000: case "idle100")
# and (b) paced at --rate tuples/s, and reports for each the CPU the
# process used (utime+stime from /proc/PID/stat, in % of one core) and its
# wakeups (voluntary + involuntary context switches summed over all
# threads, /proc/PID/task/*/status), both over the measured window.
#
#   bash bench/idle.sh                          # $GALE_BIN (default build/bin/gale)
#   bash bench/idle.sh --secs 20 OLD/gale NEW/gale   # before and after, one run
#   bash bench/idle.sh --threads                # plus the busiest threads
#
# Options: --secs N (window, default 10), --warmup N (default 2),
# --rate N (default 10000), --repeat N (runs per binary and case,
# default 1), --threads (per-thread wakeups and CPU of the last run).
# When a build has bench/bench_storm_perf beside bin/gale, its acked
# ConstSpoutNullBolt paced to --rate runs too (case "perf"): its CPU and
# complete latency (p50/p99/p99.9), so latency is compared in the same run.
# The topology library is built from bench/topo/paced.c with only
# include/gale/gale.h (PACED_SO overrides it with a ready library), so
# one library runs against any build of Gale.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=10 warmup=2 rate=10000 repeat=1 threads=0
bins=()
while [ $# -gt 0 ]; do
    case "$1" in
        --secs | --warmup | --rate | --repeat)
            [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "idle.sh: $1 needs a whole number" >&2; exit 2; }
            case "$1" in
                --secs) secs=$2 ;; --warmup) warmup=$2 ;; --rate) rate=$2 ;; --repeat) repeat=$2 ;;
            esac
            shift 2
            ;;
        --threads) threads=1; shift ;;
        -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "idle.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
        *) bins+=("$1"); shift ;;
    esac
done
[ ${#bins[@]} -gt 0 ] || bins=("${GALE_BIN:-build/bin/gale}")
for b in "${bins[@]}"; do
    [ -x "$b" ] || { echo "idle.sh: no gale binary at '$b' (build it, or set GALE_BIN)" >&2; exit 2; }
done

tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

so=${PACED_SO:-}
if [ -z "$so" ]; then
    so=$tmp/paced.so
    cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -Iinclude -o "$so" bench/topo/paced.c
fi

tck=$(getconf CLK_TCK)
# utime+stime of the whole process, in clock ticks (fields 14, 15; the
# command name in parentheses may hold spaces, so cut after the last ')')
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n + 0 }'
}
per_thread() { # tid name switches ticks, one line per thread
    for t in /proc/"$1"/task/*; do
        local sw ti
        sw=$(awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n + 0 }' "$t/status" 2>/dev/null) || continue
        ti=$(sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }') || continue
        echo "${t##*/} $(tr ' ' _ <"$t/comm") $sw $ti"
    done
}

# run BIN RATE [gale local options]: one measured window; prints
# "cpu_pct wakeups_per_s"
run() {
    local bin=$1 r=$2 log=$tmp/log c0 c1 s0 s1
    shift 2
    "$bin" local "$so" PacedTopology "$r" --local-ttl $((warmup + secs + 30)) "$@" >"$log" 2>&1 &
    pid=$!
    sleep "$warmup"
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "idle.sh: $bin exited early" >&2; exit 1; }
    c0=$(cpu_ticks "$pid"); s0=$(switches "$pid")
    [ "$threads" = 1 ] && per_thread "$pid" >"$tmp/t0"
    sleep "$secs"
    c1=$(cpu_ticks "$pid"); s1=$(switches "$pid")
    [ "$threads" = 1 ] && per_thread "$pid" >"$tmp/t1"
    kill -TERM "$pid"; wait "$pid" || true; pid=
    awk -v c="$((c1 - c0))" -v s="$((s1 - s0))" -v t="$tck" -v w="$secs" \
        'BEGIN { printf "%.2f %.0f\n", 100 * c / t / w, s / w }'
}

echo "# idle.sh: CPU and wakeups of gale local PacedTopology"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (before)"
echo "window:  ${warmup} s warm-up, ${secs} s measured, ${repeat} run(s) per case; paced rate ${rate} tuples/s"
printf '%-40s %-8s %10s %12s\n' binary case "cpu %core" "wakeups/s"
for _ in $(seq 1 "$repeat"); do
    for b in "${bins[@]}"; do
        for c in idle idle100 paced; do
            r=0 opt=()
            [ "$c" = paced ] && r=$rate
            [ "$c" = idle100 ] && opt=(-c topology.spout.wait.max.micros=100000)
            read -r cpu wk < <(run "$b" "$r" "${opt[@]}")
            printf '%-40s %-8s %10s %12s\n' "$b" "$c" "$cpu" "$wk"
            echo "RESULT bin=$b case=$c cpu_pct=$cpu wakeups=$wk" >>"$tmp/results"
            if [ "$threads" = 1 ]; then
                join <(sort "$tmp/t0") <(sort "$tmp/t1") |
                    awk -v w="$secs" -v t="$tck" '{ printf "    %-16s %8.0f wakeups/s %6.2f %%core\n", $2, ($6 - $3) / w, 100 * ($7 - $4) / t / w }' |
                    sort -k2 -n -r | head -12
            fi
        done
        perf=$(dirname "$b")/../bench/bench_storm_perf
        if [ -x "$perf" ]; then
            line=$("$perf" --bench const_null_acked_10k --rate "$rate" --warmup "$warmup" --secs "$secs" | grep '^RESULT')
            # RESULT bench=... cpu=C ... p50_us=A p99_us=B p999_us=C ...: pick by key
            cpu=$(tr ' ' '\n' <<<"$line" | sed -n 's/^cpu=//p')
            lat=$(tr ' ' '\n' <<<"$line" | sed -n 's/^p50_us=//p; s/^p99_us=//p; s/^p999_us=//p' | tr '\n' ' ')
            cpu=$(awk -v c="$cpu" 'BEGIN { printf "%.2f", 100 * c }')
            printf '%-40s %-8s %10s %12s  complete latency p50/p99/p99.9 us: %s\n' "$b" perf "$cpu" - "$lat"
            read -r p50 p99 p999 <<<"$lat"
            echo "RESULT bin=$b case=perf cpu_pct=$cpu wakeups=- p50=$p50 p99=$p99 p999=$p999" >>"$tmp/results"
        fi
    done
done
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (after)"
if [ "$repeat" -gt 1 ]; then
    echo "## medians over $repeat runs"
    for b in "${bins[@]}"; do
        for c in idle idle100 paced perf; do
            awk -v b="bin=$b" -v c="case=$c" '
                function med(k,   i, j, t, n, a) {
                    n = cnt[k]; for (i = 1; i <= n; i++) a[i] = v[k, i]
                    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
                    return a[int((n + 1) / 2)]
                }
                $2 == b && $3 == c { for (i = 4; i <= NF; i++) { split($i, kv, "="); if (!(kv[1] in cnt)) keys[++nk] = kv[1]; v[kv[1], ++cnt[kv[1]]] = kv[2] } }
                END {
                    if (!nk) exit
                    line = sprintf("%-40s %-8s %10s %12s", substr(b, 5), substr(c, 6), med("cpu_pct"), med("wakeups"))
                    if ("p50" in cnt) line = line sprintf("  complete latency p50/p99/p99.9 us: %s %s %s", med("p50"), med("p99"), med("p999"))
                    print line
                }' "$tmp/results"
        done
    done
fi
