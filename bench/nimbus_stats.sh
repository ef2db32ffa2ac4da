#!/usr/bin/env bash
# nimbus_stats.sh — issue 10's nimbus benchmark (not a test): nimbus's CPU
# and memory while it ingests the stats of 20 topologies of 50 executors
# reporting every second. A real `gale nimbus` (temp dir, port 0) and
# bench_fake_supervisors (bench/fake_supervisors.c: --supervisors fake
# supervisors of --slots slots each, heartbeating every second with every
# assigned worker "running" and a stats blob like a worker's for each,
# as common/wstats.h encodes it), so nimbus does the real ingest without
# 1000 executor threads on a small machine. Three windows of --secs
# seconds, each after --warmup seconds:
#   1. idle:   the supervisors heartbeat, no topology (the baseline);
#   2. loaded: --topologies topologies (bench/topo/wide.c: 50 executors,
#              2 workers each) submitted with `gale jar`, every executor reporting;
#   3. ui:     as 2, plus `gale ui` asked once a second for
#              /api/v1/topology/summary and /api/v1/topology/<one id>
#              (each a stats request to nimbus).
# Per window: nimbus CPU (utime+stime from /proc/PID/stat over the window,
# in cores), VmRSS and VmHWM at its end, the fake supervisors' heartbeat
# round trips (mean, max), gale ui's CPU and the REST calls' time in 3;
# then the ratios loaded/idle and ui/idle.
#
#   bash bench/nimbus_stats.sh                      # 20 topologies, 5 s + 30 s windows
#   bash bench/nimbus_stats.sh --topologies 2 --warmup 2 --secs 5   # quick
#
# --topologies N   topologies submitted (default 20)
# --supervisors N  fake supervisors (default 10), --slots N slots each (default 5)
# --warmup S, --secs S   before and length of each window (default 5, 30)
# GALE_BUILD_DIR picks the build directory (default: build-rel; configured
# as Release when it is not); GALE_KEEP_TMP=1 keeps the temp dir (logs).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

build=${GALE_BUILD_DIR:-build-rel}
topos=20 sups=10 slots=5 warmup=5 secs=30
die() {
    echo "nimbus_stats.sh: $*" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help)
            bench_usage
            exit 0
            ;;
        --topologies | --supervisors | --slots | --warmup | --secs)
            [ $# -ge 2 ] || die "$1 needs a value"
            [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a whole number, not '$2'"
            case "$1" in
                --topologies) topos=$2 ;; --supervisors) sups=$2 ;; --slots) slots=$2 ;;
                --warmup) warmup=$2 ;; --secs) secs=$2 ;;
            esac
            shift 2
            ;;
        *) die "unknown option '$1' (--help lists them)" ;;
    esac
done
((secs >= 1 && sups >= 1 && slots >= 1)) || die "--secs, --supervisors and --slots need at least 1"
((sups * slots >= 2 * topos)) || die "$sups supervisors x $slots slots cannot hold $topos topologies of 2 workers"

bench_build "$build" gale bench_fake_supervisors
gale=$build/bin/gale
fake=$build/bench/bench_fake_supervisors

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gale-nimbus-stats.XXXXXX")
groups=()
cleanup() {
    local g
    for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${GALE_KEEP_TMP:-}" ]; then echo "kept $tmp (logs)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
until_ok() { # until_ok SECS CMD...: poll CMD every 0.1 s
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.1
    done
}
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime, after "(comm)"
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" "$tmp/status"; }

echo "# Gale: nimbus with many executors reporting stats (issue 10)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
dirty=$(git status --porcelain -- common nimbus ui cli bench include CMakeLists.txt 2>/dev/null | head -1)
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo none)${dirty:+ (+ uncommitted changes in the tree)}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min averages before the run)"
echo "options: --topologies $topos (50 executors, 2 workers each) --supervisors $sups --slots $slots --warmup $warmup --secs $secs"

so=$tmp/wide.so
cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -Iinclude -o "$so" bench/topo/wide.c
N=$tmp/nimbus
mkdir -p "$N"
setsid "$gale" nimbus -c "gale.local.dir=$N/local" -c "gale.log.dir=$N/logs" -c nimbus.port=0 \
    -c nimbus.monitor.freq.secs=1 >"$N/stdout" 2>&1 &
npid=$!
groups+=("$npid")
disown "$npid"
until_ok 20 test -s "$N/local/nimbus.port" || die "nimbus did not start: $(tail -3 "$N/stdout")"
nport=$(cat "$N/local/nimbus.port")
[ "$(cat "/proc/$npid/comm")" = gale ] || die "pid $npid is not nimbus"
setsid "$fake" --port "$nport" --supervisors "$sups" --slots "$slots" --status "$tmp/status" \
    >"$tmp/fake.out" 2>"$tmp/fake.err" &
fpid=$!
groups+=("$fpid")
disown "$fpid"
joined() { [ -s "$tmp/status" ] && [ "$(field joined)" = "$sups" ]; }
until_ok 20 joined || die "the fake supervisors did not join: $(tail -3 "$tmp/fake.err")"

upid=""
# measure NAME [QUERY]: one window; QUERY: ask gale ui once a second.
measure() {
    local name=$1 query=${2:-} i c0 c1 u0=0 u1=0 t0 t1 hbmax=0 hbsum=0 n=0 qsum=0 qmax=0 q2sum=0 q2max=0 q q2
    sleep "$warmup"
    c0=$(cpu_ticks "$npid")
    [ -z "$upid" ] || u0=$(cpu_ticks "$upid")
    t0=$(date +%s.%N)
    for ((i = 1; i <= secs; i++)); do
        if [ -n "$query" ]; then
            q=$(curl -sf -o /dev/null -w '%{time_total}' "$ui_url/api/v1/topology/summary") ||
                die "gale ui did not answer topology/summary"
            q2=$(curl -sf -o /dev/null -w '%{time_total}' "$ui_url/api/v1/topology/$one_id") ||
                die "gale ui did not answer topology/$one_id"
            qsum=$(awk -v a="$qsum" -v b="$q" 'BEGIN { print a + b * 1000 }')
            qmax=$(awk -v a="$qmax" -v b="$q" 'BEGIN { b *= 1000; print (b > a ? b : a) }')
            q2sum=$(awk -v a="$q2sum" -v b="$q2" 'BEGIN { print a + b * 1000 }')
            q2max=$(awk -v a="$q2max" -v b="$q2" 'BEGIN { b *= 1000; print (b > a ? b : a) }')
        fi
        sleep_to=$(awk -v t0="$t0" -v i="$i" -v now="$(date +%s.%N)" 'BEGIN { d = t0 + i - now; print (d > 0 ? d : 0) }')
        sleep "$sleep_to"
        hbmax=$(awk -v a="$hbmax" -v b="$(field hb_max_ms)" 'BEGIN { print (b > a ? b : a) }')
        hbsum=$(awk -v a="$hbsum" -v b="$(field hb_mean_ms)" 'BEGIN { print a + b }')
        n=$((n + 1))
    done
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$npid")
    [ -z "$upid" ] || u1=$(cpu_ticks "$upid")
    local line
    line=$(awk -v name="$name" -v c="$((c1 - c0))" -v u="$((u1 - u0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" \
        -v rss="$(kib "$npid" VmRSS)" -v hwm="$(kib "$npid" VmHWM)" -v hbmax="$hbmax" -v hbsum="$hbsum" -v n="$n" \
        -v execs="$(field executors)" -v workers="$(field workers)" -v bytes="$(field blob_bytes)" \
        -v errs="$(field errors)" -v qsum="$qsum" -v qmax="$qmax" -v q2sum="$q2sum" -v q2max="$q2max" -v ui="${upid:+1}" -v nq="${query:+$secs}" \
        'BEGIN {
            w = t1 - t0
            printf "RESULT bench=%s secs=%.1f nimbus_cores=%.4f rss_kib=%d hwm_kib=%d executors=%d workers=%d stats_bytes_per_s=%d hb_mean_ms=%.2f hb_max_ms=%.2f fake_errors=%d",
                name, w, c / hz / w, rss, hwm, execs, workers, bytes, hbsum / n, hbmax, errs
            if (ui) printf " ui_cores=%.4f", u / hz / w
            if (nq) printf " summary_mean_ms=%.1f summary_max_ms=%.1f topology_mean_ms=%.1f topology_max_ms=%.1f",
                qsum / nq, qmax, q2sum / nq, q2max
            printf "\n"
        }')
    echo "$line" | tee -a "$tmp/results"
}

echo
echo "== 1. idle: $sups supervisors heartbeating, no topology"
measure nimbus_idle

echo
echo "== 2. loaded: $topos topologies of 50 executors"
t_sub=$(date +%s.%N)
for ((i = 1; i <= topos; i++)); do
    "$gale" jar -c "nimbus.port=$nport" --timeout 30 "$so" WideTopology "wide-$i" 2 >>"$tmp/jar.out" 2>&1 ||
        die "gale jar of wide-$i failed: $(tail -3 "$tmp/jar.out")"
done
echo "submitted $topos topologies in $(awk -v a="$t_sub" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
want=$((topos * 50))
reporting() { [ "$(field executors)" = "$want" ]; }
until_ok 60 reporting || die "the fake supervisors report $(field executors) executors, not $want"
measure nimbus_loaded

echo
echo "== 3. loaded, with gale ui asked once a second"
U=$tmp/ui
mkdir -p "$U"
setsid "$gale" ui -c "gale.local.dir=$U/local" -c "gale.log.dir=$U/logs" -c "nimbus.port=$nport" \
    -c ui.port=0 >"$U/stdout" 2>&1 &
upid=$!
groups+=("$upid")
disown "$upid"
until_ok 20 test -s "$U/local/ui.port" || die "gale ui did not start: $(tail -3 "$U/stdout")"
ui_url="http://127.0.0.1:$(cat "$U/local/ui.port")"
one_id=$(grep -m1 '^wide-1-' "$tmp/jar.out") || die "gale jar did not print wide-1's id"
measure nimbus_loaded_ui query

echo
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (after the run)"
kill -TERM "$fpid" 2>/dev/null || true
until_ok 10 grep -qs RESULT "$tmp/fake.out" && grep RESULT "$tmp/fake.out"
echo
awk '
{ delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  b = f["bench"]; cores[b] = f["nimbus_cores"]; rss[b] = f["rss_kib"]; hwm[b] = f["hwm_kib"]
  hb[b] = f["hb_mean_ms"] "/" f["hb_max_ms"]; ex[b] = f["executors"]; by[b] = f["stats_bytes_per_s"]
  order[++n] = b
  if ("summary_mean_ms" in f) rest = sprintf("%s: gale ui %.4f cores; GET topology/summary %s ms mean, %s max; GET topology/<id> %s ms mean, %s max", b, f["ui_cores"], f["summary_mean_ms"], f["summary_max_ms"], f["topology_mean_ms"], f["topology_max_ms"]) }
END {
    printf "%-18s %9s %13s %9s %9s %11s %16s\n", "window", "executors", "nimbus cores", "RSS MiB", "HWM MiB", "stats KB/s", "heartbeat ms"
    for (i = 1; i <= n; i++) { b = order[i]
        printf "%-18s %9d %13.4f %9.1f %9.1f %11.1f %16s\n", b, ex[b], cores[b], rss[b] / 1024, hwm[b] / 1024, by[b] / 1000, hb[b] }
    print ""
    base = "nimbus_idle"
    for (i = 2; i <= n; i++) { b = order[i]
        printf "%s / idle: CPU %s (+%.4f cores), RSS %.2fx (+%.1f MiB)\n", b,
               (cores[base] > 0 ? sprintf("%.1fx", cores[b] / cores[base]) : "n/a (idle 0)"),
               cores[b] - cores[base], rss[b] / rss[base], (rss[b] - rss[base]) / 1024 }
    if (rest != "") print rest
    print ""
    print "nimbus cores = its utime+stime over the window / the window; heartbeat ms = mean/max round"
    print "trip of a fake supervisor heartbeat (nimbus ingests its workers'\'' stats before replying)."
}' "$tmp/results"
