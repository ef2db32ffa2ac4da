#!/usr/bin/env bash
# 0027 — WordCount's results on a real cluster, read from the sink files:
# nimbus and two supervisors advertising 127.0.0.2 and 127.0.0.3, the
# reliable file spout over a 50 000-line corpus, the file sink.
#
# What must hold, each time once nimbus reports the spouts done (every
# line acked): the set of (line_no, word_idx) pairs in the sink equals
# the corpus's and the counts from it equal tr's (corpus_lib.sh) —
#  - without faults, on 3 workers, run as a bounded job: `gale jar
#    --wait` returns 0 once the topology is done, and it is gone then;
#    no daemon or worker logged a warning or an error;
#  - across `gale rebalance -n 2` a tenth of the way: the workers
#    restart in their new layout (2 of them, both named by `gale list`),
#    and what was in flight is replayed;
#  - `gale kill -w 1` waits at least 1 s before nimbus removes it.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
make_corpus 50000
# replays come 2 s after a loss
TOPO=(-c topology.message.timeout.secs=2)

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]"
start_supervisor "$TMP/b" 127.0.0.3 "[$(free_port), $(free_port)]"
wait_joined 2

echo "check: without faults, gale jar --wait returns once every line is acked"
# Storm's 30 s timeout here: nothing is lost, so no tree may time out, but
# 50,000 lines unthrottled wait in queues longer than 2 s on a slow
# (sanitized, loaded) build, and their replays would warn
setsid "$GALE_BIN" jar -c "nimbus.port=$NIMBUS_PORT" "$WC" WordCountTopology "$TMP/corpus" \
    "$TMP/sink1" -c topology.workers=3 -c topology.message.timeout.secs=30 --wait \
    >"$TMP/jar.out" 2>"$TMP/jar.err" &
jar=$!
GROUPS_STARTED+=("$jar")
wait_for 20 test -s "$TMP/jar.out" || fail "gale jar printed no id: $(cat "$TMP/jar.err")"
id=$(head -n 1 "$TMP/jar.out")
TOPOLOGY_IDS+=("$id")
jar_ended() { ! kill -0 "$jar" 2>/dev/null; }
wait_for 90 jar_ended || fail "gale jar --wait still waits: $(g list)"
rc=0
wait "$jar" || rc=$?
[[ $rc -eq 0 ]] || fail "gale jar --wait exited $rc: $(cat "$TMP/jar.err")"
grep -q "$id is done" "$TMP/jar.err" || fail "gale jar --wait did not say it was done: $(cat "$TMP/jar.err")"
check_sink "$TMP/sink1"
wait_gone "$id"
echo "check: a run without faults logs no warning or error"
warned=$(grep -rh --include='*.log' -E "Z (WARN|ERROR) " "$TMP/nimbus/logs" "${LOG_DIRS[@]}" || true)
[[ -z $warned ]] || fail "warnings in a fault-free run: $(head -n 3 <<<"$warned")"

echo "check: across gale rebalance -n 2 mid-run"
# a paced run (trees in flight bounded), so that mid-run lasts
jar_held 3 "$WC" WordCountTopology "$TMP/corpus" "$TMP/sink2" -c topology.workers=3 "${TOPO[@]}" \
    -c topology.max.spout.pending=10
id=$JAR_ID
wait_for 60 sink_holds 10 "$TMP/sink2" || fail "the sink did not fill a tenth"
before=$(worker_pids "$id" | sort)
g rebalance word-count -n 2 -w 1 >/dev/null || fail "rebalance refused"
sink_short "$TMP/sink2"
# every worker restarts: the 3 executor groups become 2
rebalanced() {
    [[ $(listed "$id" status) == ACTIVE && $(listed "$id" workers) == 2 ]] &&
        [[ $(worker_pids "$id" | wc -l) -eq 2 ]] &&
        [[ -z $(comm -12 <(echo "$before") <(worker_pids "$id" | sort)) ]]
}
wait_for 40 rebalanced ||
    fail "not 2 new workers after the rebalance: $before -> $(worker_pids "$id" | tr '\n' ' '): $(g list)"
wait_done "$id" 90
check_sink "$TMP/sink2"
echo "  sink: $(wc -l <"$TMP/sink2") lines at the end"

echo "check: gale kill -w 1 removes it no sooner than 1 s after the kill"
g kill word-count -w 1 >/dev/null || fail "kill failed"
wait_gone "$id"
ms() { date -d "$(grep -m1 "$id: $1" "$TMP/nimbus/logs/nimbus.log" | cut -d' ' -f1)" +%s%3N; }
waited=$(($(ms removed) - $(ms "killed;")))
# two log timestamps cut to ms: a wait of 1000 ms can read 999
((waited >= 999)) || fail "nimbus removed it $waited ms after the kill"
echo "PASS"
