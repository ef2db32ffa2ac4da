#!/usr/bin/env bash
# 0084 — the Redis stream batch spout (gale_redis_stream_batch_spout and
# GALE_REDIS_STREAM_BATCH_SPOUT) against a real redis-server: a
# TridentWordCount over XADDed entries has exact counts, with batches
# failing their first attempt (replays XRANGE the same ids); two streams
# as two partitions; the built-in with gale.trident.redis.stream.fields;
# a streaming run (never done) counting entries XADDed while it runs; the
# empty stream; an entry without the field (stops the run naming the
# entry id and the field); a recorded batch whose entries were deleted
# (stops the run); no stream key; Redis killed mid-run and restarted
# (AOF): still exact.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/redis_lib.sh"

TOPO=$GALE_BUILD/tests/topo_trident.so
K=gale:trident:trident-stream:stream

# gen N SEED KEY: N "XADD KEY * sentence ..." lines into $TMP/KEY.cmds,
# their words' counts (accumulated over calls) into $TMP/want
gen() {
    python3 - "$1" "$2" "$3" "$TMP" <<'PY'
import random, sys, os, collections
n, seed, key, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
random.seed(seed)
words = "the cow jumped over moon an apple a day keeps doctor away four score and seven years ago".split()
want = collections.Counter()
if os.path.exists(tmp + "/want"):
    for l in open(tmp + "/want"):
        w, c = l.split(); want[w] = int(c)
with open(f"{tmp}/{key}.cmds", "w") as f:
    for i in range(n):
        s = [random.choice(words) for _ in range(random.randint(1, 8))]
        want.update(s)
        f.write(f'XADD {key} * sentence "{" ".join(s)}" n {i}\n')
with open(tmp + "/want", "w") as f:
    for w in sorted(want): f.write(f"{w} {want[w]}\n")
PY
}
committed() {
    local v
    v=$(redis_cli GET $K:committed)
    echo "${v:-0}"
}
xadd() { redis_cli <"$TMP/$1.cmds" >/dev/null || fail "XADD into $1 failed"; }
counts() {
    redis_cli --raw HGETALL trident-stream:counts | paste - - |
        python3 -c 'import sys, json
for l in sys.stdin:
    k, v = l.rstrip("\n").split("\t"); print(k, json.loads(v)[1])' | sort
}
ARGS=(-c redis.host=127.0.0.1 -c topology.trident.batch.emit.interval.millis=10
      -c gale.trident.redis.stream.batch.entries=100)
BOUNDED=(-c gale.trident.redis.stream.until.empty=true --until-done)

echo "check: 3000 entries, every third batch failing its first attempt: exact counts"
start_redis
rm -f "$TMP/want"
gen 3000 1 s1 && xadd s1
run_bg 90 "$TMP/run1.log" "$GALE_BIN" local "$TOPO" TridentStream s1 "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" "${BOUNDED[@]}"
expect_ok "$TMP/run1.log" "TridentStream s1"
grep -q 'batch 3 attempt 0 failed' "$TMP/run1.log" || fail "no batch failed: the test tests nothing"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "counts from the stream differ from the exact counts"
c=$(committed)
((c >= 30)) || fail "only $c batches committed for 3000 entries of 100 per batch"

echo "check: a second run of the consumed stream resumes and adds nothing"
run_bg 60 "$TMP/run2.log" "$GALE_BIN" local "$TOPO" TridentStream s1 "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" "${BOUNDED[@]}"
expect_ok "$TMP/run2.log" "the second run"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "a second run changed the counts"
echo "check: entries XADDed after a run are counted by the next one, once"
gen 500 2 s1 && xadd s1
run_bg 60 "$TMP/run3.log" "$GALE_BIN" local "$TOPO" TridentStream s1 "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" "${BOUNDED[@]}"
expect_ok "$TMP/run3.log" "the third run"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "entries added between runs are not counted exactly once"

echo "check: two streams, two partitions; the built-in spout with ...stream.fields"
redis_cli FLUSHALL >/dev/null
rm -f "$TMP/want"
gen 1000 3 a && xadd a
gen 1500 4 b && xadd b
run_bg 90 "$TMP/two.log" "$GALE_BIN" local "$TOPO" TridentStream a,b builtin "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" -c gale.trident.redis.stream.fields=sentence "${BOUNDED[@]}"
expect_ok "$TMP/two.log" "TridentStream a,b builtin"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "counts of two streams as two partitions differ"

echo "check: streaming (never done): entries XADDed while it runs are counted"
redis_cli FLUSHALL >/dev/null
rm -f "$TMP/want"
setsid "$GALE_BIN" local "$TOPO" TridentStream live "${ARGS[@]}" -c "redis.port=$REDIS_PORT" \
    >"$TMP/live.log" 2>&1 &
PID=$!
for i in 1 2 3; do
    gen 400 $((10 + i)) live && xadd live
    sleep 0.2 # let some batches pass between the XADDs (not synchronisation)
done
end=$((SECONDS + 60))
until counts >"$TMP/got" && cmp -s "$TMP/want" "$TMP/got"; do
    ((SECONDS < end)) || { expect_same "$TMP/want" "$TMP/got" "live counts not exact in 60 s"; }
    kill -0 "$PID" 2>/dev/null || fail "the streaming run exited (see $TMP/live.log)"
    sleep 0.1 # polling interval
done
kill -0 "$PID" 2>/dev/null || fail "the streaming run is done: without until.empty it must not be"
kill -TERM -- "-$PID"
wait "$PID" 2>/dev/null || true
PID=

echo "check: the empty stream (until.empty): done at once, nothing counted"
redis_cli FLUSHALL >/dev/null
run_bg 60 "$TMP/empty.log" "$GALE_BIN" local "$TOPO" TridentStream nothing "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" "${BOUNDED[@]}"
expect_ok "$TMP/empty.log" "TridentStream on an empty stream"
[[ $(redis_cli HLEN trident-stream:counts) == 0 ]] || fail "an empty stream counted something"

echo "check: an entry without the field stops the run, naming its id and the field"
redis_cli XADD bad '*' sentence "a b" >/dev/null
id=$(redis_cli XADD bad '*' text "no sentence here")
redis_cli XADD bad '*' sentence "c d" >/dev/null
run_bg 60 "$TMP/bad.log" "$GALE_BIN" local "$TOPO" TridentStream bad "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" "${BOUNDED[@]}"
((RC != 0 && RC != 124)) || fail "a missing field: exit $RC, want a failure (see $TMP/bad.log)"
grep -q "entry $id of stream bad has no field 'sentence'" "$TMP/bad.log" ||
    fail "no line naming entry $id and field 'sentence' (see $TMP/bad.log)"
[[ $(redis_cli HLEN trident-stream:counts) == 0 ]] || fail "a batch with a bad entry was committed"

echo "check: a recorded batch whose entries were deleted (XDEL) stops the run"
redis_cli FLUSHALL >/dev/null
for i in 1 2 3 4 5; do redis_cli XADD trim '*' sentence "w$i" >/dev/null; done
mapfile -t ids < <(redis_cli --raw XRANGE trim - + | sed -n '1~3p')
# txid 1's record, as spout0 writes it before emitting: msgpack
# [false, [first, last, 5]] in hash meta:0 field "1"
python3 -c 'import sys
f, l = sys.argv[1].encode(), sys.argv[2].encode()
sys.stdout.buffer.write(b"\x92\xc2\x93" + bytes([0xa0 | len(f)]) + f + bytes([0xa0 | len(l)]) + l + b"\x05")' \
    "${ids[0]}" "${ids[4]}" | redis_cli -x HSET $K:meta:0 1 >/dev/null
redis_cli XDEL trim "${ids[2]}" >/dev/null
run_bg 60 "$TMP/trim.log" "$GALE_BIN" local "$TOPO" TridentStream trim "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" "${BOUNDED[@]}"
((RC != 0 && RC != 124)) || fail "deleted entries of a recorded batch: exit $RC, want a failure"
grep -q "txid 1 recorded 5 entries ${ids[0]}..${ids[4]} of stream trim, which now holds 4" \
    "$TMP/trim.log" || fail "no line naming the deleted entries (see $TMP/trim.log)"

echo "check: no stream key: one line naming the key"
run_bg 60 "$TMP/nokey.log" "$GALE_BIN" local "$TOPO" TridentStream "" "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" "${BOUNDED[@]}"
((RC != 0 && RC != 124)) || fail "no stream key: exit $RC, want a failure"
grep -q "no stream key: set gale.trident.redis.stream.key" "$TMP/nokey.log" ||
    fail "no line naming gale.trident.redis.stream.key (see $TMP/nokey.log)"
stop_redis

echo "check: Redis killed mid-run and restarted (AOF): the counts are still exact"
start_redis --appendonly yes --appendfsync always
rm -f "$TMP/want"
gen 3000 5 s1 && xadd s1
setsid timeout 120 "$GALE_BIN" local "$TOPO" TridentStream s1 "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" -c topology.trident.batch.emit.interval.millis=30 \
    "${BOUNDED[@]}" >"$TMP/kill.log" 2>&1 &
PID=$!
end=$((SECONDS + 30))
until (($(committed) >= 5)); do
    ((SECONDS < end)) || fail "no 5 commits within 30 s (see $TMP/kill.log)"
    sleep 0.05 # polling interval
done
kill_redis
end=$((SECONDS + 30))
until grep -q 'cannot reach redis' "$TMP/kill.log"; do
    ((SECONDS < end)) || fail "Redis down was not noticed within 30 s"
    sleep 0.05 # polling interval
done
restart_redis
RC=0
wait "$PID" || RC=$?
PID=
expect_ok "$TMP/kill.log" "the run with Redis killed and restarted"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "counts after Redis was killed and restarted differ"
echo "ok: exact counts with replays, two partitions, streaming, empty, bad entry, Redis restart"
