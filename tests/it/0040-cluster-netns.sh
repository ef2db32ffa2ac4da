#!/usr/bin/env bash
# 0040 — the two-supervisor cluster with each supervisor in its own
# network namespace (tests/it/netns_lib.sh): nimbus and the CLI in a hub
# namespace, the supervisors on veth pairs to its bridge, so every byte
# between daemons and between workers crosses a real link. Both hosts use
# Storm's default ports (slots 6700-6701, logviewer 8000): only the
# address tells them apart.
#
# What must hold: WordCountTopology (reliable file spout over a 50 000
# line corpus, file sink) on 3 workers has workers in both namespaces;
# every TCP listener in a supervisor's namespace is on the address it
# advertises (workers and log viewer bind gale.local.hostname, nothing
# binds a wildcard or loopback); once `gale list` says DONE the sink
# holds every (line_no, word_idx) of the corpus and tr's counts, and no
# worker was restarted though supervisor.worker.timeout.secs=1 is the
# heartbeat period itself; `gale logs` from the hub reads the log viewers
# of both hosts; after `gale kill -w 1` the list is empty, no worker is
# left and each supervisor namespace holds only its supervisor. Without
# `ip netns` it skips (77).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
# shellcheck source=tests/it/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

netns_setup a b
netns_nimbus "$TMP/nimbus"
quick=(-c supervisor.worker.timeout.secs=1)
netns_supervisor a "$TMP/a" "[6700, 6701]" "${quick[@]}"
SUP_A=$SUP_PID
netns_supervisor b "$TMP/b" "[6700, 6701]" "${quick[@]}"
SUP_B=$SUP_PID
joined() { [[ $(grep -c "joined" "$TMP/nimbus/logs/nimbus.log") -ge 2 ]]; }
wait_for 20 joined || fail "both supervisors did not join: $(tail -3 "$TMP"/*/logs/supervisor.log)"

make_corpus 50000
echo "check: 3 workers, in both namespaces"
id=$(g jar "$WC" WordCountTopology "$TMP/corpus" "$TMP/sink" -c topology.workers=3) ||
    fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
three() { [[ $(worker_pids "$id" | wc -l) -eq 3 ]]; }
wait_for 30 three || fail "not 3 worker processes: $(worker_pids "$id" | wc -l)"
[[ -n "$(netns_workers "$id" a)" && -n "$(netns_workers "$id" b)" ]] ||
    fail "workers: a '$(netns_workers "$id" a)', b '$(netns_workers "$id" b)' (want both)"

echo "check: every listener in a supervisor's namespace is on its address"
slots_bound() { (($(netns_listening "$1" | grep -c ":670[01]$") == $2)); }
for s in a b; do
    # the workers bind their slots, the supervisor its log viewer
    n=$(netns_workers "$id" "$s" | wc -l)
    wait_for 20 slots_bound "$s" "$n" || fail "$s: not $n slot listeners: $(netns_listening "$s")"
    other=$(netns_listening "$s" | grep -v "^${NETNS_ADDR[$s]}:" || true)
    [[ -z $other ]] || fail "$s: listeners not on ${NETNS_ADDR[$s]}: $other"
    netns_listening "$s" | grep -qx "${NETNS_ADDR[$s]}:8000" || fail "$s: no log viewer on :8000"
done

echo "check: once done, the sink holds every word of the corpus"
done_() { g list word-count | awk -v id="$id" '$NF == id && $(NF - 1) == "yes" { ok = 1 } END { exit !ok }'; }
wait_for 90 done_ || fail "not done: $(g list); $(wc -l <"$TMP/sink") sink lines"
check_sink "$TMP/sink"
echo "check: no worker was restarted (supervisor.worker.timeout.secs=1)"
restarts=$(grep -h "restarts [1-9]" "$TMP"/[ab]/logs/supervisor.log || true)
[[ -z $restarts ]] || fail "workers restarted: $restarts; $(grep -h "orphaned\|in time" "$TMP"/*/logs/supervisor.log "$TMP"/*/logs/workers-artifacts/*/*/worker.log | head -3)"

echo "check: gale logs in the hub reads both hosts' log viewers"
counted() { g logs word-count -n 1 -c count >"$TMP/logs.out" 2>&1 &&
    grep -q "^${NETNS_ADDR[a]}:670[01] .* count:" "$TMP/logs.out" &&
    grep -q "^${NETNS_ADDR[b]}:670[01] .* count:" "$TMP/logs.out"; }
wait_for 20 counted || fail "gale logs: $(head -5 "$TMP/logs.out")"

echo "check: kill -w 1 leaves no worker and an empty list"
g kill word-count -w 1 >/dev/null || fail "kill failed"
gone() {
    [[ -z "$(worker_pids "$id")" ]] && g list | grep -q "No topologies running" &&
        netns_holds_only a "$SUP_A" && netns_holds_only b "$SUP_B"
}
wait_for 30 gone || fail "after kill: workers '$(worker_pids "$id")', list '$(g list)'"
echo "PASS"
