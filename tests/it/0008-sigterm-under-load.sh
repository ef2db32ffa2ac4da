#!/usr/bin/env bash
# 0008 — SIGTERM under heavy load stops soon and cleanly; every lifecycle
# callback runs exactly once per task, in order.
#
# The Lifecycle topology (tests/it/topo_lifecycle.c) emits as fast as its
# bolts allow and logs each callback. Its entry starts a thread of its
# own, which must not receive the signal. Three stops: SIGTERM with
# acking, SIGTERM with acking off, and the TTL. What must hold: exit 0
# within a generous 30 s of the signal (the drain is capped at 10 s),
# "stopping (...)" and "stopped" logged, and for every task the sequence
# open activate deactivate close (spouts) or prepare cleanup (bolts).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LIB="$GALE_BUILD/tests/topo_lifecycle.so"

check_lifecycle() { # LOG WHAT
    local log=$1 what=$2 key want got
    # "<time> INFO gale-local[pid] source:3 lifecycle: open" -> "source:3 open"
    sed -n 's/^.* \([a-z]*:[0-9]*\) lifecycle: \([a-z]*\)$/\1 \2/p' "$log" >"$TMP/events"
    [[ -s "$TMP/events" ]] || fail "$what: no lifecycle lines"
    local tasks=0
    for key in $(cut -d' ' -f1 "$TMP/events" | sort -u); do
        got=$(awk -v k="$key" '$1 == k { printf "%s%s", sep, $2; sep = " " }' "$TMP/events")
        case "$key" in
            source:*) want="open activate deactivate close" ;;
            *) want="prepare cleanup" ;;
        esac
        [[ "$got" == "$want" ]] || fail "$what: $key ran '$got', expected '$want'"
        tasks=$((tasks + 1))
    done
    [[ $tasks -eq 7 ]] || fail "$what: lifecycle lines for $tasks tasks, expected 7"
}

run_signal() { # NAME ARGS...
    local name=$1 log="$TMP/log-$1" t0 t1 rc=0
    shift
    echo "check: $name"
    setsid timeout 90 "$GALE_BIN" local "$LIB" Lifecycle --local-ttl 80 "$@" >"$log" 2>&1 &
    PID=$!
    for _ in $(seq 1 400); do
        grep -q "local mode: running" "$log" && break
        sleep 0.05
    done
    grep -q "local mode: running" "$log" || fail "$name: the topology never started"
    sleep 1 # let the load build up (queues full)
    t0=$(date +%s)
    kill -TERM -- "-$PID"
    wait "$PID" || rc=$?
    PID=
    t1=$(date +%s)
    [[ $rc -eq 0 ]] || fail "$name: exit $rc, expected 0 (last lines: $(tail -3 "$log"))"
    (( t1 - t0 < 30 )) || fail "$name: took $((t1 - t0)) s after SIGTERM"
    grep -q "stopping (SIGTERM)" "$log" || fail "$name: no 'stopping (SIGTERM)' line"
    tail -n 1 "$log" | grep -q "stopped" || fail "$name: the last line is not 'stopped'"
    check_lifecycle "$log" "$name"
}

run_signal "SIGTERM under load, acking on"
run_signal "SIGTERM under load, acking off" -c topology.acker.executors=0

echo "check: a TTL stop"
run_bg 60 "$TMP/log-ttl" "$GALE_BIN" local "$LIB" Lifecycle --local-ttl 2
expect_ok "$TMP/log-ttl" "TTL stop"
check_lifecycle "$TMP/log-ttl" "TTL stop"
echo "PASS"
