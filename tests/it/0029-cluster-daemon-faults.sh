#!/usr/bin/env bash
# 0029 — kill -9 a supervisor, then nimbus, mid-run: the work goes on and
# nothing is lost, read from the sink files (DESIGN §3 Failures).
#
# WordCountTopology with the reliable file spout over a 50 000-line
# corpus, on 3 workers over two supervisors (127.0.0.2 with 2 slots,
# 127.0.0.3 with 3). What must hold, once nimbus reports the spouts done,
# is the sink check of corpus_lib.sh, in each of two runs:
#  - supervisor A is killed with SIGKILL a tenth of the way through:
#    its orphaned workers exit by themselves after
#    supervisor.worker.timeout.secs (2 s on A), and after
#    nimbus.supervisor.timeout.secs (3 s) nimbus moves their work to B
#    (every assignment file there names only 127.0.0.3, 3 workers run on
#    B), saying so once per lost worker; what they held is replayed;
#  - supervisor B is killed with SIGKILL a tenth of the way through and
#    started again at once (within nimbus.supervisor.timeout.secs, 30 s
#    for this run, and its workers' supervisor.worker.timeout.secs, 30 s
#    on B): it adopts its
#    running workers; then nimbus is killed with SIGKILL: the
#    workers keep filling the sink while it is down; restarted on its
#    state dir it reassigns nothing (worker pids unchanged across both
#    restarts), reports the run done, and `gale list` and `gale kill`
#    work.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
make_corpus 50000
# as with the defaults (30 < 60), orphaned workers exit before nimbus
# moves their work: what they held is lost and must be replayed
NIMBUS_OPTS=(-c nimbus.supervisor.timeout.secs=3)
SUP_OPTS=(-c supervisor.worker.timeout.secs=2)
# B's workers wait longer for it: B is restarted, and a restart may
# take seconds on a loaded machine under a sanitizer
B_OPTS=(-c supervisor.worker.timeout.secs=30)
# paced (trees in flight bounded) so that mid-run lasts;
# replays come 2 s after a loss
TOPO=(-c topology.workers=3 -c topology.message.timeout.secs=2 -c topology.max.spout.pending=10)

start_nimbus "$TMP/nimbus" "${NIMBUS_OPTS[@]}"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]" "${SUP_OPTS[@]}"
SUP_A=$SUP_PID
B_PORTS="[$(free_port), $(free_port), $(free_port)]"
start_supervisor "$TMP/b" 127.0.0.3 "$B_PORTS" "${B_OPTS[@]}"
SUP_B=$SUP_PID
wait_joined 2

echo "check: supervisor A killed with SIGKILL: its workers move to B"
jar_held 3 "$WC" WordCountTopology "$TMP/corpus" "$TMP/sink1" "${TOPO[@]}"
id=$JAR_ID
wait_for 60 sink_holds 10 "$TMP/sink1" || fail "the sink did not fill a tenth"
orphans=$(for p in $(worker_pids "$id"); do
    [[ ! -d $TMP/a/local/workers/$id-$(worker_port "$p") ]] || echo "$p"
done)
[[ -n $orphans ]] || fail "no worker of $id runs on supervisor A"
kill -KILL -- "-$SUP_A"
sink_short "$TMP/sink1"
on_b() {
    local f n=0
    for f in "$TMP"/b/local/workers/"$id"-*/assignment; do
        [[ -f $f ]] || return 1
        grep -aq "127.0.0.2" "$f" && return 1
        n=$((n + 1))
    done
    ((n == 3))
}
wait_for 30 on_b || fail "the work of supervisor A did not move to B"
grep -q "supervisor .* has not heartbeated for" "$TMP/nimbus/logs/nimbus.log" ||
    fail "nimbus did not say that it lost supervisor A"
moves=$(grep -c "$id: moving the executors of" "$TMP/nimbus/logs/nimbus.log")
[[ $moves -eq $(echo "$orphans" | wc -w) ]] ||
    fail "nimbus logged $moves moves for $(echo "$orphans" | wc -w) lost worker(s): one line per worker"
orphans_gone() {
    local p
    for p in $orphans; do kill -0 "$p" 2>/dev/null && return 1; done
    return 0
}
wait_for 30 orphans_gone || fail "the orphaned workers of A did not exit: $orphans"
wait_done "$id" 90
check_sink "$TMP/sink1"
g kill word-count -w 1 >/dev/null || fail "kill failed"
wait_gone "$id"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]" "${SUP_OPTS[@]}"
wait_joined 3 # joined A, joined B, A is back

# The next run restarts B and nimbus on purpose: nimbus now waits
# longer for a supervisor, so a restart slowed by load is no loss
kill -TERM -- "-$NIMBUS_PID"
nimbus_gone() { ! kill -0 "$NIMBUS_PID" 2>/dev/null; }
wait_for 20 nimbus_gone || kill -KILL -- "-$NIMBUS_PID"
wait "$NIMBUS_PID" 2>/dev/null || true
NIMBUS_OPTS=(-c nimbus.supervisor.timeout.secs=30)
start_nimbus "$TMP/nimbus" "$NIMBUS_PORT" "${NIMBUS_OPTS[@]}"
wait_joined 2

echo "check: supervisor B killed with SIGKILL and restarted at once adopts its workers"
jar_held 3 "$WC" WordCountTopology "$TMP/corpus" "$TMP/sink2" "${TOPO[@]}"
id=$JAR_ID
wait_for 60 sink_holds 10 "$TMP/sink2" || fail "the sink did not fill a tenth"
pids=$(worker_pids "$id" | sort)
on_b=$(for p in $pids; do
    [[ ! -d $TMP/b/local/workers/$id-$(worker_port "$p") ]] || echo "$p"
done)
kill -KILL -- "-$SUP_B"
wait "$SUP_B" 2>/dev/null || true
sink_short "$TMP/sink2"
mark=$(wc -l <"$TMP/b/logs/supervisor.log")
start_supervisor "$TMP/b" 127.0.0.3 "$B_PORTS" "${B_OPTS[@]}"
adopted() {
    local p
    for p in $on_b; do
        tail -n +$((mark + 1)) "$TMP/b/logs/supervisor.log" | grep -q "adopted running worker $id:[0-9]* (pid $p)" ||
            return 1
    done
}
wait_for 20 adopted || fail "B did not adopt its workers $on_b: $(tail -n 3 "$TMP/b/logs/supervisor.log")"

echo "check: nimbus killed with SIGKILL: the workers go on; restarted, it moves nothing"
kill -KILL -- "-$NIMBUS_PID"
wait "$NIMBUS_PID" 2>/dev/null || true
sink_short "$TMP/sink2"
n0=$(wc -l <"$TMP/sink2")
grows() { (($(wc -l <"$TMP/sink2") > n0)); }
wait_for 20 grows || fail "the sink stopped growing without nimbus"
start_nimbus "$TMP/nimbus" "$NIMBUS_PORT" "${NIMBUS_OPTS[@]}"
wait_joined 2
wait_done "$id" 90
tac "$TMP/nimbus/logs/nimbus.log" | sed '/listening on/q' | grep "assigned" &&
    fail "the restarted nimbus reassigned the topology"
[[ "$(worker_pids "$id" | sort)" == "$pids" ]] ||
    fail "worker pids changed across the restarts: $(echo "$pids" | tr '\n' ' ')-> $(worker_pids "$id" | sort | tr '\n' ' ')"
check_sink "$TMP/sink2"
[[ $(listed "$id" status) == ACTIVE ]] || fail "list after the restart: $(g list)"
g kill word-count -w 1 >/dev/null || fail "kill after the restart failed"
wait_gone "$id"
echo "PASS"
