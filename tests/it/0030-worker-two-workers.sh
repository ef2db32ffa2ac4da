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
#  - SIGTERM stops each worker with exit 0 after closing every component,
#    and removes its pid file;
#  - a worker whose supervisor dies exits by itself with code 20 after
#    supervisor.worker.timeout.secs.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LIB="$GALE_BUILD/starter/word_count.so"
FIX="$GALE_BUILD/tests/prog_worker_fixture"
ID=wc-1-1700000000
LINES=5000

# Every process started here is a group leader (setsid): kill them all.
GROUPS_STARTED=()
cleanup() {
    # TERM first (a failing run then still logs its summaries), then KILL
    for g in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
    sleep 1
    for g in "${GROUPS_STARTED[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "${GALE_KEEP_TMP:-}" ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}

start() { # start LOG CMD...: in its own group, its pid in STARTED
    local log=$1
    shift
    setsid "$@" >"$log" 2>&1 &
    STARTED=$!
    GROUPS_STARTED+=("$STARTED")
}

wait_for() { # wait_for SECS WHAT CMD...: poll CMD until it succeeds
    local secs=$1 what=$2
    shift 2
    local end=$((SECONDS + secs))
    until "$@"; do
        ((SECONDS < end)) || fail "timed out after ${secs}s waiting for $what"
        sleep 0.1
    done
}

free_ports() { # two distinct free tcp ports on loopback
    python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'
}

read -r P1 P2 < <(free_ports)
L="$TMP/local"
G="$TMP/logs"
cat >"$TMP/gale.yaml" <<EOF
gale.local.dir: $L
gale.log.dir: $G
gale.local.hostname: 127.0.0.1
worker.heartbeat.frequency.secs: 1
supervisor.worker.timeout.secs: 3
EOF

awk -v n="$LINES" 'BEGIN {
    srand(7)
    split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu", v, " ")
    for (l = 1; l <= n; l++) {
        k = 1 + int(rand() * 8)
        line = v[1 + int(rand() * 12)]
        for (j = 2; j <= k; j++) line = line " " v[1 + int(rand() * 12)]
        print line
    }
}' >"$TMP/corpus"
awk '{ for (i = 1; i <= NF; i++) print NR, i - 1 }' "$TMP/corpus" | sort -u >"$TMP/expected_pairs"
tr ' ' '\n' <"$TMP/corpus" | sort | uniq -c | awk '{ print $2, $1 }' >"$TMP/expected_counts"
: >"$TMP/sink"

echo "== files for $ID on ports $P1 and $P2"
"$FIX" files "$L" "$ID" "$LIB" WordCountTopology sup-1 127.0.0.1 "$P1" "$P2" -- \
    "$TMP/corpus" "$TMP/sink" >"$TMP/fixture.out" 2>&1 || { cat "$TMP/fixture.out"; fail "fixture"; }
for p in "$P1" "$P2"; do
    for c in spout split sink; do
        grep -qE "$c port $p$" "$TMP/fixture.out" || fail "no $c executor on port $p"
    done
done

start "$TMP/sup.out" "$FIX" supervisor "$L"
SUP=$STARTED
wait_for 10 "the fake supervisor" grep -q '^listening' "$TMP/sup.out"

worker() { # worker PORT: start `gale worker` for that slot; pid in STARTED
    start "$TMP/worker-$1.out" "$GALE_BIN" worker --topology-id "$ID" --port "$1" \
        --supervisor-id sup-1 --config "$TMP/gale.yaml"
}
heartbeats_from() { grep -qE "^heartbeat $ID $1 $2 " "$TMP/sup.out"; }

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
printf 'GET / HTTP/1.1\r\n\r\n\xff\x00\x01garbage' >"/dev/tcp/127.0.0.1/$P2" || true
head -c 4096 /dev/urandom >"/dev/tcp/127.0.0.1/$P2" || true
[[ -n "${NO_GARBAGE:-}" ]] || "$FIX" garbage "tcp://127.0.0.1:$P2" >"$TMP/garbage.out" 2>&1 || fail "garbage sender failed"

echo "== until the spouts of both workers report every line acked"
wait_for ${DONE_SECS:-100} "done from worker $P1" grep -qE "^heartbeat $ID $P1 $W1 done=1" "$TMP/sup.out"
wait_for ${DONE_SECS:-100} "done from worker $P2" grep -qE "^heartbeat $ID $P2 $W2 done=1" "$TMP/sup.out"
kill -0 "$W1" && kill -0 "$W2" || fail "a worker died"
log2="$G/workers-artifacts/$ID/$P2/worker.log"
grep -q "message rejected\|rejected\|ignored\|dropped" "$log2" ||
    fail "worker $P2 did not log the garbage it got"

echo "check: every (line_no, word_idx) of the corpus is in the sink"
awk '{ print $1, $2 }' "$TMP/sink" | sort -u >"$TMP/got_pairs"
expect_same "$TMP/expected_pairs" "$TMP/got_pairs" "sink pairs differ from the corpus"
echo "check: word counts from the unique sink triples equal the corpus's"
sort -u "$TMP/sink" | awk '{ print $3 }' | sort | uniq -c | awk '{ print $2, $1 }' >"$TMP/got_counts"
expect_same "$TMP/expected_counts" "$TMP/got_counts" "word counts differ"

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
