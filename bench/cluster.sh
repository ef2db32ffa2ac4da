#!/usr/bin/env bash
# cluster.sh — issue 8's cluster benchmark in one command (not a test):
# builds Gale (Release) if needed, then
#  1. bench_cluster_perf: ConstSpoutNullBolt with the spout alone in
#     worker 1 and the bolt alone in worker 2 (two processes, ZeroMQ tcp on
#     loopback), unacked and acked, each followed by raw ZeroMQ PUSH/PULL
#     at the mean message size Gale sent in that run; checks that the
#     tuples sent over tcp equal the spout's emits;
#  2. a real `gale nimbus` and one `gale supervisor` on loopback (temp
#     dirs, free ports, timing keys at 1 s): `gale jar` of
#     bench/topo/const_null.c (ConstSpoutNullBolt, acked, 2 workers, spout
#     paced to --rate) to the first tuple its bolt executes, then kill -9
#     of the bolt's worker and of the spout's worker, each to the next
#     tuple the bolt executes; --rounds times;
# and prints a summary with the issue's floors and aims.
#
#   bash bench/cluster.sh                             # 5 s + 30 s per run, 3 rounds
#   bash bench/cluster.sh --warmup 1 --secs 3 --rounds 1   # quick (about 1 min)
#
# --warmup S, --secs S   warm-up and window of each throughput run (default 5, 30)
# --rounds N             jar / kill rounds (default 3)
# --rate N               the spout's tuples/s in part 2 (default 10000; 0 = full speed)
# --pending N, --acker-worker 1|2, --bench unacked|acked, -c key=value go to
#                        bench_cluster_perf (bench_cluster_perf --help says more).
# GALE_BUILD_DIR picks the build directory (default: build); GALE_KEEP_TMP=1
# keeps the temp dir with the daemons' and workers' logs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

build=${GALE_BUILD_DIR:-build}
perf=()
rounds=3
rate=10000
die() {
    echo "cluster.sh: $*" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help)
            bench_usage
            exit 0
            ;;
        --rounds | --rate)
            [ $# -ge 2 ] || die "$1 needs a value"
            [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a number, not '$2'"
            if [ "$1" = --rounds ]; then rounds=$2; else rate=$2; fi
            shift 2
            ;;
        --warmup | --secs | --pending | --acker-worker | --bench | -c)
            [ $# -ge 2 ] || die "$1 needs a value"
            perf+=("$1" "$2")
            shift 2
            ;;
        *) die "unknown option '$1' (--help lists them)" ;;
    esac
done
((rounds >= 1)) || die "--rounds needs at least 1"

bench_build "$build" gale bench_cluster_perf
gale=$build/bin/gale
[ -x "$gale" ] || gale=$(find "$build" -maxdepth 2 -name gale -type f -perm -u+x | head -1)
[ -x "$gale" ] || die "no gale binary in $build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gale-cluster-bench.XXXXXX")
out=$tmp/results
groups=()
ids=()
# Kill what this script started: the daemons' process groups, and the
# workers of the topologies it submitted (found by their command lines).
cleanup() {
    local g id f pid
    for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    for id in "${ids[@]}"; do
        for pid in $(worker_pids "$id"); do kill -KILL "$pid" 2>/dev/null || true; done
    done
    wait 2>/dev/null || true
    if [ -n "${GALE_KEEP_TMP:-}" ]; then echo "kept $tmp (daemon and worker logs)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
worker_pids() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q -- " worker --topology-id $1 " && echo "$pid"
    done
    return 0
}
# until_ok SECS CMD...: poll CMD every 20 ms until it succeeds (1 after SECS).
until_ok() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.02
    done
}
now_ns() { date +%s%N; }

echo "# Gale cluster benchmark (issue 8)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
dirty=$(git status --porcelain -- common topology worker nimbus supervisor cli include bench CMakeLists.txt 2>/dev/null | head -1)
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo none)${dirty:+ (+ uncommitted changes in the tree)}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min averages before the run)"
echo "options: ${perf[*]:-(defaults: --warmup 5 --secs 30)} --rounds $rounds --rate $rate"

echo
echo "## 1. Throughput between two worker processes (bench_cluster_perf)"
perf_rc=0
"$build/bench/bench_cluster_perf" "${perf[@]}" | tee -a "$out" || perf_rc=$?

echo
echo "## 2. gale jar to first tuple, worker kill -9 to processing again (real nimbus + supervisor)"
so=$tmp/const_null.so
cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -Iinclude -o "$so" bench/topo/const_null.c
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
N=$tmp/nimbus S=$tmp/sup
mkdir -p "$N" "$S"
timing=(-c nimbus.monitor.freq.secs=1 -c nimbus.supervisor.timeout.secs=10 -c nimbus.task.timeout.secs=10
    -c supervisor.heartbeat.frequency.secs=1 -c supervisor.monitor.frequency.secs=1
    -c worker.heartbeat.frequency.secs=1 -c supervisor.worker.timeout.secs=3)
echo "timing keys: ${timing[*]//-c /}"
setsid "$gale" nimbus -c "gale.local.dir=$N/local" -c "gale.log.dir=$N/logs" -c nimbus.port=0 \
    "${timing[@]}" >"$N/stdout" 2>&1 &
groups+=($!)
disown $! # no "Killed" report from bash when the trap ends it
until_ok 20 test -s "$N/local/nimbus.port" || die "nimbus did not start: $(tail -3 "$N/stdout")"
nport=$(cat "$N/local/nimbus.port")
setsid "$gale" supervisor -c "gale.local.dir=$S/local" -c "gale.log.dir=$S/logs" \
    -c "nimbus.port=$nport" -c gale.local.hostname=127.0.0.1 \
    -c "supervisor.slots.ports=[$(free_port), $(free_port)]" -c logviewer.port=0 \
    "${timing[@]}" >"$S/stdout" 2>&1 &
groups+=($!)
disown $!
g() { "$gale" "$1" -c "nimbus.port=$nport" --timeout 10 "${@:2}"; }
marker=$tmp/marker
# first_after T [NOT_PID]: "ns pid" of the first marker line after T (ns)
# whose pid is not NOT_PID; fails while there is none.
first_after() {
    awk -v t="$1" -v not="${2:-}" '$1 > t && $2 != not { print $1, $2; found = 1; exit }
        END { exit !found }' "$marker" 2>/dev/null
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
until_ok 20 grep -q "supervisor .* slot(s)" "$S/logs/supervisor.log" 2>/dev/null ||
    die "the supervisor did not start: $(tail -3 "$S/stdout")"
sleep 2 # one supervisor heartbeat, so nimbus knows the slots before the first jar
part2_rc=0
for ((r = 1; r <= rounds; r++)); do
    : >"$marker"
    t0=$(now_ns)
    id=$(g jar "$so" ConstNullTopology "$marker" "$rate") || { part2_rc=1; echo "round $r: gale jar failed"; break; }
    ids+=("$id")
    if ! until_ok 30 first_after "$t0" >/dev/null; then
        part2_rc=1
        echo "round $r: no tuple within 30 s of gale jar: $(tail -3 "$S/logs/supervisor.log")"
        break
    fi
    read -r t1 bolt_pid < <(first_after "$t0")
    jar_s=$(secs "$t0" "$t1")
    two() { [[ $(worker_pids "$id" | wc -l) -eq 2 ]]; }
    until_ok 20 two || { part2_rc=1; echo "round $r: not 2 workers"; break; }
    spout_pid=$(worker_pids "$id" | grep -vx "$bolt_pid" | head -1)
    sleep 1 # steady state before the kill

    tk=$(now_ns)
    kill -KILL "$bolt_pid"
    if ! until_ok 60 first_after "$tk" "$bolt_pid" >/dev/null; then
        part2_rc=1
        echo "round $r: the bolt's worker was not back within 60 s"
        break
    fi
    read -r t2 new_bolt < <(first_after "$tk" "$bolt_pid")
    kill_bolt_s=$(secs "$tk" "$t2")
    sleep 1

    tk=$(now_ns)
    kill -KILL "$spout_pid"
    # the surviving bolt resumes (or, had it moved, a new one starts)
    if ! until_ok 60 first_after "$tk" "$spout_pid" >/dev/null; then
        part2_rc=1
        echo "round $r: no tuple within 60 s of killing the spout's worker"
        break
    fi
    read -r t3 _ < <(first_after "$tk" "$spout_pid")
    kill_spout_s=$(secs "$tk" "$t3")

    g kill const-null -w 1 >/dev/null || true
    gone() { [[ -z "$(worker_pids "$id")" ]] && ! g list | grep -q const-null; }
    until_ok 30 gone || { part2_rc=1; echo "round $r: const-null still there after gale kill"; break; }
    acker=$(grep -l "summary __acker" "$S/logs/workers-artifacts/$id"/*/worker.log* 2>/dev/null | head -1)
    with=unknown
    [ -z "$acker" ] || { grep -q "summary spout" "$acker" && with=spout || with=bolt; }
    echo "round $r ($id): jar -> first tuple ${jar_s} s; kill -9 bolt's worker -> processing ${kill_bolt_s} s (new pid $new_bolt); kill -9 spout's worker -> processing ${kill_spout_s} s; acker was with the $with"
    {
        echo "RESULT bench=cluster_jar_first_tuple secs=$jar_s"
        echo "RESULT bench=cluster_kill_bolt_worker secs=$kill_bolt_s"
        echo "RESULT bench=cluster_kill_spout_worker secs=$kill_spout_s"
    } >>"$out"
done
[ $part2_rc -eq 0 ] || { echo "part 2 failed; nimbus and supervisor logs:"; tail -5 "$N/logs/nimbus.log" "$S/logs/supervisor.log"; }

echo
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (after the run)"
echo
echo "## Summary"
awk '
function num(x,   s, r) { # 12345678 -> 12,345,678
    s = sprintf("%.0f", x); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
}
/^RESULT / {
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    b = f["bench"]
    if (b ~ /^cluster_const/) { tput[b] = f["tput"]; mb[b] = f["mb_s"]; msgs[b] = f["msgs_s"]
        tpm[b] = f["tuples_per_msg"]; bpm[b] = f["bytes_per_msg"]; eq[b] = f["transferred_eq_emitted"]
        cpu[b] = f["cpu_w1"] "+" f["cpu_w2"]; nsp[b] = f["cpu_ns_per_tuple"]; oth[b] = f["others"] }
    else if (b ~ /^raw_zmq/) { rmsgs[b] = f["msgs_s"]; rmb[b] = f["mb_s"]; ratio[b] = f["gale_over_raw_bytes"]; roth[b] = f["others"] }
    else { n[b]++; s[b] = s[b] (n[b] > 1 ? " " : "") f["secs"]; if (!(b in mx) || f["secs"] + 0 > mx[b] + 0) mx[b] = f["secs"] }
}
END {
    printf "%-30s %11s %9s %8s %7s %7s %10s %6s %7s  %s\n", "run", "tuples/s", "msgs/s", "MB/s", "t/msg", "B/msg", "cores", "ns/t", "others", "sent==emitted"
    for (k = 0; k < 2; k++) {
        m = k ? "acked" : "unacked"; b = "cluster_const_null_" m; r = "raw_zmq_" m
        if (b in tput) printf "%-30s %11s %9s %8s %7s %7s %10s %6s %7s  %s\n", b, num(tput[b]), num(msgs[b]), mb[b], tpm[b], bpm[b], cpu[b], nsp[b], oth[b], (eq[b] == 1 ? "yes" : "NO")
        if (r in rmsgs) printf "%-30s %11s %9s %8s %7s %7s %10s %6s %7s  Gale/raw bytes/s = %s\n", r, "-", num(rmsgs[r]), rmb[r], "-", bpm[b], "", "", roth[r], ratio[r]
    }
    print ""
    print "cores = CPU of worker 1 + worker 2 over the window; ns/t = their CPU per tuple (ns);"
    print "others = CPU other processes took meanwhile"
    print "(2 cores in all). t/msg, B/msg = tuples and bytes per ZeroMQ message from worker 1 to 2."
    print ""
    split("cluster_jar_first_tuple cluster_kill_bolt_worker cluster_kill_spout_worker", L, " ")
    split("gale jar -> first tuple|kill -9 bolt worker -> processing|kill -9 spout worker -> processing", T, "|")
    for (i = 1; i <= 3; i++) if (L[i] in s) printf "%-38s %s s (worst %s s)\n", T[i], s[L[i]], mx[L[i]]
    print ""
    print "Floors and aims (issue 8):"
    if ("cluster_const_null_unacked" in tput) {
        t = tput["cluster_const_null_unacked"]
        printf "  unacked >= 2,000,000 tuples/s (floor): %s; aim 5,000,000: %s (%s)\n", (t >= 2e6 ? "MET" : "NOT MET"), (t >= 5e6 ? "MET" : "not met"), num(t)
    }
    if ("cluster_const_null_acked" in tput) {
        t = tput["cluster_const_null_acked"]
        printf "  acked   >= 1,000,000 tuples/s (floor): %s (%s)\n", (t >= 1e6 ? "MET" : "NOT MET"), num(t)
    }
    if ("cluster_jar_first_tuple" in mx) printf "  gale jar -> first tuple under 1 s (aim): %s (worst %s s)\n", (mx["cluster_jar_first_tuple"] < 1 ? "met" : "not met"), mx["cluster_jar_first_tuple"]
    if ("cluster_kill_bolt_worker" in mx) {
        w = mx["cluster_kill_bolt_worker"]; if (mx["cluster_kill_spout_worker"] + 0 > w + 0) w = mx["cluster_kill_spout_worker"]
        printf "  worker kill -9 -> processing under 3 s (aim): %s (worst %s s)\n", (w < 3 ? "met" : "not met"), w
    }
}' "$out"
[ "$perf_rc" -eq 0 ] && [ "$part2_rc" -eq 0 ]
