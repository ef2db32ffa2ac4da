#!/usr/bin/env bash
# 0007 — `gale local` ends even when user code never returns.
#
# A bolt stuck forever in execute, a spout stuck forever in open, and one
# stuck in next_tuple, each with --local-ttl 2: the run must end by itself within the bound
# (TTL 2 s + drain at most 10 s + grace 2 s = 14 s; asserted generously
# below 40 s), exit 4, and name the stuck component and task in a line
# ending "; exiting". While a stop waits, a second SIGTERM exits at once
# (128 + 15).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LIB="$GALE_BUILD/tests/topo_stuck.so"

check_stuck() { # ENTRY COMPONENT CALLBACK
    local log="$TMP/log-$1" t0 t1
    echo "check: $1 with --local-ttl 2 ends, exit 4, names '$2' stuck in $3"
    t0=$(date +%s)
    # -k: a run that ignores the TERM at 60 s is killed, so the test fails
    # rather than hangs
    RC=0
    setsid timeout -k 5 60 "$GALE_BIN" local "$LIB" "$1" --local-ttl 2 >"$log" 2>&1 &
    PID=$!
    wait "$PID" || RC=$?
    PID=
    t1=$(date +%s)
    [[ $RC -ne 124 && $RC -ne 137 ]] || fail "$1: still running after 60 s (last lines: $(tail -3 "$log"))"
    [[ $RC -eq 4 ]] || fail "$1: exit $RC, expected 4 (last lines: $(tail -3 "$log"))"
    (( t1 - t0 < 40 )) || fail "$1: took $((t1 - t0)) s to exit, expected well under 40 s"
    grep -qE "component '$2' task [0-9]+ is stuck in $3 \(for [0-9]+ s\); exiting" "$log" ||
        fail "$1: no line naming '$2' stuck in $3 (last lines: $(tail -3 "$log"))"
}

check_stuck StuckBolt stuck execute
check_stuck StuckOpen opener open
check_stuck StuckNext reader next_tuple

echo "check: a second SIGTERM while stopping exits at once"
log="$TMP/log-twice"
setsid timeout 60 "$GALE_BIN" local "$LIB" StuckBolt --local-ttl 50 >"$log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do
    grep -q "local mode: running" "$log" && break
    sleep 0.05
done
grep -q "local mode: running" "$log" || fail "the topology never started"
kill -TERM -- "-$PID"
for _ in $(seq 1 200); do
    grep -q "stopping (SIGTERM)" "$log" && break
    sleep 0.05
done
grep -q "stopping (SIGTERM)" "$log" || fail "the first SIGTERM did not start the stop"
# a repeat within a second counts as the same request (group + timeout(1))
sleep 1.5
t0=$(date +%s)
kill -TERM -- "-$PID"
rc=0
wait "$PID" || rc=$?
PID=
t1=$(date +%s)
[[ $rc -eq 143 ]] || fail "second SIGTERM: exit $rc, expected 143 (last lines: $(tail -3 "$log"))"
(( t1 - t0 < 5 )) || fail "second SIGTERM: took $((t1 - t0)) s, expected at once"
grep -q "SIGTERM while stopping: exiting at once" "$log" || fail "second SIGTERM: not logged"
echo "PASS"
