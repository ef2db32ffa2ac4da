# shellcheck shell=bash
# cluster_lib.sh — helpers for the cluster scenario tests; source it after
# lib.sh. Daemons run each in its own process group (setsid) and are
# remembered in GROUPS_STARTED; the EXIT trap kills every one of them, and
# every `gale worker` whose command line names a topology this test
# submitted (add its id to TOPOLOGY_IDS; workers are in groups of their
# own, by design), then runs lib.sh's cleanup. Ports are free ones: nimbus
# binds port 0 and writes the port it got to <local dir>/nimbus.port.
#
# Daemons and the CLI:
#   start_nimbus DIR [PORT] [-c k=v]...     NIMBUS_PID, NIMBUS_PORT
#   start_supervisor DIR HOST PORTS [-c k=v]...   SUP_PID; DIR/logs joins LOG_DIRS
#                                           (the dirs where worker_log and co.
#                                           look: add yours if you start a
#                                           supervisor another way)
#   g VERB ARGS...                          the gale CLI at this test's nimbus
#   wait_joined N [SECS]                    N supervisors joined the running nimbus
#   free_port                               a TCP port nothing listens on
# Topologies and workers:
#   worker_pids ID                          pids of ID's `gale worker` processes
#   worker_port PID                         the slot port on PID's command line
#   worker_log PID                          the worker.log worker PID writes
#   worker_executors PID                    PID's "executors:" log line, e.g.
#                                           " count[1] spout[23] __acker[28]"
#   hosting PID COMPONENT                   true if worker PID runs an executor
#                                           of COMPONENT (__acker for ackers)
#   wait_workers ID N [SECS]                N workers of ID run and each has
#                                           logged its executors
#   jar_held N JAR ENTRY ARGS...            submit, held deactivated until its
#                                           N workers run; sets JAR_ID
#   listed ID FIELD                         a field of ID's `gale list` row:
#                                           status, workers, executors, done
#   wait_done ID [SECS]                     `gale list` says ID is done (its
#                                           finite spouts acked every tuple)
#   wait_gone ID [SECS]                     ID is not listed and none of its
#                                           workers is left
#   wait_for SECS CMD...                    poll CMD every 0.1 s until it succeeds

GROUPS_STARTED=()
TOPOLOGY_IDS=()
LOG_DIRS=()
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
# found by the topology id on their command line (as an operator would;
# pgrep: one process, where a loop over /proc forks per process).
worker_pids() {
    # and by this test's dir: two runs in the same second submit the same id
    pgrep -f -- " worker --topology-id $1 .*gale\.local\.dir=$TMP/" || true
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

# _listening DIR MARK: nimbus in DIR wrote its port and logged "listening
# on" after line MARK of its log
_listening() {
    [[ -s $1/local/nimbus.port ]] &&
        tail -n +$(($2 + 1)) "$1/logs/nimbus.log" 2>/dev/null | grep -q "listening on"
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
    # a restart appends to nimbus.log: wait for this nimbus's own
    # "listening on" (logged after the port file), so that wait_joined
    # counts the supervisors that joined it, not its predecessor
    local mark=0
    if [[ -f $dir/logs/nimbus.log ]]; then mark=$(wc -l <"$dir/logs/nimbus.log"); fi
    setsid "$GALE_BIN" nimbus -c "gale.local.dir=$dir/local" -c "gale.log.dir=$dir/logs" \
        -c "nimbus.port=$port" -c nimbus.monitor.freq.secs=1 "$@" >>"$dir/stdout" 2>&1 &
    NIMBUS_PID=$!
    NIMBUS_DIR=$dir
    GROUPS_STARTED+=("$NIMBUS_PID")
    wait_for 20 _listening "$dir" "$mark" || fail "nimbus did not start: $(tail -3 "$dir/stdout")"
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
    local d
    for d in "${LOG_DIRS[@]}"; do [[ $d == "$dir/logs" ]] && return 0; done
    LOG_DIRS+=("$dir/logs")
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

# wait_joined N [SECS]: N supervisors have joined (or come back to) the
# nimbus started last — counted in nimbus.log since its "listening on".
_joined() {
    [[ $(tac "$1" 2>/dev/null | sed '/listening on/q' | grep -cE "joined|is back") -ge $2 ]]
}
wait_joined() {
    local n=$1 secs=${2:-20}
    wait_for "$secs" _joined "$NIMBUS_DIR/logs/nimbus.log" "$n" ||
        fail "not $n supervisors joined nimbus: $(tail -3 "$NIMBUS_DIR/logs/nimbus.log")"
}

# worker_port PID: the --port of worker PID's command line.
worker_port() {
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | sed -E 's/.* --port ([0-9]+) .*/\1/'
}

# worker_log PID: the worker.log that worker PID writes (its lines carry
# worker[PID]; a restarted worker of the slot appends to the same file).
worker_log() {
    grep -rl --include=worker.log "worker\[$1\] worker starting:" "${LOG_DIRS[@]}" 2>/dev/null |
        head -n 1
    return 0 # grep's 1 (not found yet) is no failure
}

# worker_executors PID: what worker PID logged at start after "executors:"
# (each worker logs its executors once, as component[task] or
# component[first-last]); empty until it has.
worker_executors() {
    grep -rh --include=worker.log "worker\[$1\] worker executors:" "${LOG_DIRS[@]}" 2>/dev/null |
        sed -n '1s/.*executors://p'
    return 0
}

# hosting PID COMPONENT: worker PID runs an executor of COMPONENT.
hosting() {
    [[ " $(worker_executors "$1") " == *" $2["* ]]
}

# wait_workers ID N [SECS]: exactly N workers of ID run and each logged
# its executors (so hosting can tell them apart).
_workers_ready() {
    local p pids logged
    pids=$(worker_pids "$1")
    [[ $(grep -c . <<<"$pids") -eq $2 ]] || return 1
    # one grep for all (a poll must stay cheap on a loaded machine)
    logged=$(grep -rhoE --include=worker.log "worker\[[0-9]+\] worker executors:" \
        "${LOG_DIRS[@]/%//workers-artifacts/$1}" 2>/dev/null) || true
    for p in $pids; do [[ $logged == *"worker[$p] "* ]] || return 1; done
}
wait_workers() {
    local id=$1 n=$2 secs=${3:-30}
    wait_for "$secs" _workers_ready "$id" "$n" ||
        fail "not $n ready workers of $id: $(worker_pids "$id" | wc -l) running"
}

# jar_held WORKERS JAR ENTRY ARGS...: g jar JAR ENTRY ARGS (topology.workers
# given in ARGS), held deactivated until its WORKERS workers run and
# logged their executors, then activated: every worker is up before the
# spouts start, so a test's "mid-run" does not race the workers' start.
# Sets JAR_ID and adds it to TOPOLOGY_IDS.
jar_held() {
    local n=$1 name
    shift
    JAR_ID=$(g jar "$@") || fail "gale jar $* failed"
    TOPOLOGY_IDS+=("$JAR_ID")
    name=${JAR_ID%-*-*}
    g deactivate "$name" >/dev/null || fail "deactivate $name failed"
    wait_workers "$JAR_ID" "$n"
    g activate "$name" >/dev/null || fail "activate $name failed"
}

# listed ID FIELD: FIELD (status, workers, executors, done) of ID's row
# in `gale list` (empty when it is not listed or nimbus does not answer).
listed() {
    g list 2>/dev/null | awk -v id="$1" -v f="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) col[tolower($i)] = i; next }
        $NF == id { print $col[f] }'
}

# wait_done ID [SECS]: nimbus reports ID done: every worker hosting a
# spout says its finite spouts acked every tuple (`gale list`'s DONE).
_is_done() { [[ $(listed "$1" "done") == yes ]]; }
wait_done() {
    wait_for "${2:-60}" _is_done "$1" || fail "$1 is not done: $(g list 2>&1 | tail -1)"
}

# wait_gone ID [SECS]: ID is no longer listed and no worker of it runs.
_gone() { [[ -z $(worker_pids "$1") && -z $(listed "$1" status) ]]; }
wait_gone() {
    wait_for "${2:-30}" _gone "$1" ||
        fail "$1 is still there: workers '$(worker_pids "$1" | tr '\n' ' ')', list '$(g list 2>&1)'"
}
