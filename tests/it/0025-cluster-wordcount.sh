#!/usr/bin/env bash
# 0025 — WordCountTopology on a real cluster: nimbus and two supervisors
# advertising 127.0.0.2 and 127.0.0.3 (distinct local and log dirs).
#
# What must hold: with 3 workers asked, 3 `gale worker` processes run
# (found by the topology id on their command lines), on both supervisors,
# and their worker.log files show the counter's lines; `gale list` shows
# it ACTIVE on 3 workers; a worker killed with SIGKILL is started again
# by its supervisor in the same slot (a new pid, its restart logged);
# with nimbus killed (SIGKILL) the workers keep logging, and a nimbus
# restarted on its state dir changes no worker pid; `gale rebalance -n 2
# -e count=4` leaves 2 worker processes and 8 fewer executors (count had
# 12);
# after `gale kill NAME -w 1` no worker process of the topology is left,
# every slot's worker dir is gone and the list is empty.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]"
start_supervisor "$TMP/b" 127.0.0.3 "[$(free_port), $(free_port)]"
joined() { [[ $(grep -c "joined" "$TMP/nimbus/logs/nimbus.log") -ge 2 ]]; }
wait_for 20 joined || fail "both supervisors did not join"

echo "check: 3 workers on both supervisors"
id=$(g jar "$WC" WordCountTopology -c topology.workers=3) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
three() { [[ $(worker_pids "$id" | wc -l) -eq 3 ]]; }
wait_for 30 three || fail "not 3 worker processes: $(worker_pids "$id" | wc -l)"
for s in a b; do
    ls "$TMP/$s/logs/workers-artifacts/$id/" >/dev/null 2>&1 || fail "no worker on supervisor $s"
done
g list | grep -Eq "word-count +ACTIVE +[0-9a-z]+ +3 " || fail "list: $(g list)"
counting() { cat "$TMP"/*/logs/workers-artifacts/"$id"/*/worker.log 2>/dev/null | grep -q " count:"; }
wait_for 30 counting || fail "no counter lines in the worker logs"

echo "check: a worker killed with SIGKILL is restarted in its slot"
victim=$(worker_pids "$id" | sed -n 1p)
port=$(tr '\0' ' ' </proc/"$victim"/cmdline | sed -E 's/.* --port ([0-9]+) .*/\1/')
kill -KILL "$victim"
restarted() {
    local p
    for p in $(worker_pids "$id"); do
        [[ $p != "$victim" ]] && tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q -- "--port $port " && return 0
    done
    return 1
}
wait_for 30 restarted || fail "the worker on port $port was not restarted"
# the supervisor logs the start after the fork: the new pid may be seen first
logged_restart() { grep -q "started worker $id:$port as pid [0-9]* (restarts 1)" "$TMP"/*/logs/supervisor.log; }
wait_for 10 logged_restart || fail "the restart was not logged with its count"

echo "check: nimbus killed with SIGKILL: workers run on; restarted, it moves nothing"
pids=$(worker_pids "$id" | sort)
kill -KILL -- "-$NIMBUS_PID"
wait "$NIMBUS_PID" 2>/dev/null || true
lines() { cat "$TMP"/*/logs/workers-artifacts/"$id"/*/worker.log 2>/dev/null | wc -l; }
n0=$(lines)
grows() { (($(lines) > n0)); }
wait_for 20 grows || fail "the workers stopped logging without nimbus"
start_nimbus "$TMP/nimbus" "$NIMBUS_PORT"
back() { [[ $(tac "$TMP/nimbus/logs/nimbus.log" | sed '/listening on/q' | grep -c joined) -ge 2 ]]; }
wait_for 20 back || fail "the supervisors did not come back to the restarted nimbus"
sleep 2 # a wrong reassignment would restart a worker within a heartbeat or two
[[ "$(worker_pids "$id" | sort)" == "$pids" ]] || fail "worker pids changed across the nimbus restart: $pids -> $(worker_pids "$id" | sort | tr "\n" " "): $(grep -hE "started|stopping|exited|assignments" "$TMP"/*/logs/supervisor.log | tail -6)"
g list | grep -Eq "word-count +ACTIVE +[0-9a-z]+ +3 " || fail "list after the restart: $(g list)"

echo "check: rebalance -n 2 -e count=4 runs on 2 workers with the new executor count"
before=$(g list | awk 'NR == 2 { print $5 }')
g rebalance word-count -n 2 -e count=4 -w 1 >/dev/null || fail "rebalance refused"
rebalanced() {
    g list | awk -v b="$before" 'NR == 2 && $2 == "ACTIVE" && $4 == 2 && $5 == b - 8 { ok = 1 } END { exit !ok }' &&
        [[ $(worker_pids "$id" | wc -l) -eq 2 ]]
}
wait_for 40 rebalanced || fail "after rebalance: $(g list), $(worker_pids "$id" | wc -l) workers"

echo "check: kill -w 1 leaves no worker, no slot in use and an empty list"
g kill word-count -w 1 >/dev/null || fail "kill failed"
done_() {
    [[ -z "$(worker_pids "$id")" ]] && g list | grep -q "No topologies running" &&
        [[ -z "$(find "$TMP"/a/local/workers "$TMP"/b/local/workers -mindepth 1 -maxdepth 1 2>/dev/null)" ]]
}
wait_for 40 done_ || fail "after kill: workers '$(worker_pids "$id")', list '$(g list)'"
echo "PASS"
