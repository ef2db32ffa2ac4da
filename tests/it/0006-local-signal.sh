#!/usr/bin/env bash
# 0006 — `gale local` stops cleanly on SIGTERM and on SIGINT.
#
# WordCount runs with a long TTL; once it logs that it runs, the test sends
# the signal. What must hold: exit 0, the stop is logged with the signal's
# name, and every component logs its summary before "stopped", all well
# before the TTL. (That each lifecycle callback runs once per task, in
# order, is checked by 0008-sigterm-under-load.sh and test_lifecycle.)
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LIB="$GALE_BUILD/starter/word_count.so"

for sig in TERM INT; do
    echo "check: SIG$sig stops the run cleanly"
    log="$TMP/log-$sig"
    setsid timeout 60 "$GALE_BIN" local "$LIB" WordCountTopology --local-ttl 50 >"$log" 2>&1 &
    PID=$!
    # poll (with a deadline) until the topology runs
    for _ in $(seq 1 200); do
        grep -q "local mode: running" "$log" && break
        sleep 0.05
    done
    grep -q "local mode: running" "$log" || fail "SIG$sig: the topology never started"
    kill -"$sig" -- "-$PID" # the whole group: timeout forwards it too
    rc=0
    wait "$PID" || rc=$?
    PID=
    [[ $rc -eq 0 ]] || fail "SIG$sig: exit $rc, expected 0 (last lines: $(tail -3 "$log"))"
    grep -q "stopping (SIG$sig)" "$log" || fail "SIG$sig: no 'stopping (SIG$sig)' line"
    for comp in spout split count __acker; do
        grep -qE " $comp emitted=[0-9]+ " "$log" || fail "SIG$sig: no summary for '$comp'"
    done
    tail -n 1 "$log" | grep -q "stopped" || fail "SIG$sig: the last line is not 'stopped'"
done
echo "PASS"
