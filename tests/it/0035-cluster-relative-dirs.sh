#!/usr/bin/env bash
# 0035 — relative gale.local.dir and gale.log.dir (the defaults are) are
# taken against the directory a daemon starts in, once: nimbus's log says
# where its state is as an absolute path, a supervisor's workers get
# absolute dirs on their command lines (an operator reading `ps` sees
# where they write), and their logs land under the supervisor's start
# directory whatever the CLI's current directory is. A topology asking for
# more workers than there are free slots (3, the supervisor has 1) runs
# on what there is, and `gale jar` says so in one line.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

mkdir -p "$TMP/nimbus" "$TMP/sup" "$TMP/elsewhere"
(cd "$TMP/nimbus" && exec setsid "$GALE_BIN" nimbus -c gale.local.dir=local \
    -c gale.log.dir=logs -c nimbus.port=0 >stdout 2>&1) &
NIMBUS_PID=$!
NIMBUS_DIR=$TMP/nimbus
GROUPS_STARTED+=("$NIMBUS_PID")
wait_for 20 test -s "$TMP/nimbus/local/nimbus.port" || fail "nimbus did not start"
NIMBUS_PORT=$(cat "$TMP/nimbus/local/nimbus.port")

echo "check: nimbus names its state dir as an absolute path"
grep -q "state in $TMP/nimbus/local/nimbus," "$TMP/nimbus/logs/nimbus.log" ||
    fail "no absolute state dir: $(grep -m1 'state in' "$TMP/nimbus/logs/nimbus.log")"

(cd "$TMP/sup" && exec setsid "$GALE_BIN" supervisor -c gale.local.dir=local \
    -c gale.log.dir=logs -c "nimbus.port=$NIMBUS_PORT" -c gale.local.hostname=127.0.0.1 \
    -c "supervisor.slots.ports=[$(free_port)]" -c supervisor.heartbeat.frequency.secs=1 \
    -c logviewer.port=0 >stdout 2>&1) &
SUP_PID=$!
GROUPS_STARTED+=("$SUP_PID")
LOG_DIRS+=("$TMP/sup/logs")
wait_joined 1

echo "check: a worker's command line names absolute dirs, from the CLI run elsewhere"
cd "$TMP/elsewhere"
id=$(g jar "$WC" WordCountTopology -c topology.workers=3 2>"$TMP/jar.err") || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
grep -q "^gale jar: $id asked for 3 workers and runs on 1: the cluster has no more free slots" \
    "$TMP/jar.err" || fail "no note of the missing workers: $(cat "$TMP/jar.err")"
wait_workers "$id" 1 30
pid=$(worker_pids "$id")
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "gale.local.dir=$TMP/sup/local " ||
    fail "the worker's local dir is not absolute: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
[[ -s $TMP/sup/logs/workers-artifacts/$id/$(worker_port "$pid")/worker.log ]] ||
    fail "no worker.log under the supervisor's start dir"
[[ ! -e $TMP/elsewhere/logs && ! -e $TMP/elsewhere/gale-local ]] ||
    fail "something was written where the CLI runs: $(ls "$TMP/elsewhere")"
g kill word-count -w 0 >/dev/null || fail "kill refused"
echo "PASS"
