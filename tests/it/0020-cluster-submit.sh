#!/usr/bin/env bash
# 0020 — nimbus + one supervisor: submit, list, life cycle, refusals,
# recovery after a nimbus restart.
#
# What must hold: `gale jar` prints the topology id and `gale list` shows
# it ACTIVE; the supervisor fetches the code into stormdist/<id>/
# (topology, conf, code.so, resources/ with the --resources tree, a 5 MB
# file in it fetched in chunks that nimbus reads from its store once) and
# writes one assignment file
# per worker; a second submission of the same name, an unknown entry
# function and a file that is not a shared library are each refused with
# exit 1 and one line naming the problem; deactivate/activate change the
# status; a nimbus killed with SIGKILL and started again on the same
# state dir lists the same topology (same id, same status); `gale kill
# -w 1` empties the list; an unknown name is exit 1; a kill without -w
# says the wait nimbus chose (the topology's message timeout).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

start_nimbus "$TMP/nimbus" -c gale.log.level=debug
p1=$(free_port)
p2=$(free_port)
start_supervisor "$TMP/sup1" 127.0.0.1 "[$p1, $p2]"

echo "check: list is empty, then jar prints an id"
g list | grep -q "No topologies running" || fail "a fresh nimbus lists something"
mkdir -p "$TMP/res/data"
echo "a resource" >"$TMP/res/data/words.txt"
head -c 5000000 /dev/urandom >"$TMP/res/data/big.bin" # fetched in several chunks
id=$(g jar "$WC" WordCountTopology -c topology.workers=2 --resources "$TMP/res") || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
[[ $id =~ ^word-count-1-[0-9]+$ ]] || fail "topology id '$id' is not <name>-<counter>-<epoch>"
g list >"$TMP/list"
grep -Eq "^word-count +ACTIVE +[0-9]+s +[0-9]+ +[0-9]+ +[0-9]+ +no +$id$" "$TMP/list" ||
    fail "list does not show it ACTIVE: $(cat "$TMP/list")"

echo "check: the supervisor fetched the code and wrote the assignment files"
dist="$TMP/sup1/local/stormdist/$id"
wait_for 20 test -f "$dist/code.so" || fail "no $dist/code.so: $(tail -3 "$TMP/sup1/logs/supervisor.log")"
cmp -s "$dist/code.so" "$WC" || fail "the fetched code.so differs from the submitted library"
test -s "$dist/topology" && test -s "$dist/conf" && test -d "$dist/resources" ||
    fail "stormdist/$id lacks topology, conf or resources/"
cmp -s "$dist/resources/data/words.txt" "$TMP/res/data/words.txt" ||
    fail "the resources directory did not arrive in stormdist/$id/resources/"
cmp -s "$dist/resources/data/big.bin" "$TMP/res/data/big.bin" || fail "big.bin did not arrive whole"
reads=$(grep -c "code_fetch: read topologies/$id/resources " "$TMP/nimbus/logs/nimbus.log" || true)
[[ $reads -eq 1 ]] || fail "nimbus read the resources from its store $reads times for one fetch"
wait_for 20 test -f "$TMP/sup1/local/workers/$id-$p1/assignment" ||
    fail "no assignment file for slot $p1: $(tail -5 "$TMP/sup1/logs/supervisor.log"; tail -5 "$TMP/nimbus/logs/nimbus.log")"
wait_for 20 test -f "$TMP/sup1/local/workers/$id-$p2/assignment" ||
    fail "no assignment file for slot $p2 (2 workers asked, 2 slots): $(tail -5 "$TMP/sup1/logs/supervisor.log"; tail -5 "$TMP/nimbus/logs/nimbus.log")"
# the supervisor writes the assignment file, then forks, then logs the start
wait_for 20 grep -q "started worker $id:$p1" "$TMP/sup1/logs/supervisor.log" ||
    fail "the supervisor did not start a worker for slot $p1"

# expect_refused TITLE PATTERN ARGS...: exit 1, one stderr line matching PATTERN
expect_refused() {
    local title=$1 pattern=$2 rc=0
    shift 2
    echo "check: $title"
    g "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    [[ $rc -eq 1 ]] || fail "$title: exit $rc, expected 1 ($(cat "$TMP/err"))"
    [[ $(wc -l <"$TMP/err") -eq 1 ]] || fail "$title: expected one line, got: $(cat "$TMP/err")"
    grep -Eq "$pattern" "$TMP/err" || fail "$title: '$(cat "$TMP/err")' does not match /$pattern/"
}
expect_refused "a name already running" "named 'word-count' is already running" \
    jar "$WC" WordCountTopology
expect_refused "an unknown entry function" "entry function 'NoSuchEntry' not found" \
    jar "$WC" NoSuchEntry
echo "not a library" >"$TMP/text.so"
expect_refused "a file that is not a shared library" "not a loadable shared library" \
    jar "$TMP/text.so" WordCountTopology
expect_refused "kill of an unknown name" "no topology named 'nope'" kill nope
expect_refused "activate of an unknown name" "no topology named 'nope'" activate nope

echo "check: deactivate and activate"
g deactivate word-count >/dev/null || fail "deactivate failed"
g list | grep -q "INACTIVE" || fail "not INACTIVE after deactivate"
g activate word-count >/dev/null || fail "activate failed"
g list | grep -Eq "word-count +ACTIVE" || fail "not ACTIVE after activate"
g deactivate word-count >/dev/null

echo "check: a second nimbus on the same local dir (another port) is refused"
set +e
err=$(timeout 20 "$GALE_BIN" nimbus -c "gale.local.dir=$TMP/nimbus/local" -c "gale.log.dir=$TMP/n2" \
    -c nimbus.port=0 2>&1 >/dev/null)
rc=$?
set -e
[[ $rc -eq 1 && $err == *"is in use by another nimbus (pid $NIMBUS_PID)"* ]] ||
    fail "second nimbus: exit $rc, '$err'"

echo "check: a nimbus restarted after SIGKILL recovers the topology"
kill -KILL -- "-$NIMBUS_PID"
wait "$NIMBUS_PID" 2>/dev/null || true
start_nimbus "$TMP/nimbus" "$NIMBUS_PORT"
g list >"$TMP/list2" || fail "list after the restart failed"
grep -Eq "^word-count +INACTIVE .* $id$" "$TMP/list2" ||
    fail "the restarted nimbus lost the topology or its status: $(cat "$TMP/list2")"
# the log of the restarted nimbus only: from its last "listening on" line
since_restart() { tac "$TMP/nimbus/logs/nimbus.log" | sed '/listening on/q' | tac >"$TMP/after"; }
joined() { since_restart && grep -q "joined" "$TMP/after"; }
wait_for 20 joined || fail "the supervisor did not come back to the restarted nimbus"
sleep 2 # a reassignment would be logged within a monitor period or two
since_restart
grep -q "assigned" "$TMP/after" && fail "the restarted nimbus reassigned: $(cat "$TMP/after")"

echo "check: kill -w 3 shows it KILLED during the wait, then removes it"
g kill word-count -w 3 | grep -q "$id killed" || fail "kill did not name the topology"
# KILLED lasts the wait; the list may come after it on a loaded machine
# (the removal is the state after KILLED, never a state before it)
g list >"$TMP/list3"
grep -Eq "word-count +KILLED" "$TMP/list3" || grep -q "No topologies running" "$TMP/list3" ||
    fail "neither KILLED during the wait nor removed after it: $(cat "$TMP/list3")"
if grep -Eq "word-count +KILLED" "$TMP/list3"; then
    # a submission during the wait says when the name is free (or is taken: the wait is over)
    rc=0
    g jar "$WC" WordCountTopology >"$TMP/out" 2>"$TMP/err" || rc=$?
    if [[ $rc -eq 0 ]]; then
        TOPOLOGY_IDS+=("$(cat "$TMP/out")")
        g kill word-count -w 0 >/dev/null
    else
        grep -Eq "named 'word-count' is being killed \(its kill wait ends in [0-9]+ s\)" "$TMP/err" ||
            fail "a submission during the kill wait: $(cat "$TMP/err")"
    fi
fi
grep -q "$id: killed; removing it in 3 s" "$TMP/nimbus/logs/nimbus.log" ||
    fail "nimbus did not log the KILLED state: $(tail -5 "$TMP/nimbus/logs/nimbus.log")"
wait_for 20 sh -c "'$GALE_BIN' list -c nimbus.port=$NIMBUS_PORT | grep -q 'No topologies running'" ||
    fail "still listed after the kill wait"
id2=$(g jar -c topology.message.timeout.secs=7 "$WC" WordCountTopology) ||
    fail "the name is not free again after the kill"
TOPOLOGY_IDS+=("$id2")
[[ $id2 =~ ^word-count-[23]- ]] || fail "the counter did not survive the restart: '$id2'"

echo "check: kill without -w says the wait nimbus chose (the topology's message timeout)"
g kill word-count >/dev/null 2>"$TMP/kill_err" || fail "kill failed: $(cat "$TMP/kill_err")"
grep -q "kill: nimbus removes word-count and its workers in 7 s, once its tuples in flight can finish (its topology.message.timeout.secs" \
    "$TMP/kill_err" || fail "kill did not say the wait: $(cat "$TMP/kill_err")"
echo "PASS"
