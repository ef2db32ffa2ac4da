#!/usr/bin/env bash
# 0050 — `gale deactivate` stops spout emission in the workers and `gale
# activate` resumes it: nimbus, one supervisor, WordCountTopology on 2
# workers with the reliable file spout over a corpus too long to finish
# during the test (trees in flight bounded by topology.max.spout.pending)
# and the file sink.
#
# What must hold:
#  - after `gale deactivate` the sink stops growing: once it is stable
#    for a while it stays the same over a further while; `gale list` says
#    INACTIVE and both workers' logs name the deactivation;
#  - a worker started while the topology is INACTIVE (the supervisor
#    restarts one killed with SIGKILL) starts with its spouts deactivated;
#  - after `gale activate` the sink grows again and the logs say so;
#  - during `gale kill -w`'s wait (status KILLED) the spouts are
#    deactivated the same way; then the topology is gone with its workers.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
make_corpus 300000
SINK=$TMP/sink

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]"
joined() { grep -q "joined" "$TMP/nimbus/logs/nimbus.log"; }
wait_for 20 joined || fail "the supervisor did not join"

id=$(g jar "$WC" WordCountTopology "$TMP/corpus" "$SINK" -c topology.workers=2 \
    -c topology.max.spout.pending=2) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
two() { [[ $(worker_pids "$id" | wc -l) -eq 2 ]]; }
wait_for 30 two || fail "not 2 worker processes: $(worker_pids "$id" | wc -l)"
LOGS=$TMP/a/logs/workers-artifacts/$id

sink_size() { stat -c %s "$SINK" 2>/dev/null || echo 0; }
# grows_from N: the sink is larger than N bytes
grows_from() { (($(sink_size) > $1)); }
# settle QUIET_SECS: wait (at most 20 s) until the sink has not changed
# for QUIET_SECS; its size in SETTLED
settle() {
    local quiet=$1 end=$((SECONDS + 20)) last since now
    last=$(sink_size)
    since=$EPOCHREALTIME
    while ((SECONDS < end)); do
        sleep 0.1
        now=$(sink_size)
        if [[ $now != "$last" ]]; then
            last=$now
            since=$EPOCHREALTIME
        elif awk -v a="$since" -v b="$EPOCHREALTIME" -v q="$quiet" 'BEGIN { exit !(b - a >= q) }'; then
            SETTLED=$now
            return 0
        fi
    done
    return 1
}
# stays SIZE WHAT: the sink is still SIZE bytes after the spouts had a
# further while in which they would have emitted (polled, not slept on:
# it fails as soon as the sink grows)
stays() {
    local end=$((SECONDS + 2))
    while ((SECONDS < end)); do
        [[ $(sink_size) == "$1" ]] || fail "$2: the sink grew from $1 to $(sink_size) bytes"
        sleep 0.1
    done
}
logged() { cat "$LOGS"/*/worker.log 2>/dev/null | grep -c -- "$1"; }
# seen N TEXT: N lines of the workers' logs hold TEXT (polled: each worker
# logs when it handles its SIGHUP)
seen() { (($(logged "$2") >= $1)); }

wait_for 30 grows_from 0 || fail "nothing reached the sink"

echo "check: after gale deactivate the sink stops growing and the workers log it"
g deactivate word-count >/dev/null || fail "deactivate refused"
g list | grep -Eq "^word-count +INACTIVE " || fail "list after deactivate: $(g list)"
settle 1 || fail "the sink kept growing after deactivate ($(sink_size) bytes)"
(($(wc -l <"$SINK") < $(wc -l <"$TMP/expected_pairs") / 2)) ||
    fail "the sink stopped only with $(wc -l <"$SINK") of $(wc -l <"$TMP/expected_pairs") lines: the corpus ran out, deactivate did not stop the spouts (or make the corpus longer)"
stays "$SETTLED" "deactivated"
wait_for 10 seen 2 "is INACTIVE: deactivating its spouts here" ||
    fail "not both workers logged the deactivation: $(grep -h "INACTIVE" "$LOGS"/*/worker.log)"
logged "spout deactivated" >/dev/null || fail "no spout executor logged its deactivation"

echo "check: a worker restarted while INACTIVE starts with its spouts deactivated"
victim=$(worker_pids "$id" | sed -n 1p)
kill -KILL "$victim"
restarted() {
    [[ $(worker_pids "$id" | wc -l) -eq 2 ]] && ! worker_pids "$id" | grep -qx "$victim" &&
        seen 3 "running $id"
}
wait_for 30 restarted || fail "the killed worker was not restarted"
wait_for 10 seen 1 "is INACTIVE: its spouts here start deactivated" ||
    fail "the restarted worker did not start deactivated: $(grep -h "INACTIVE" "$LOGS"/*/worker.log)"
stays "$SETTLED" "a worker restarted while INACTIVE"

echo "check: after gale activate the sink grows again"
g activate word-count >/dev/null || fail "activate refused"
g list | grep -Eq "^word-count +ACTIVE " || fail "list after activate: $(g list)"
wait_for 30 grows_from "$SETTLED" || fail "the sink did not grow after activate"
wait_for 10 seen 2 "is ACTIVE: activating its spouts here" ||
    fail "not both workers logged the activation: $(grep -h "ACTIVE" "$LOGS"/*/worker.log)"

echo "check: during gale kill -w the spouts are deactivated, then the topology is gone"
g kill word-count -w 30 >/dev/null || fail "kill refused"
settle 1 || fail "the sink kept growing during the kill's wait ($(sink_size) bytes)"
stays "$SETTLED" "during the kill's wait"
g list | grep -Eq "^word-count +KILLED " ||
    fail "the sink settled only once the topology was removed: its spouts ran on during the kill's wait (or make -w longer)"
wait_for 10 seen 2 "is KILLED: deactivating its spouts here" ||
    fail "not both workers logged the kill's deactivation"
gone() { [[ -z "$(worker_pids "$id")" ]] && g list | grep -q "No topologies running"; }
wait_for 60 gone || fail "after kill: workers '$(worker_pids "$id")', list '$(g list)'"
echo "PASS"
