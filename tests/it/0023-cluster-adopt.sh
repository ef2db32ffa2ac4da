#!/usr/bin/env bash
# 0023 — a restarted supervisor adopts the workers still running, and
# stops a worker whose topology is killed.
#
# A stand-in worker (a process whose command line is `... worker
# --topology-id ID --port P`, as `gale worker`'s is, with its pid file in
# L/workers/ID-P/pid) runs while the supervisor is down. What must hold:
# the supervisor started again on the same local dir keeps its id, logs
# that it adopted that pid, does not start another worker on the slot and
# leaves the pid unchanged; `gale kill -w 0` makes it stop the worker
# (SIGTERM), so no process with the topology id on its command line is
# left.
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
wait_for 20 test -f "$TMP/s/local/workers/$id-$port/assignment" || fail "no assignment file"
sid=$(cat "$TMP/s/local/supervisor/id")

echo "check: the restarted supervisor adopts the running worker"
kill -KILL -- "-$SUP_PID"
wait "$SUP_PID" 2>/dev/null || true
# it re-reads its assignment on SIGHUP, as gale worker does: here it only
# ignores it, and says when it does (python can take a while to start)
setsid python3 -c 'import signal, sys, time
signal.signal(signal.SIGHUP, signal.SIG_IGN)
open(sys.argv[1], "w").close()
time.sleep(120)' "$TMP/standin.ready" worker --topology-id "$id" --port "$port" &
standin=$!
GROUPS_STARTED+=("$standin")
wait_for 30 test -f "$TMP/standin.ready" || fail "the stand-in worker did not start"
echo "$standin" >"$TMP/s/local/workers/$id-$port/pid"
log="$TMP/s/logs/supervisor.log"
mark=$(wc -l <"$log")
since() { tail -n +$((mark + 1)) "$log"; } # the restarted supervisor's lines
start_supervisor "$TMP/s" 127.0.0.1 "[$port]"
adopted() { since | grep -q "adopted running worker $id:$port (pid $standin)"; }
wait_for 20 adopted || fail "no adoption logged: $(since | tail -3)"
[[ $(cat "$TMP/s/local/supervisor/id") == "$sid" ]] || fail "the supervisor id changed"
fetched() { since | grep -q "assignments at version"; }
wait_for 20 fetched || fail "the restarted supervisor did not fetch its assignments"
sleep 2 # two heartbeats and monitor rounds: a wrong restart would show
since | grep -q "started worker $id:$port" && fail "it started another worker on an adopted slot: $(since)"
kill -0 "$standin" || fail "the adopted worker is gone"
[[ "$(worker_pids "$id")" == "$standin" ]] || fail "worker pids are '$(worker_pids "$id")', not $standin"

echo "check: kill stops the worker"
g kill word-count -w 0 >/dev/null || fail "kill failed"
gone() { [[ -z "$(worker_pids "$id")" ]]; }
wait_for 30 gone || fail "worker processes of $id are left: $(worker_pids "$id")"
since | grep -q "stopping worker $id:$port (pid $standin): no longer assigned" ||
    fail "the supervisor did not say why it stopped the worker"
echo "PASS"
