# cluster_lib.sh — helpers for the cluster scenario tests; source it after
# lib.sh. Daemons run each in its own process group (setsid) and are
# remembered in GROUPS_STARTED; the EXIT trap kills every one of them, and
# every `gale worker` whose command line names a topology this test
# submitted (workers are in groups of their own, by design), then runs
# lib.sh's cleanup. Ports are free ones: nimbus binds port 0 and writes
# the port it got to <local dir>/nimbus.port.

GROUPS_STARTED=()
TOPOLOGY_IDS=()
cluster_cleanup() {
    local g id
    for g in "${GROUPS_STARTED[@]}"; do
        kill -KILL -- "-$g" 2>/dev/null || true
    done
    local pid
    for id in "${TOPOLOGY_IDS[@]}"; do
        for pid in $(worker_pids "$id"); do kill -KILL "$pid" 2>/dev/null || true; done
    done
    cleanup
}
trap 'cluster_cleanup' EXIT

# worker_pids ID: pids of the `gale worker` processes of topology ID,
# found by the topology id on their command line (as an operator would).
worker_pids() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q -- " worker --topology-id $1 " && echo "$pid"
    done
    return 0
}

# wait_for TIMEOUT_SECS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    local secs=$1
    shift
    local end=$((SECONDS + secs))
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.1
    done
}

# start_nimbus DIR [PORT] [-c k=v]...: sets NIMBUS_PID and NIMBUS_PORT
# (PORT: bind that port again, for a restart; default a free one).
start_nimbus() {
    local dir=$1 port=0
    shift
    if [[ $# -gt 0 && $1 != -* ]]; then
        port=$1
        shift
    fi
    mkdir -p "$dir"
    rm -f "$dir/local/nimbus.port"
    setsid "$GALE_BIN" nimbus -c "gale.local.dir=$dir/local" -c "gale.log.dir=$dir/logs" \
        -c "nimbus.port=$port" -c nimbus.monitor.freq.secs=1 "$@" >>"$dir/stdout" 2>&1 &
    NIMBUS_PID=$!
    GROUPS_STARTED+=("$NIMBUS_PID")
    wait_for 20 test -s "$dir/local/nimbus.port" || fail "nimbus did not start: $(tail -3 "$dir/stdout")"
    NIMBUS_PORT=$(cat "$dir/local/nimbus.port")
}

# start_supervisor DIR HOST PORTS [-c k=v]...: sets SUP_PID.
start_supervisor() {
    local dir=$1 host=$2 ports=$3
    shift 3
    mkdir -p "$dir"
    setsid "$GALE_BIN" supervisor -c "gale.local.dir=$dir/local" -c "gale.log.dir=$dir/logs" \
        -c "nimbus.port=$NIMBUS_PORT" -c "gale.local.hostname=$host" \
        -c "supervisor.slots.ports=$ports" -c supervisor.heartbeat.frequency.secs=1 \
        -c supervisor.monitor.frequency.secs=1 -c logviewer.port=0 "$@" >>"$dir/stdout" 2>&1 &
    SUP_PID=$!
    GROUPS_STARTED+=("$SUP_PID")
}

# g VERB ARGS...: the gale CLI pointed at this test's nimbus.
g() {
    local verb=$1
    shift
    "$GALE_BIN" "$verb" -c "nimbus.port=$NIMBUS_PORT" --timeout 10 "$@"
}

# free_port: a TCP port nothing listens on now (for slots).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
