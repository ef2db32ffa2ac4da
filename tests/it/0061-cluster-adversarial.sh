#!/usr/bin/env bash
# 0061 — what a careless operator or a hostile client does to a running
# cluster, and what must hold while a topology keeps running beside it.
#
# A topology of more executors than one control message can carry is
# refused at submit with one line naming the limit (accepted, it made
# every supervisor's assignment fetch and `gale list` fail, so no worker
# of any topology started and the CLI said "cannot reach nimbus"); a
# rebalance -e asking for as many is refused the same way; the code of a
# killed topology is removed from the supervisor's stormdist/ (it stayed
# there forever), while a running topology's code stays and its worker
# keeps its pid. A worker killed long after its assignment and restarted
# in place by its supervisor is not moved by nimbus while it starts again
# (it was reported as "never started", which nimbus judged against the
# assignment's age: moved at once, past nimbus.task.launch.secs).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
BIG="$GALE_BUILD/tests/topo_cluster_big.so"

start_nimbus "$TMP/nimbus" -c nimbus.task.launch.secs=5 -c nimbus.task.timeout.secs=30 \
    -c nimbus.supervisor.timeout.secs=5
start_supervisor "$TMP/sup" 127.0.0.1 "[$(free_port), $(free_port)]"
dist="$TMP/sup/local/stormdist"
id=$(g jar "$WC" WordCountTopology) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
has_worker() { [[ -n "$(worker_pids "$1")" ]]; }
wait_for 30 has_worker "$id" || fail "no worker of $id started"
pid=$(worker_pids "$id")

echo "check: a topology of too many executors is refused at submit"
rc=0
g jar "$BIG" TooManyExecutors >/dev/null 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] || fail "too many executors: exit $rc ($(cat "$TMP/err"))"
grep -q "70002 executors (ackers included), at most 16384" "$TMP/err" ||
    fail "too many executors: unclear refusal: $(cat "$TMP/err")"
g list >"$TMP/list" 2>&1 || fail "gale list fails after the refusal: $(cat "$TMP/list")"
grep -Eq "word-count +ACTIVE .* $id$" "$TMP/list" || fail "word-count is not ACTIVE: $(cat "$TMP/list")"
grep -q too-many "$TMP/list" && fail "the refused topology is listed"

echo "check: a rebalance -e to too many executors is refused"
big=$(g jar "$BIG" ManyTasks) || fail "gale jar ManyTasks failed"
TOPOLOGY_IDS+=("$big")
wait_for 30 test -f "$dist/$big/code.so" || fail "the supervisor did not fetch $big"
rc=0
g rebalance many-tasks -e printer=20000 -w 0 >/dev/null 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] || fail "rebalance to 20000 executors: exit $rc ($(cat "$TMP/err"))"
grep -q "would run 20002 executors: a topology runs at most 16384" "$TMP/err" ||
    fail "rebalance to too many executors: unclear refusal: $(cat "$TMP/err")"

echo "check: a killed topology's code leaves stormdist/, a running one's stays"
g kill many-tasks -w 1 >/dev/null || fail "gale kill many-tasks failed"
wait_for 30 test ! -e "$dist/$big" || fail "$dist/$big is still there after the kill"
test -f "$dist/$id/code.so" || fail "the running topology's code was removed"
[[ "$(worker_pids "$id")" == "$pid" ]] || fail "word-count's worker changed (was $pid)"

echo "check: a worker restarted in place is not moved while it starts again"
older_than_launch() { g list | grep -Eq "^word-count +ACTIVE +([6-9]|[1-9][0-9]+)s|m"; }
wait_for 30 older_than_launch || fail "word-count never got older than nimbus.task.launch.secs"
code="$dist/$id/code.so"
cp "$code" "$TMP/code.so"
head -c 4096 /dev/urandom >"$TMP/bad.so"
mv "$TMP/bad.so" "$code" # a new file: the running worker keeps its mapping
kill -KILL "$pid"
restarts() { [[ $(grep -c "started worker $id:.*(restarts [1-9]" "$TMP/sup/logs/supervisor.log") -ge $1 ]]; }
wait_for 30 restarts 3 || fail "the supervisor did not restart the worker 3 times"
cp "$TMP/code.so" "$code.new" && mv "$code.new" "$code"
# "worker running" from a process other than the one killed (one of the
# failing restarts may already load the restored file)
back() { grep "worker running $id " "$TMP/sup/logs/workers-artifacts/$id/"*/worker.log | grep -vq "worker\[$pid\]"; }
wait_for 30 back || fail "the worker did not run again once its code was back"
grep "moving the executors" "$TMP/nimbus/logs/nimbus.log" | grep -q "$id" &&
    fail "nimbus moved the restarting worker: $(grep "moving the executors" "$TMP/nimbus/logs/nimbus.log")"
g list | grep -Eq "word-count +ACTIVE .* $id$" || fail "word-count is not ACTIVE at the end"
echo "PASS"
