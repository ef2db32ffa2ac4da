#!/usr/bin/env bash
# 0080 — TridentWordCount in `gale local --until-done` against a real
# redis-server: exactly-once counts (equal to the corpus's, not "at
# least"), one EVALSHA per committed batch and state partition, txids
# committed in order with several batches in flight; the same with
# batches failing on their first attempt; a run killed mid-way and
# restarted resumes its txids and still ends exact; a coordinator whose
# epoch was superseded has its commits refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/redis_lib.sh"
# shellcheck source=tests/it/trident_lib.sh
source "$(dirname "$0")/trident_lib.sh"

STARTER=$GALE_BUILD/starter/trident_word_count.so
TOPO=$GALE_BUILD/tests/topo_trident.so
K=gale:trident:trident-word-count:sentences

word_corpus 9

evalsha() { redis_cli INFO commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'; }
# every "committed txid N" line of LOG: strictly increasing, from FROM+1, no gaps
check_order() {
    local from=$2
    sed -n 's/.* committed txid \([0-9]*\) (attempt.*/\1/p' "$1" | awk -v f="$from" \
        '{ if ($1 != f + 1) { print "txid " $1 " after " f; exit 1 } f = $1 } END { print f }'
}
ARGS=(-c redis.host=127.0.0.1 -c topology.trident.batch.emit.interval.millis=10
      -c gale.trident.file.batch.lines=300)

# 1. exact counts, EVALSHA = committed batches x 3 partitions, ordered commits
start_redis
run_bg 90 "$TMP/run1.log" "$GALE_BIN" local "$STARTER" TridentWordCount "$TMP/corpus.txt" \
    "${ARGS[@]}" -c "redis.port=$REDIS_PORT" --until-done
expect_ok "$TMP/run1.log" "TridentWordCount"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "counts in Redis differ from the corpus's exact counts"
last=$(check_order "$TMP/run1.log" 0) || fail "commits out of order: $last"
[[ $(redis_cli GET $K:committed) == "$last" ]] || fail "committed key is not $last"
((last >= 20)) || fail "only $last batches: the test wants many (batch.lines=300)"
[[ $(evalsha) == $((last * 3)) ]] || fail "EVALSHA calls $(evalsha), want $last batches x 3 partitions"
grep -q '3 batches in flight at most' "$TMP/run1.log" || fail "max pending 3 not in effect"

# 2. a restarted run resumes after the last committed txid (not at 1)
run_bg 60 "$TMP/run2.log" "$GALE_BIN" local "$STARTER" TridentWordCount "$TMP/corpus.txt" \
    "${ARGS[@]}" -c "redis.port=$REDIS_PORT" --until-done
expect_ok "$TMP/run2.log" "the second run"
grep -q "coordinator epoch 2: resuming after committed txid $last " "$TMP/run2.log" ||
    fail "the second run did not resume after txid $last with epoch 2"
check_order "$TMP/run2.log" "$last" >/dev/null || fail "the second run's commits are out of order"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "the second run changed the counts"
stop_redis

# 3. batches failing their first attempt: still exact
start_redis
run_bg 90 "$TMP/flaky.log" "$GALE_BIN" local "$TOPO" TridentFlaky "$TMP/corpus.txt" \
    "${ARGS[@]}" -c "redis.port=$REDIS_PORT" --until-done
expect_ok "$TMP/flaky.log" "TridentFlaky"
grep -q 'batch 3 attempt 0 failed' "$TMP/flaky.log" || fail "no batch failed: the test tests nothing"
grep -q 'replaying it and every later active batch' "$TMP/flaky.log" || fail "no replay logged"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "counts with replays differ from the exact counts"
check_order "$TMP/flaky.log" 0 >/dev/null || fail "commits out of order with replays"
stop_redis

# 4. killed mid-run (kill -9) then restarted: resumes its txids, exact
start_redis
SLOW=(-c redis.host=127.0.0.1 -c "redis.port=$REDIS_PORT" -c gale.trident.file.batch.lines=100
      -c topology.trident.batch.emit.interval.millis=30)
setsid "$GALE_BIN" local "$TOPO" TridentSlow "$TMP/corpus.txt" "${SLOW[@]}" >"$TMP/kill.log" 2>&1 &
PID=$!
end=$((SECONDS + 30))
until (($(redis_cli GET $K:committed || echo 0) >= 10)); do
    ((SECONDS < end)) || fail "no 10 commits within 30 s (see $TMP/kill.log)"
    sleep 0.05 # polling interval
done
kill -KILL -- "-$PID"
wait "$PID" 2>/dev/null || true
PID=
was=$(redis_cli GET $K:committed)
run_bg 90 "$TMP/resume.log" "$GALE_BIN" local "$TOPO" TridentSlow "$TMP/corpus.txt" "${SLOW[@]}" \
    -c topology.trident.batch.emit.interval.millis=5 --until-done
expect_ok "$TMP/resume.log" "the run after kill -9"
grep -q "resuming after committed txid $was " "$TMP/resume.log" || fail "did not resume after txid $was"
check_order "$TMP/resume.log" "$was" >/dev/null || fail "resumed commits out of order"
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "counts after kill -9 and a restart differ from the exact counts"

# 5. a stale epoch: a newer coordinator's INCR fences the running one
redis_cli FLUSHALL >/dev/null
setsid "$GALE_BIN" local "$TOPO" TridentSlow "$TMP/corpus.txt" "${SLOW[@]}" \
    -c topology.trident.batch.emit.interval.millis=200 >"$TMP/stale.log" 2>&1 &
PID=$!
end=$((SECONDS + 30))
until (($(redis_cli GET $K:committed || echo 0) >= 2)); do
    ((SECONDS < end)) || fail "no 2 commits within 30 s (see $TMP/stale.log)"
    sleep 0.05 # polling interval
done
redis_cli INCR $K:epoch >/dev/null # as a coordinator started elsewhere does
end=$((SECONDS + 30))
until grep -q 'coordinator epoch 1 is stale' "$TMP/stale.log"; do
    ((SECONDS < end)) || fail "the stale coordinator was not refused within 30 s"
    sleep 0.05 # polling interval
done
# (a commit in flight at the INCR is also refused by the committers'
# epoch-fenced EVALSHA: "refused"; which of the two fences trips first
# is timing, the state's own tests check the committers' fence)
c1=$(redis_cli GET $K:committed)
before=$(redis_cli HGETALL trident-word-count:counts | md5sum)
sleep 1 # nothing may be written after the fence: look again a second later
[[ $(redis_cli GET $K:committed) == "$c1" ]] || fail "a fenced coordinator still committed"
[[ $(redis_cli HGETALL trident-word-count:counts | md5sum) == "$before" ]] ||
    fail "a stale writer changed the counts"
kill -TERM -- "-$PID"
wait "$PID" 2>/dev/null || true
PID=
# 6. a stored value no replay can fix: the batch fails each time, naming
# the key, and its replays back off (100 ms doubling to 10 s) instead of
# spinning: in 6 s a few attempts, not thousands
redis_cli FLUSHALL >/dev/null
redis_cli HSET trident-word-count:counts cow '[1]' >/dev/null
setsid "$GALE_BIN" local "$STARTER" TridentWordCount "$TMP/corpus.txt" "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" >"$TMP/bad.log" 2>&1 &
PID=$!
end=$((SECONDS + 30))
until grep -q "state key 'cow'" "$TMP/bad.log"; do
    ((SECONDS < end)) || fail "no error naming the bad key within 30 s (see $TMP/bad.log)"
    sleep 0.05 # polling interval
done
t0=$SECONDS
until ((SECONDS - t0 >= 6)); do sleep 0.5; done # a fixed window to count attempts in
att=$(redis_cli HGET $K:attempts 1)
kill -TERM -- "-$PID"
wait "$PID" 2>/dev/null || true
PID=
[[ -n $att ]] && ((att >= 2 && att <= 15)) || fail "batch 1 made $att attempts in ~6 s: replays do not back off"
[[ -z $(redis_cli GET $K:committed) ]] || fail "a batch over a bad stored value committed"
# 7. the input file changed since the batches Redis records: one line naming
# the file and the fix, and the run stops (exit nonzero) instead of retrying
redis_cli FLUSHALL >/dev/null
run_bg 90 "$TMP/full.log" "$GALE_BIN" local "$STARTER" TridentWordCount "$TMP/corpus.txt" \
    "${ARGS[@]}" -c "redis.port=$REDIS_PORT" --until-done
expect_ok "$TMP/full.log" "TridentWordCount"
head -n 10 "$TMP/corpus.txt" >"$TMP/short.txt"
run_bg 60 "$TMP/short.log" "$GALE_BIN" local "$STARTER" TridentWordCount "$TMP/short.txt" \
    "${ARGS[@]}" -c "redis.port=$REDIS_PORT" --until-done
[[ $RC -ne 0 && $RC -ne 124 ]] || fail "a run over a changed file exited $RC (124: it kept retrying)"
grep -q "Redis records batches of $TMP/short.txt up to byte .* the file changed since this topology counted it" \
    "$TMP/short.log" || fail "no line naming the changed file (see $TMP/short.log)"
echo "ok: $last batches exact; replays exact; resumed after $was; stale epoch refused; bad value backs off ($att attempts); a changed file stops the run"
