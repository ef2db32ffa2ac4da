#!/usr/bin/env bash
# 0024 — nimbus moves the work of a worker that stops heartbeating.
#
# A stand-in worker (command line `... worker --topology-id ID --port X`,
# adopted by a restarted supervisor as in 0023) never heartbeats, so the
# age its supervisor reports grows. With nimbus.task.timeout.secs=2 (and
# the supervisor's own worker timeout far away) what must hold: nimbus
# logs that the worker stopped heartbeating and assigns the executors to
# the supervisor's other slot Y (an assignment file for Y appears), and
# the supervisor stops the stand-in on X, which is no longer assigned.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

start_nimbus "$TMP/nimbus" -c nimbus.task.timeout.secs=2 -c nimbus.task.launch.secs=600
p1=$(free_port)
p2=$(free_port)
while [[ $p2 == "$p1" ]]; do p2=$(free_port); done
slow=(-c supervisor.worker.timeout.secs=600 -c supervisor.worker.start.timeout.secs=600)
start_supervisor "$TMP/s" 127.0.0.1 "[$p1, $p2]" "${slow[@]}"
id=$(g jar "$WC" WordCountTopology) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
assigned() { find "$TMP/s/local/workers" -path "*/$id-*/assignment" 2>/dev/null | sed -n 1p; }
has_assigned() { [[ -n $(assigned) ]]; }
wait_for 20 has_assigned || fail "no assignment file"
x=$(assigned)
x=${x%/assignment}
x=${x##*-}
y=$p1
[[ $x == "$p1" ]] && y=$p2

kill -KILL -- "-$SUP_PID"
wait "$SUP_PID" 2>/dev/null || true
for pid in $(worker_pids "$id"); do kill -KILL "$pid"; done # the real one, if it started
setsid python3 -c 'import signal, sys, time
signal.signal(signal.SIGHUP, signal.SIG_IGN)
open(sys.argv[1], "w").close()
time.sleep(120)' "$TMP/standin.ready" worker --topology-id "$id" --port "$x" -c "gale.local.dir=$TMP/" &
standin=$!
GROUPS_STARTED+=("$standin")
wait_for 30 test -f "$TMP/standin.ready" || fail "the stand-in worker did not start"
echo "$standin" >"$TMP/s/local/workers/$id-$x/pid"
start_supervisor "$TMP/s" 127.0.0.1 "[$p1, $p2]" "${slow[@]}"

echo "check: the silent worker's executors move from slot $x to slot $y"
wait_for 30 test -f "$TMP/s/local/workers/$id-$y/assignment" ||
    fail "no assignment for slot $y: $(tail -3 "$TMP/nimbus/logs/nimbus.log")"
grep -q "moving the executors of .*:$x: the worker stopped heartbeating" \
    "$TMP/nimbus/logs/nimbus.log" || fail "nimbus did not say why it moved them"
gone() { ! kill -0 "$standin" 2>/dev/null; }
wait_for 30 gone || fail "the worker on slot $x was not stopped"
echo "PASS"
