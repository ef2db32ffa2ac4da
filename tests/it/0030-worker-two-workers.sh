#!/usr/bin/env bash
# 0030 — two `gale worker` processes run one topology over tcp, without
# nimbus or a supervisor.
#
# A test program (prog_worker_fixture) writes what a supervisor would:
# the stormdist files of WordCountTopology (reliable file spout, file
# sink) and the assignment files of two slots on loopback ports, and then
# plays a fake supervisor answering heartbeats. What must hold:
#  - both workers heartbeat, and both report their spouts done (every
#    line acked) by themselves;
#  - the sink holds every (line_no, word_idx) of the corpus and the word
#    counts equal tr's — the split and sink executors of both workers took
#    part, so tuples crossed between the processes both ways;
#  - garbage on a worker's data port (raw bytes, and bad ZeroMQ messages
#    of every kind) crashes nothing and loses nothing;
#  - SIGHUP after the assignment moved a peer reconnects to it (and the
#    run carries on); SIGHUP after a regrouping stops the worker with 22;
#  - SIGTERM stops each worker with exit 0 after closing every component,
#    and removes its pid file;
#  - a worker whose supervisor dies exits by itself with code 20 after
#    supervisor.worker.timeout.secs.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/worker_lib.sh
source "$(dirname "$0")/worker_lib.sh"

echo "== bad command lines and bad files are refused with one line"
rc=0
"$GALE_BIN" worker --topology-id "$ID" --port 0 --supervisor-id sup-1 >"$TMP/bad.out" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "--port 0: exit $rc, expected 2"
rc=0
"$GALE_BIN" worker --topology-id ../x --port "$P1" --supervisor-id sup-1 >"$TMP/bad.out" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "--topology-id ../x: exit $rc, expected 2"
rc=0
"$GALE_BIN" worker --topology-id nope-1-1 --port "$P1" --supervisor-id sup-1 \
    --config "$TMP/gale.yaml" >"$TMP/bad.out" 2>&1 || rc=$?
[[ $rc -eq 21 ]] || fail "unknown topology: exit $rc, expected 21"
grep -q "assignment" "$G/workers-artifacts/nope-1-1/$P1/worker.log" ||
    fail "unknown topology: the log does not say what is missing"
cp "$L/workers/$ID-$P1/assignment" "$TMP/assignment.good"
head -c 20 "$TMP/assignment.good" >"$L/workers/$ID-$P1/assignment"
rc=0
"$GALE_BIN" worker --topology-id "$ID" --port "$P1" --supervisor-id sup-1 \
    --config "$TMP/gale.yaml" >"$TMP/bad.out" 2>&1 || rc=$?
[[ $rc -eq 21 ]] || fail "truncated assignment: exit $rc, expected 21"
grep -q "is not valid" "$G/workers-artifacts/$ID/$P1/worker.log" ||
    fail "truncated assignment: no clear line in the log"
cp "$TMP/assignment.good" "$L/workers/$ID-$P1/assignment"
: >"$G/workers-artifacts/$ID/$P1/worker.log"

echo "== two workers"
worker "$P2"
W2=$STARTED
worker "$P1"
W1=$STARTED
wait_for 30 "heartbeats of worker $P1" heartbeats_from "$P1" "$W1"
wait_for 30 "heartbeats of worker $P2" heartbeats_from "$P2" "$W2"
for p in "$P1" "$P2"; do
    [[ -s "$L/workers/$ID-$p/pid" ]] || fail "worker $p wrote no pid file"
    [[ -s "$G/workers-artifacts/$ID/$p/worker.log" ]] || fail "worker $p has no worker.log"
done
[[ "$(cat "$L/workers/$ID-$P1/pid")" == "$W1" ]] || fail "pid file of $P1 holds another pid"

echo "== garbage on the data port of worker $P2"
# the fixture's first (rejections are logged ten at a time: its 5-frame message is checked below)
[[ -n "${NO_GARBAGE:-}" ]] || "$FIX" garbage "tcp://127.0.0.1:$P2" >"$TMP/garbage.out" 2>&1 || fail "garbage sender failed"
printf 'GET / HTTP/1.1\r\n\r\n\xff\x00\x01garbage' >"/dev/tcp/127.0.0.1/$P2" || true
head -c 4096 /dev/urandom >"/dev/tcp/127.0.0.1/$P2" || true

echo "== until the spouts of both workers report every line acked"
wait_for ${DONE_SECS:-100} "done from worker $P1" grep -qE "^heartbeat $ID $P1 $W1 done=1" "$TMP/sup.out"
wait_for ${DONE_SECS:-100} "done from worker $P2" grep -qE "^heartbeat $ID $P2 $W2 done=1" "$TMP/sup.out"
kill -0 "$W1" && kill -0 "$W2" || fail "a worker died"
log2="$G/workers-artifacts/$ID/$P2/worker.log"
grep -q "message rejected\|rejected\|ignored\|dropped" "$log2" ||
    fail "worker $P2 did not log the garbage it got"
# [header, batch, junk, junk, junk] is refused whole, not read by its last frame
[[ -n "${NO_GARBAGE:-}" ]] || grep -q "message of 5 frames ignored" "$log2" ||
    fail "worker $P2 did not refuse the 5-frame message"

check_sink "$TMP/sink"

# after the run: zmq_disconnect drops what was queued for the old address
# (a moved peer is a new process, whose hello gives those credits back)
echo "== SIGHUP: a peer moved (worker $P2 now advertised as localhost)"
"$FIX" reassign "$L" "$ID" "$P1" 2 "host:$P2:localhost" || fail "reassign"
kill -HUP "$W1"
log1="$G/workers-artifacts/$ID/$P1/worker.log"
wait_for 20 "the SIGHUP reconnect" grep -q "SIGHUP: assignment version 2, 1 peer(s) moved" "$log1"
wait_for 20 "the heartbeat with version 2" \
    grep -qE "^heartbeat $ID $P1 $W1 .*version=2" "$TMP/sup.out"


echo "== SIGTERM stops both cleanly"
kill -TERM "$W1" "$W2"
for w in "$W1:$P1" "$W2:$P2"; do
    pid=${w%%:*} port=${w##*:}
    rc=0
    wait "$pid" || rc=$?
    log="$G/workers-artifacts/$ID/$port/worker.log"
    [[ $rc -eq 0 ]] || fail "worker $port exited $rc on SIGTERM (log: $(tail -3 "$log"))"
    grep -q "SIGTERM received: stopping" "$log" || fail "worker $port: no SIGTERM line"
    grep -q "every component closed and cleaned up" "$log" || fail "worker $port: no cleanup line"
    grep -q "exit 0 (clean stop)" "$log" || fail "worker $port: no clean exit line"
    [[ ! -e "$L/workers/$ID-$port/pid" ]] || fail "worker $port left its pid file"
done
echo "  $(grep -c . "$TMP/sink") sink lines; summaries:"
for p in "$P1" "$P2"; do
    log="$G/workers-artifacts/$ID/$p/worker.log"
    grep -E " summary " "$log" | sed "s/^.* summary /  $p: /" || true
    grep -qE " summary spout .*failed\(timeout\)=0 " "$log" || fail "worker $p: spout trees timed out"
    grep -qE " summary __acker .*executed=[1-9]" "$log" || fail "worker $p: its acker did nothing"
done

echo "== SIGHUP with a regrouped assignment: the worker stops (22) to be restarted"
worker "$P1"
W1=$STARTED
wait_for 30 "heartbeats of the new worker $P1" heartbeats_from "$P1" "$W1"
"$FIX" reassign "$L" "$ID" "$P1" 3 regroup || fail "reassign"
kill -HUP "$W1"
rc=0
wait "$W1" || rc=$?
[[ $rc -eq 22 ]] || fail "regrouped worker exited $rc, expected 22"
grep -q "groups the executors differently" "$G/workers-artifacts/$ID/$P1/worker.log" ||
    fail "the regrouped worker did not say why it stopped"

echo "== a worker whose supervisor dies exits by itself (20)"
worker "$P1"
W1=$STARTED
wait_for 30 "heartbeats of the new worker $P1" heartbeats_from "$P1" "$W1"
{ kill -KILL "$SUP" && wait "$SUP"; } 2>/dev/null || true
rc=0
wait "$W1" || rc=$? # supervisor.worker.timeout.secs is 3: it must not wait forever
[[ $rc -eq 20 ]] || fail "orphaned worker exited $rc, expected 20"
grep -q "no reply from the supervisor" "$G/workers-artifacts/$ID/$P1/worker.log" ||
    fail "the orphaned worker did not say why it exited"
echo "PASS"
