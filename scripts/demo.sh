#!/usr/bin/env bash
# demo.sh — the README's first command: install what is missing, build Gale
# (Release, into build/), then storm-starter's walk-through on a real
# cluster on this machine: nimbus, one supervisor and the web UI (`gale
# ui`, its URL printed) on loopback (free ports, a fresh directory it
# names), WordCountTopology submitted with
# `gale jar` on 3 workers, `gale list`, the counts read with `gale logs`,
# `gale kill`, and the daemons stopped. Every command it runs is printed
# first (`+ gale jar ...`), so the real commands can be copied from it.
#
#   bash scripts/demo.sh [--no-build]            the cluster walk-through
#   bash scripts/demo.sh --local [--no-build] [ARGS...]
#                                                local mode, as before: ARGS
#                                                go to `gale local`
#
# --no-build uses the build as it is (no deps.sh, no cmake): the scenario
# test runs the demo that way. Environment: GALE_DEMO_SECS (how long the
# topology counts before the counts are shown; local mode: how long it
# runs; default 10 and 20), GALE_DEMO_DIR (the cluster's directory;
# default a new one under /tmp), GALE_DEMO_BUILD (the build directory;
# default build/). Safe to run again: the build directory is reused and
# every run gets its own cluster directory. The daemons and workers it
# started are stopped however it ends (an EXIT trap; Ctrl-C included).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LOCAL=false BUILD_IT=true
while [[ $# -gt 0 ]]; do
    case $1 in
    --local) LOCAL=true ;;
    --no-build) BUILD_IT=false ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        $LOCAL && break
        echo "demo: unknown argument '$1' (arguments go to gale local only with --local): see --help" >&2
        exit 2
        ;;
    esac
    shift
done
BUILD=${GALE_DEMO_BUILD:-build}

if $BUILD_IT; then
    bash scripts/deps.sh
    echo "demo: configuring and building $BUILD/ (Release)"
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGALE_TESTS=OFF
    cmake --build "$BUILD" -j2
fi
[[ -x $BUILD/bin/gale ]] || {
    echo "demo: no $BUILD/bin/gale: run it without --no-build first" >&2
    exit 1
}
WC=$BUILD/starter/word_count.so

if $LOCAL; then
    echo "demo: running WordCountTopology in local mode for ${GALE_DEMO_SECS:-20} s (Ctrl-C stops it early)"
    exec "$BUILD/bin/gale" local "$WC" WordCountTopology --local-ttl "${GALE_DEMO_SECS:-20}" "$@"
fi

# ---- the cluster walk-through -------------------------------------------
PATH=$(cd "$BUILD/bin" && pwd):$PATH
SECS=${GALE_DEMO_SECS:-10}
DIR=${GALE_DEMO_DIR:-$(mktemp -d /tmp/gale-demo.XXXXXX)}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
CONF=$DIR/gale.yaml
NIMBUS='' SUPERVISOR='' UI=''

say() { printf '\ndemo: %s\n' "$*"; }
# trace CMD...: print the command as it could be typed; show: and run it
trace() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
}
show() {
    trace "$@"
    "$@"
}
# until_ok SECS WHAT CMD...: poll CMD (quietly) until it succeeds
until_ok() {
    local secs=$1 what=$2 end=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= end)); then
            echo "demo: $what did not happen within $secs s; the logs are in $DIR/logs:" >&2
            tail -n 4 "$DIR"/logs/*.log >&2 2>/dev/null
            return 1
        fi
        sleep 0.2
    done
}
# the `gale worker` processes this demo's supervisor started
worker_pids() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- " worker --topology-id " || continue
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "gale.local.dir=$DIR/supervisor " && echo "$pid"
    done
    return 0
}
# alive PID: running (an exited child of this shell is a zombie until reaped)
alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [[ ${st:0:1} != Z ]]
}
# stop_pids PID...: SIGTERM, then SIGKILL what is still there after 5 s
stop_pids() {
    [[ $# -gt 0 ]] || return 0
    kill -TERM "$@" 2>/dev/null || true
    local end=$((SECONDS + 5)) p left
    while :; do
        left=()
        for p in "$@"; do alive "$p" && left+=("$p"); done
        [[ ${#left[@]} -eq 0 ]] && return 0
        ((SECONDS < end)) || break
        sleep 0.1
    done
    kill -KILL "${left[@]}" 2>/dev/null || true
}
# Whatever happens: the supervisor first (it would restart workers), then
# any worker still running (a stopped supervisor leaves them, by design),
# then nimbus.
finish() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    exec 1>&3 2>&4 # a signal may come while a command's output is redirected
    if [[ -n $SUPERVISOR$NIMBUS$UI ]]; then
        say "stopping the daemons (SIGTERM): ui ${UI:-} supervisor ${SUPERVISOR:-} nimbus ${NIMBUS:-}"
        [[ -n $UI ]] && stop_pids "$UI"
        [[ -n $SUPERVISOR ]] && stop_pids "$SUPERVISOR"
        # shellcheck disable=SC2046 # one pid per word
        stop_pids $(worker_pids)
        [[ -n $NIMBUS ]] && stop_pids "$NIMBUS"
        # shellcheck disable=SC2046 # what else runs in the background (a sleep)
        kill $(jobs -p) 2>/dev/null
        wait 2>/dev/null
        echo "demo: logs and state are in $DIR (remove it when done)"
    fi
    exit "$rc"
}
exec 3>&1 4>&2
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free loopback ports for nimbus, the log viewer, the UI and 4 slots (Storm's
# default count; 3 are used), below the kernel's ephemeral range so that
# no outgoing connection takes one between this look and the binds
read -r P_NIMBUS P_LOGS P_UI P1 P2 P3 P4 < <(python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
top = low if low > 11000 else 65536
ports = []
while len(ports) < 7:
    p = random.randrange(10000, top)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        if p not in ports: ports.append(p)
    except OSError:
        pass
    s.close()
print(*ports)')

say "a cluster on this machine in $DIR; the settings every command reads ($CONF):"
cat >"$CONF" <<EOF
nimbus.seeds: ["127.0.0.1"]
nimbus.port: $P_NIMBUS
gale.local.hostname: "127.0.0.1"
gale.log.dir: "$DIR/logs"
supervisor.slots.ports: [$P1, $P2, $P3, $P4]
logviewer.port: $P_LOGS
ui.port: $P_UI
# short timings, so that the demo does not wait on heartbeats
supervisor.heartbeat.frequency.secs: 1
supervisor.monitor.frequency.secs: 1
nimbus.monitor.freq.secs: 1
EOF
sed 's/^/    /' "$CONF"

say "start nimbus and a supervisor (in the background; each logs to $DIR/logs)"
trace gale nimbus --config "$CONF" -c gale.local.dir="$DIR/nimbus"
gale nimbus --config "$CONF" -c gale.local.dir="$DIR/nimbus" >"$DIR/nimbus.out" 2>&1 3>&- 4>&- &
NIMBUS=$!
trace gale supervisor --config "$CONF" -c gale.local.dir="$DIR/supervisor"
gale supervisor --config "$CONF" -c gale.local.dir="$DIR/supervisor" >"$DIR/supervisor.out" 2>&1 3>&- 4>&- &
SUPERVISOR=$!
until_ok 30 "nimbus answering" gale list --config "$CONF" --timeout 1
until_ok 30 "the supervisor joining nimbus" grep -q joined "$DIR/logs/nimbus.log"

say "start the web UI (gale ui: the pages, the REST API under /api/v1/ and /metrics)"
trace gale ui --config "$CONF" -c gale.local.dir="$DIR/ui"
gale ui --config "$CONF" -c gale.local.dir="$DIR/ui" >"$DIR/ui.out" 2>&1 3>&- 4>&- &
UI=$!
until_ok 30 "gale ui answering" curl -sf --max-time 2 "http://127.0.0.1:$P_UI/api/v1/cluster/summary"
echo "demo: the web UI is at http://127.0.0.1:$P_UI/ (open it while the demo runs;"
echo "      GALE_DEMO_SECS=300 gives you five minutes; Prometheus can scrape http://127.0.0.1:$P_UI/metrics)"

say "submit WordCountTopology on 3 workers; gale jar prints the topology id"
trace gale jar --config "$CONF" "$WC" WordCountTopology -c topology.workers=3
ID=$(gale jar --config "$CONF" "$WC" WordCountTopology -c topology.workers=3)
echo "$ID"
three() { [[ $(worker_pids | wc -l) -eq 3 ]]; }
until_ok 60 "3 worker processes running" three

say "the topology, its status and its workers"
show gale list --config "$CONF"

say "let it count for $SECS s, then the counter's latest lines from the 3 workers' logs"
sleep "$SECS" &
wait $! # (a signal interrupts wait at once, not a foreground sleep)
# shellcheck disable=SC2016 # $1 is the inner shell's
until_ok 30 "counts in the worker logs" \
    bash -c 'gale logs --config "$1" word-count -c count -n 1 | grep -q "top words"' _ "$CONF"
show gale logs --config "$CONF" word-count -c count -n 2

say "kill it: its spouts stop at once, the workers go after the 1 s wait"
show gale kill --config "$CONF" word-count -w 1
gone() { [[ -z $(worker_pids) ]] && gale list --config "$CONF" | grep -q "No topologies running"; }
until_ok 60 "the topology and its workers gone" gone
show gale list --config "$CONF"
