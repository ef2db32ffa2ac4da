#!/usr/bin/env bash
# 0031 — a worker killed with -9 and started again: its peer reconnects
# and carries on, and nothing is lost.
#
# Two `gale worker` processes run WordCountTopology (as in 0030) with a
# 3 s message timeout. Worker $P2 is killed with SIGKILL while tuples flow
# and started again on the same slot. What must hold: worker $P1 keeps
# running and logs each restarted peer (its windows towards the new
# process given back in full, not leaked with what the old one never
# credited); both workers report their spouts done; the sink holds every
# (line_no, word_idx) of the corpus with tr's counts — what was lost with
# the killed process was replayed through the acker's timeouts.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LINES=20000
# small queues, so credit windows are small (64 tuples): credits leaked
# with the killed process would stall the peer for good
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

# Three times, started again at once: credits worker $P1 sends into the
# dead process's connection are lost, and the new process must not wait
# for them (credits are cumulative per incarnation and sent again).
log1="$G/workers-artifacts/$ID/$P1/worker.log"
for round in 1 2 3; do
    echo "== round $round: kill -9 worker $P2 while tuples flow, start it again at once"
    { kill -KILL "$W2" && wait "$W2"; } 2>/dev/null || true
    echo "  sink had $(grep -c . "$TMP/sink") lines at the kill"
    worker "$P2"
    W2=$STARTED
    wait_for 30 "heartbeats of the new worker $P2" heartbeats_from "$P2" "$W2"
    # the new process's incarnation, as its log says, heard by worker $P1
    log2="$G/workers-artifacts/$ID/$P2/worker.log"
    started() { [[ $(grep -c "worker 1: incarnation" "$log2") -gt $round ]]; }
    inc() { grep -o "worker 1: incarnation [0-9a-f]*" "$log2" | tail -1 | grep -o "[0-9a-f]*$"; }
    wait_for 30 "the new worker's incarnation ($round)" started
    heard() { grep -q "worker 1 (incarnation $(inc)) .*: full windows" "$log1"; }
    wait_for 30 "worker $P1 hearing the new peer ($round)" heard
done

echo "== until the spouts of both workers report every line acked"
wait_for 150 "done from worker $P1" grep -qE "^heartbeat $ID $P1 $W1 done=1" "$TMP/sup.out"
wait_for 150 "done from worker $P2" grep -qE "^heartbeat $ID $P2 $W2 done=1" "$TMP/sup.out"
kill -0 "$W1" || fail "worker $P1 died"
check_sink "$TMP/sink"
dups=$(($(wc -l <"$TMP/sink") - $(sort -u "$TMP/sink" | wc -l)))
echo "  sink: $(wc -l <"$TMP/sink") lines ($dups duplicates from replays)"

kill -TERM "$W1" "$W2"
for w in "$W1" "$W2"; do
    rc=0
    wait "$w" || rc=$?
    [[ $rc -eq 0 ]] || fail "a worker exited $rc on SIGTERM"
done
grep -E " summary spout " "$log1" | sed 's/^.* summary /  '"$P1"': /' || true
echo "PASS"
