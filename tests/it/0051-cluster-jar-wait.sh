#!/usr/bin/env bash
# 0051 — `gale jar … --wait`, the bounded job, end to end: nimbus, one
# supervisor, WordCountTopology on 2 workers with the reliable file spout
# over a corpus of a few thousand lines and the file sink.
#
# What must hold:
#  - `gale jar --wait` returns 0 by itself once every line is acked, and
#    says so; the topology is then gone from `gale list`, no worker
#    process of it is left, and the sink holds every (line_no, word_idx)
#    of the corpus with tr's counts (corpus_lib.sh check_sink); the input
#    and sink are given relative to the directory `gale jar` runs in,
#    which is not the supervisor's (the starter makes them absolute);
#  - `gale jar --wait` on a topology that never ends, killed meanwhile
#    by someone else's `gale kill`, exits 1 with one line saying so.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
make_corpus 4000

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]"
joined() { grep -q "joined" "$TMP/nimbus/logs/nimbus.log"; }
wait_for 20 joined || fail "the supervisor did not join"

# jar_wait NAME ARGS...: `gale jar ARGS --wait` in its own process group,
# output in $TMP/NAME.out and .err; sets JAR (its pid) and ID (what it
# printed first)
jar_wait() {
    local name=$1
    shift
    setsid "$GALE_BIN" jar -c "nimbus.port=$NIMBUS_PORT" "$@" --wait >"$TMP/$name.out" 2>"$TMP/$name.err" &
    JAR=$!
    GROUPS_STARTED+=("$JAR")
    wait_for 20 test -s "$TMP/$name.out" || fail "gale jar printed no id: $(cat "$TMP/$name.err")"
    ID=$(head -n 1 "$TMP/$name.out")
    TOPOLOGY_IDS+=("$ID")
}
# jar_exit SECS: wait for $JAR to end by itself; its exit status in RC
jar_exit() {
    ended() { ! kill -0 "$JAR" 2>/dev/null; }
    wait_for "$1" ended || fail "gale jar --wait still runs after $1 s: $(g list)"
    RC=0
    wait "$JAR" || RC=$?
}
gone() { [[ -z "$(worker_pids "$1")" ]] && ! g list | grep -q -- " $1\$"; }

echo "check: gale jar --wait returns 0 once every line is acked, and the topology is gone"
cd "$TMP" || fail "cd $TMP" # relative paths: the workers run in the supervisor's directory, not here
jar_wait bounded "$WC" WordCountTopology corpus sink -c topology.workers=2
cd - >/dev/null || fail "cd back"
jar_exit 60
[[ $RC -eq 0 ]] || fail "gale jar --wait exited $RC: $(cat "$TMP/bounded.err")"
grep -q "$ID is done" "$TMP/bounded.err" || fail "gale jar --wait did not say it is done: $(cat "$TMP/bounded.err")"
wait_for 30 gone "$ID" || fail "after --wait: workers '$(worker_pids "$ID")', list: $(g list)"
# it may end before a look at the processes: the two workers' logs say they ran
ran=$(grep -l "running $ID" "$TMP"/a/logs/workers-artifacts/"$ID"/*/worker.log | wc -l)
[[ $ran -eq 2 ]] || fail "$ran worker(s) of $ID ran, not 2"
check_sink "$TMP/sink"

echo "check: gale jar --wait on a topology killed by someone else exits 1 and says so"
jar_wait killed "$WC" WordCountTopology -c topology.workers=2 # random sentences: never done
two() { [[ $(worker_pids "$ID" | wc -l) -eq 2 ]]; }
wait_for 30 two || fail "not 2 worker processes of $ID"
g kill word-count -w 0 >/dev/null || fail "kill refused"
jar_exit 30
[[ $RC -eq 1 ]] || fail "gale jar --wait exited $RC, not 1: $(cat "$TMP/killed.err")"
if [[ $(wc -l <"$TMP/killed.err") -ne 1 ]] || ! grep -q "gale jar --wait: $ID was killed" "$TMP/killed.err"; then
    fail "not one line saying it was killed: $(cat "$TMP/killed.err")"
fi
wait_for 30 gone "$ID" || fail "after the kill: workers '$(worker_pids "$ID")', list: $(g list)"

echo "check: gale jar --wait on a topology whose worker keeps crashing reports each restart, then gives up"
jar_wait crash "$GALE_BUILD/tests/topo_never_done.so" CrashLoop
jar_exit 90 # restarts at once, then after 1, 2, 4 and 8 s
[[ $RC -eq 1 ]] || fail "gale jar --wait exited $RC, not 1: $(cat "$TMP/crash.err")"
grep -qE "a worker of $ID restarted \([0-9]+ restart\(s\) so far\): see 'gale logs crash-loop'" "$TMP/crash.err" ||
    fail "no restart reported: $(cat "$TMP/crash.err")"
grep -q "gale jar --wait: $ID keeps crashing: stopped waiting, it is still running" "$TMP/crash.err" ||
    fail "did not give up with a clear line: $(cat "$TMP/crash.err")"
g list | grep -q " $ID\$" || fail "the crashing topology was removed: $(g list)"
g kill crash-loop -w 0 >/dev/null || fail "kill refused"
wait_for 30 gone "$ID" || fail "after the kill: workers '$(worker_pids "$ID")', list: $(g list)"
echo "PASS"
