#!/usr/bin/env bash
# 0022 — nimbus and two supervisors advertising 127.0.0.2 and 127.0.0.3
# (distinct local dirs): placement, rebalance, a lost supervisor, kill.
#
# What must hold: WordCount asked for 3 workers gets slots on both
# supervisors (assignment files appear under both local dirs); `gale
# rebalance -n 2` changes the worker count `gale list` shows; after kill
# -9 of one supervisor, nimbus (nimbus.supervisor.timeout.secs=2) moves
# its executors to the other, whose assignment files then name only
# 127.0.0.3; `gale kill -w 1` empties the list and the supervisor drops
# the topology's worker dirs; no worker process of it is left (those of
# the lost supervisor exit by themselves, orphaned, after
# supervisor.worker.timeout.secs=3).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

start_nimbus "$TMP/nimbus" -c nimbus.supervisor.timeout.secs=2 -c nimbus.task.launch.secs=600
# workers of a lost supervisor exit by themselves after supervisor.worker.timeout.secs
orphan=(-c supervisor.worker.timeout.secs=3)
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]" "${orphan[@]}"
SUP_A=$SUP_PID
start_supervisor "$TMP/b" 127.0.0.3 "[$(free_port), $(free_port)]" "${orphan[@]}"

slots() { # slots DIR ID: how many worker dirs of ID hold an assignment
    find "$1/local/workers" -path "*/$2-*/assignment" 2>/dev/null | wc -l
}
joined() { [[ $(grep -c "joined" "$TMP/nimbus/logs/nimbus.log") -ge 2 ]]; }
wait_for 20 joined || fail "both supervisors did not join"

echo "check: 3 workers land on both supervisors"
id=$(g jar "$WC" WordCountTopology -c topology.workers=3) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
on_both() { (($(slots "$TMP/a" "$id") >= 1 && $(slots "$TMP/b" "$id") >= 1)) &&
    (($(slots "$TMP/a" "$id") + $(slots "$TMP/b" "$id") == 3)); }
wait_for 20 on_both || fail "not 3 slots over both supervisors: a=$(slots "$TMP/a" "$id") b=$(slots "$TMP/b" "$id")"
g list | grep -Eq "word-count +ACTIVE +[0-9a-z]+ +3 " || fail "list does not show 3 workers: $(g list)"

echo "check: rebalance -n 2"
g rebalance word-count -n 2 -w 1 | grep -q "rebalancing" || fail "rebalance refused"
g list | grep -q "REBALANCING" || fail "not REBALANCING during the wait"
two() { g list | grep -Eq "word-count +ACTIVE +[0-9a-z]+ +2 "; }
wait_for 20 two || fail "the worker count did not become 2: $(g list)"

echo "check: a supervisor killed with SIGKILL loses its work to the other"
kill -KILL -- "-$SUP_A"
only_b() {
    local f
    (($(slots "$TMP/b" "$id") == 2)) || return 1
    for f in "$TMP"/b/local/workers/"$id"-*/assignment; do
        grep -aq "127.0.0.2" "$f" && return 1
    done
    return 0
}
wait_for 30 only_b || fail "the work of the lost supervisor did not move: b=$(slots "$TMP/b" "$id")"
grep -q "stopped heartbeating" "$TMP/nimbus/logs/nimbus.log" ||
    fail "nimbus did not say why it moved the work"

echo "check: kill -w 1 removes the topology and its worker dirs"
g kill word-count -w 1 >/dev/null || fail "kill failed"
gone() { g list | grep -q "No topologies running" && (($(slots "$TMP/b" "$id") == 0)); }
wait_for 30 gone || fail "after kill: list '$(g list)', b=$(slots "$TMP/b" "$id") assignment files"
no_workers() { [[ -z "$(worker_pids "$id")" ]]; }
wait_for 30 no_workers || fail "worker processes of $id are left: $(worker_pids "$id")"
echo "PASS"
