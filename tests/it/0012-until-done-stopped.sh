#!/usr/bin/env bash
# 0012 — `--until-done` stopped before done says so (exit 3).
#
# NeverDone (tests/it/topo_never_done.c) has a finite spout that is never
# done and whose trees never fail. What must hold: SIGINT or
# SIGTERM before done exits 3 (a stop by signal once exited 0, as if the
# input were finished) with a line saying how far it got (trees acked and
# pending); a TTL before done exits 3 with the same figures and, since
# nothing failed, does not send the reader to "failed counts"; and a run
# whose trees do fail says there were failures. Without --until-done a
# signal still exits 0.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
ND="$GALE_BUILD/tests/topo_never_done.so"

for sig in INT TERM; do
    echo "check: SIG$sig before done exits 3 with the progress"
    log="$TMP/log-$sig"
    setsid timeout 60 "$GALE_BIN" local "$ND" NeverDone --until-done >"$log" 2>&1 &
    PID=$!
    for _ in $(seq 1 400); do # poll until it runs
        grep -q "local mode: until done" "$log" && break
        sleep 0.05
    done
    grep -q "local mode: until done" "$log" || fail "SIG$sig: the topology never started"
    kill -"$sig" -- "-$PID"
    rc=0
    wait "$PID" || rc=$?
    PID=
    [[ $rc -eq 3 ]] || fail "SIG$sig: exit $rc, want 3 (last lines: $(tail -3 "$log"))"
    grep -qE "ERROR.*--until-done: stopped by SIG$sig before every spout was done: trees acked=[0-9]+ failed=0, [0-9]+ pending" \
        "$log" || fail "SIG$sig: no line with the progress: $(grep -v INFO "$log" | tail -3)"
    grep -q "failed counts" "$log" && fail "SIG$sig: mentions failed counts though nothing failed"
done

echo "check: the TTL before done, with nothing failed, does not blame failures"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$ND" NeverDone --until-done --local-ttl 2
[[ $RC -eq 3 ]] || fail "TTL: exit $RC, want 3"
grep -qE "stopped after --local-ttl 2 s before every spout was done: trees acked=[0-9]+ failed=0, " \
    "$TMP/err" || fail "TTL: no progress line: $(grep -v INFO "$TMP/err" | tail -3)"
grep -q "failed counts" "$TMP/err" && fail "TTL: mentions failed counts though nothing failed"

echo "check: with failures, the TTL line says so"
seq 1 20 | sed 's/^/w /' >"$TMP/in.txt"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/in.txt" /dev/full \
    --until-done --local-ttl 2
[[ $RC -eq 3 ]] || fail "TTL with failures: exit $RC, want 3"
grep -qE "trees acked=0 failed=[1-9][0-9]*, .*see the failed counts above" "$TMP/err" ||
    fail "TTL with failures: $(grep -v INFO "$TMP/err" | tail -3)"

echo "check: without --until-done a signal still exits 0"
setsid timeout 60 "$GALE_BIN" local "$WC" WordCountTopology --local-ttl 50 >"$TMP/log" 2>&1 &
PID=$!
for _ in $(seq 1 400); do
    grep -q "local mode: running" "$TMP/log" && break
    sleep 0.05
done
kill -INT -- "-$PID"
rc=0
wait "$PID" || rc=$?
PID=
[[ $rc -eq 0 ]] || fail "SIGINT without --until-done: exit $rc, want 0"
echo "PASS"
