#!/usr/bin/env bash
# 0033 — credits and batches lost on the way do not shrink a window.
#
# Two `gale worker` processes run WordCountTopology (as in 0030) with
# small credit windows (64 tuples) and a 3 s message timeout. While tuples
# flow, worker $P1 is told (assignment version 2, SIGHUP) that worker $P2
# moved to 127.0.0.9, where nothing listens: what worker $P1 sends there
# — batches, and the credits for the tuples worker $P2 keeps sending it —
# waits in ZeroMQ's queue for an address that never answers. Version 3
# moves it back, and zmq_disconnect drops that queue. The batches come
# back through the acker's timeouts; the credits must be sent again, and
# worker $P1 must write off the batches it dropped, or a window stays used
# up and a spout never completes. What must hold: both spouts report every
# line acked and the sink holds the corpus (check_sink).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LINES=20000
WORKER_YAML="topology.message.timeout.secs: 3
topology.executor.receive.buffer.size: 64"
# shellcheck source=tests/it/worker_lib.sh
source "$(dirname "$0")/worker_lib.sh"

echo "== two workers"
worker "$P1"
W1=$STARTED
worker "$P2"
W2=$STARTED
wait_for 30 "heartbeats of worker $P2" heartbeats_from "$P2" "$W2"
wait_for 30 "tuples in the sink" test -s "$TMP/sink"
log1="$G/workers-artifacts/$ID/$P1/worker.log"

echo "== worker $P1 is told worker $P2 moved to 127.0.0.9 (nothing listens there)"
"$FIX" reassign "$L" "$ID" "$P1" 2 "host:$P2:127.0.0.9" || fail "reassign"
kill -HUP "$W1"
wait_for 20 "the move to 127.0.0.9" grep -q "moved to tcp://127.0.0.9:$P2" "$log1"
# Not synchronisation: time for worker $P2 to use up its windows towards
# worker $P1 while $P1's credits queue for the dead address.
sleep 2

echo "== and back: what was queued is dropped"
"$FIX" reassign "$L" "$ID" "$P1" 3 "host:$P2:127.0.0.1" || fail "reassign back"
kill -HUP "$W1"
wait_for 20 "the move back" grep -q "moved to tcp://127.0.0.1:$P2" "$log1"

echo "== until the spouts of both workers report every line acked"
wait_for 100 "done from worker $P1" grep -qE "^heartbeat $ID $P1 $W1 done=1" "$TMP/sup.out"
wait_for 100 "done from worker $P2" grep -qE "^heartbeat $ID $P2 $W2 done=1" "$TMP/sup.out"
kill -0 "$W1" && kill -0 "$W2" || fail "a worker died"
check_sink "$TMP/sink"
kill -TERM "$W1" "$W2"
echo "PASS"
