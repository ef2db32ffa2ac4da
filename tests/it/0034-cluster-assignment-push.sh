#!/usr/bin/env bash
# 0034 — nimbus pushes assignment changes: a supervisor that heartbeats
# only every 120 s still starts a submitted topology's workers and stops
# a killed one's without waiting for its next heartbeat.
#
# The supervisor joins (its first heartbeat), then `gale jar` submits
# WordCountTopology on 2 workers: both run within 30 s (a wait for the
# next heartbeat would take 120 s). `gale kill -w 0`: both are gone
# within 30 s too. `gale jar --wait` of a two-line file returns within 60 s:
# a supervisor reports a worker whose spouts finished at once.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

start_nimbus "$TMP/nimbus" -c nimbus.supervisor.timeout.secs=600
# the last -c wins: slow heartbeats
start_supervisor "$TMP/sup" 127.0.0.1 "[$(free_port), $(free_port)]" \
    -c supervisor.heartbeat.frequency.secs=120
wait_joined 1

echo "check: the workers of a submitted topology start before the next heartbeat"
id=$(g jar "$WC" WordCountTopology -c topology.workers=2) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_workers "$id" 2 30 || fail "the workers of $id did not start within 30 s: $(g list)"

echo "check: a killed topology's workers stop before the next heartbeat"
g kill word-count -w 0 >/dev/null || fail "kill refused"
none() { [[ -z $(worker_pids "$id") ]]; }
wait_for 30 none || fail "workers of $id still run 30 s after the kill: $(worker_pids "$id")"

echo "check: gale jar --wait hears its spouts are done before the next heartbeat"
printf 'the cow jumped over the moon\nan apple a day\n' >"$TMP/small.txt"
rc=0
timeout 60 "$GALE_BIN" jar -c "nimbus.port=$NIMBUS_PORT" "$WC" WordCountTopology "$TMP/small.txt" \
    "$TMP/sink" --wait >"$TMP/wait.out" 2>&1 || rc=$?
TOPOLOGY_IDS+=("$(head -n 1 "$TMP/wait.out")")
[[ $rc -eq 0 ]] || fail "jar --wait: exit $rc (124: it waited for the 120 s heartbeat): $(cat "$TMP/wait.out")"
echo "PASS"
