#!/usr/bin/env bash
# 0023 — a restarted supervisor adopts the workers still running, and
# stops a worker whose topology is killed.
#
# The supervisor is killed with SIGKILL while its `gale worker` runs.
# What must hold: the supervisor started again on the same local dir
# keeps its id, logs that it adopted that worker's pid, does not start
# another worker on the slot, and the worker's pid is unchanged; `gale
# kill -w 0` makes it stop the worker, so no process with the topology id
# on its command line is left. A second supervisor started on the same
# local dir meanwhile is refused (exit 1, naming the first's pid) before
# it touches anything.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

start_nimbus "$TMP/nimbus"
port=$(free_port)
start_supervisor "$TMP/s" 127.0.0.1 "[$port]"
id=$(g jar "$WC" WordCountTopology) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
one() { [[ $(worker_pids "$id" | wc -l) -eq 1 ]]; }
wait_for 30 one || fail "the worker did not start"
pid=$(worker_pids "$id")
sid=$(cat "$TMP/s/local/supervisor/id")

echo "check: the restarted supervisor adopts the running worker (pid $pid)"
kill -KILL -- "-$SUP_PID"
wait "$SUP_PID" 2>/dev/null || true
log="$TMP/s/logs/supervisor.log"
mark=$(wc -l <"$log")
since() { tail -n +$((mark + 1)) "$log"; } # the restarted supervisor's lines
start_supervisor "$TMP/s" 127.0.0.1 "[$port]"
adopted() { since | grep -q "adopted running worker $id:$port (pid $pid)"; }
wait_for 20 adopted || fail "no adoption logged: $(since | tail -3)"
[[ $(cat "$TMP/s/local/supervisor/id") == "$sid" ]] || fail "the supervisor id changed"
fetched() { since | grep -q "assignments at version"; }
wait_for 20 fetched || fail "the restarted supervisor did not fetch its assignments"
sleep 2 # two heartbeats and monitor rounds: a wrong restart would show
since | grep -q "started worker $id:$port" && fail "it started another worker: $(since)"
[[ "$(worker_pids "$id")" == "$pid" ]] || fail "worker pids are '$(worker_pids "$id")', not $pid"

echo "check: a second supervisor on the same local dir is refused, touching nothing"
set +e
err=$(timeout 20 "$GALE_BIN" supervisor -c "gale.local.dir=$TMP/s/local" -c "gale.log.dir=$TMP/s2" \
    -c "nimbus.port=$NIMBUS_PORT" -c "supervisor.slots.ports=[$(free_port)]" -c logviewer.port=0 \
    2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 && $err == *"is in use by another supervisor (pid $SUP_PID)"* ]] ||
    fail "second supervisor: exit $rc, '$err'"
[[ ! -e $TMP/s2 ]] || fail "the refused supervisor opened its log dir"
[[ "$(worker_pids "$id")" == "$pid" ]] || fail "the worker changed: '$(worker_pids "$id")'"

echo "check: kill stops the worker"
g kill word-count -w 0 >/dev/null || fail "kill failed"
gone() { [[ -z "$(worker_pids "$id")" ]]; }
wait_for 30 gone || fail "worker processes of $id are left: $(worker_pids "$id")"
since | grep -q "stopping worker $id:$port (pid $pid): no longer assigned" ||
    fail "the supervisor did not say why it stopped the worker"
echo "PASS"
