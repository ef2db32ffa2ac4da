#!/usr/bin/env bash
# 0026 — `gale logs` reads a topology's worker logs through nimbus and the
# supervisors' log viewers: the last lines of each worker (prefixed with
# host:port as there are several), -c keeps one component's lines, -f
# prints a line written after it started, and an unknown name is one
# clear error with exit 1. Right after a nimbus restart, before the
# supervisor's heartbeat says where its log viewer is, each worker is
# named once (not once per executor), exit 1, and not as "no workers".
# The log viewer starts without a warning of
# libmicrohttpd's in supervisor.log.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]"
joined() { grep -q "joined" "$TMP/nimbus/logs/nimbus.log"; }
wait_for 20 joined || fail "the supervisor did not join"
echo "check: the log viewer started without a warning"
warn=$(grep -E ' (WARN|ERROR) supervisor\[[0-9]+\] logviewer ' "$TMP/a/logs/supervisor.log" || true)
[[ -z $warn ]] || fail "log viewer warnings at start: $warn"
id=$(g jar "$WC" WordCountTopology -c topology.workers=2) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
counting() { cat "$TMP"/a/logs/workers-artifacts/"$id"/*/worker.log 2>/dev/null | grep -q " count:"; }
wait_for 30 counting || fail "no counter lines in the worker logs"

echo "check: gale logs NAME -n 5 prints worker lines prefixed with host:port"
out=$(g logs word-count -n 5) || fail "gale logs failed: $out"
[[ $(grep -cE '^127\.0\.0\.2:[0-9]+ [0-9-]+T' <<<"$out") -ge 1 ]] || fail "no prefixed lines: $out"
(($(wc -l <<<"$out") <= 10)) || fail "more than 5 lines per worker: $out"

echo "check: -c count keeps only the counter's lines"
out=$(g logs word-count -c count -n 50) || fail "gale logs -c failed: $out"
[[ -n $out ]] || fail "no lines of count"
bad=$(awk '$5 !~ /^count(:|$)/' <<<"$out")
[[ -z $bad ]] || fail "lines of other components: $bad"

echo "check: -c with a component the topology does not have is an error naming the nearest"
rc=0
err=$(g logs word-count -c cuont -n 5 2>&1 >/dev/null) || rc=$?
[[ $rc -eq 1 ]] || fail "gale logs -c cuont exited $rc, not 1"
[[ $err == *"has no component 'cuont' (did you mean 'count'?)"* ]] || fail "unclear error: $err"

echo "check: -f prints a line written after it started"
setsid "$GALE_BIN" logs -c "nimbus.port=$NIMBUS_PORT" --timeout 10 word-count -f -n 0 >"$TMP/follow" 2>"$TMP/follow.err" &
FPID=$!
GROUPS_STARTED+=("$FPID")
log=$(ls "$TMP"/a/logs/workers-artifacts/"$id"/*/worker.log | head -1)
mark="gale-logs-follow-mark-$$"
# a line in the log format, appended while gale logs -f runs
for _ in 1 2 3; do
    echo "2026-12-01T00:00:00.000000Z INFO test[1] count:1 $mark" >>"$log"
    wait_for 10 grep -q "$mark" "$TMP/follow" && break
done
grep -q "$mark" "$TMP/follow" || fail "-f did not print the new line: $(cat "$TMP/follow.err")"
kill -TERM "$FPID"
wait "$FPID" || fail "gale logs -f did not exit 0 on SIGTERM"

echo "check: an unknown name is one clear error, exit 1"
set +e
err=$(g logs no-such-topology 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "unknown name: exit $rc"
[[ $(wc -l <<<"$err") -eq 1 && $err == *no-such-topology* ]] || fail "unknown name: $err"

echo "check: usage errors exit 2"
set +e
g logs word-count -n x >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "-n x: exit $rc"

echo "check: after a nimbus restart, a worker whose log viewer is not known yet is named once"
kill -STOP "$SUP_PID" # no heartbeat to the new nimbus until SIGCONT
kill -TERM -- "-$NIMBUS_PID"
wait "$NIMBUS_PID" 2>/dev/null || true
start_nimbus "$TMP/nimbus" "$NIMBUS_PORT"
set +e
err=$(g logs word-count -n 1 2>&1 >/dev/null)
rc=$?
set -e
kill -CONT "$SUP_PID"
[[ $rc -eq 1 ]] || fail "viewer not known yet: exit $rc"
[[ $(grep -c "has not reported its log viewer port yet" <<<"$err") -eq 2 && $err != *"no workers"* ]] ||
    fail "not one line per worker (2): $err"
g kill word-count -w 1 >/dev/null || fail "kill failed"

echo "check: a killed topology's logs are still read once nimbus has removed it"
list_empty() { g list 2>/dev/null | grep -q "No topologies running"; }
logs_after_kill() { g logs word-count -n 3 >"$TMP/after-kill" 2>"$TMP/after-kill.err"; }
wait_for 30 list_empty || fail "the killed topology was not removed: $(g list 2>&1)"
# the supervisor may not have told the restarted nimbus its log viewer yet
wait_for 30 logs_after_kill ||
    fail "gale logs of the removed topology: $(cat "$TMP/after-kill.err")"
[[ $(wc -l <"$TMP/after-kill") -ge 3 ]] || fail "no log lines after the kill: $(cat "$TMP/after-kill")"
grep -q "was killed" "$TMP/after-kill.err" || fail "no note that it was killed: $(cat "$TMP/after-kill.err")"

echo "check: gale logs -f of a removed topology prints its last lines and ends by itself"
rc=0
timeout 30 "$GALE_BIN" logs -c "nimbus.port=$NIMBUS_PORT" word-count -n 2 -f >"$TMP/f-after" \
    2>"$TMP/f-after.err" || rc=$?
[[ $rc -eq 0 ]] || fail "-f after the removal: exit $rc (124: it did not end), $(cat "$TMP/f-after.err")"
[[ -s $TMP/f-after ]] && grep -q "stopped following" "$TMP/f-after.err" ||
    fail "-f after the removal: '$(cat "$TMP/f-after")' / '$(cat "$TMP/f-after.err")'"
echo "PASS"
