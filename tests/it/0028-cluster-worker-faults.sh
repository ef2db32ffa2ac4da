#!/usr/bin/env bash
# 0028 — kill -9 a worker mid-run: its supervisor restarts it and nothing
# is lost (DESIGN §3 Failures), read from the sink files.
#
# WordCountTopology with the reliable file spout over a 50 000-line
# corpus runs on 7 workers over two supervisors (127.0.0.2, 127.0.0.3)
# with one acker, so that the layout has workers hosting a spout, one
# hosting the acker (and bolts) and one hosting only bolts (found from
# the executors each worker logs at start). Three runs; in each, once a
# tenth of the words is in the sink, one worker is killed with
# SIGKILL, in turn: one hosting a spout (its restart reads the file
# again), the one hosting the acker (every tree in flight is lost), one
# hosting only bolts. What must hold: the supervisor starts the worker
# again on its slot (a new pid, "restarts 1" logged, the exit logged
# once although heartbeats from the dead pid keep coming) and, once nimbus
# reports the spouts done, the sink holds every (line_no, word_idx) of
# the corpus with tr's counts (corpus_lib.sh): what the killed process
# held was replayed after topology.message.timeout.secs (2 s).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
make_corpus 50000

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port), $(free_port), $(free_port)]"
start_supervisor "$TMP/b" 127.0.0.3 "[$(free_port), $(free_port), $(free_port), $(free_port)]"
wait_joined 2

# what the killed worker must host, and must not
is_spout() { hosting "$1" spout; }
is_acker() { hosting "$1" __acker && ! hosting "$1" spout; }
is_bolts() { ! hosting "$1" spout && ! hosting "$1" __acker; }

# run N WHAT PREDICATE: one run, killing a worker for which PREDICATE holds
run() {
    local n=$1 what=$2 pred=$3 sink="$TMP/sink$1" id victim="" port p
    echo "check: kill -9 the worker hosting $what"
    # paced (trees in flight bounded) so that mid-run lasts
    jar_held 7 "$WC" WordCountTopology "$TMP/corpus" "$sink" -c topology.workers=7 \
        -c topology.acker.executors=1 -c topology.message.timeout.secs=2 \
        -c topology.max.spout.pending=20
    id=$JAR_ID
    for p in $(worker_pids "$id"); do "$pred" "$p" && victim=$p && break; done
    [[ -n $victim ]] || fail "no worker hosts $what: $(for p in $(worker_pids "$id"); do worker_executors "$p"; done)"
    port=$(worker_port "$victim")
    wait_for 60 sink_holds 10 "$sink" || fail "the sink did not fill a tenth"
    kill -KILL "$victim"
    sink_short "$sink"
    # heartbeats the dead worker might have left queued, for 1.5 s: they
    # must not make its supervisor count (and log) the exit twice
    local sup=a
    [[ -d $TMP/a/local/workers/$id-$port ]] || sup=b
    "$GALE_BUILD/tests/prog_worker_fixture" heartbeat "$TMP/$sup/local" "$id" "$port" "$victim" 30 &
    local stale=$!
    restarted() {
        for p in $(worker_pids "$id"); do
            [[ $p != "$victim" && $(worker_port "$p") == "$port" ]] && return 0
        done
        return 1
    }
    wait_for 30 restarted || fail "the worker on port $port was not restarted"
    wait "$stale" || fail "the stale heartbeats were not sent"
    # the supervisor logs the start after the fork: the new pid may be seen first
    wait_for 10 grep -q "started worker $id:$port as pid [0-9]* (restarts 1)" "$TMP/$sup/logs/supervisor.log" ||
        fail "its supervisor did not log the restart as the first: $(grep "$id:$port" "$TMP/$sup/logs/supervisor.log")"
    [[ $(grep -c "worker $id:$port (pid $victim) exited" "$TMP/$sup/logs/supervisor.log") -eq 1 ]] ||
        fail "the exit was not logged once: $(grep "$id:$port" "$TMP/$sup/logs/supervisor.log")"
    wait_done "$id" 90
    check_sink "$sink"
    echo "  killed pid $victim ($(worker_executors "$victim")); $(wc -l <"$sink") sink lines at the end"
    g kill word-count -w 1 >/dev/null || fail "kill failed"
    wait_gone "$id"
}

run 1 "a spout" is_spout
run 2 "the acker" is_acker
run 3 "only bolts" is_bolts
echo "PASS"
