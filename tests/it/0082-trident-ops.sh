#!/usr/bin/env bash
# 0082 — the micro-batch operations end to end in `gale local` against a
# real redis-server, each result checked exactly: map, flat_map (zero and
# two outputs), project (reordered), merge, aggregate, partition_aggregate
# with a reducer, sum/min/max (TridentOps); the opaque file spout into an
# opaque state with batches failing their first attempt (exact counts);
# a non-transactional state (plain values, exact without failures); and
# Redis down at the start: one line per retry with a growing backoff,
# nothing written, then the run proceeds once redis-server starts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/redis_lib.sh"

G=$GALE_BIN
TOPO=$GALE_BUILD/tests/topo_trident.so
ARGS=(-c redis.host=127.0.0.1 -c topology.trident.batch.emit.interval.millis=10
      -c gale.trident.file.batch.lines=50)

python3 - "$TMP/ops.txt" "$TMP/words.txt" <<'PY'
import random, sys
random.seed(82)
ws = "apple moon cow star tree river".split()
with open(sys.argv[1], "w") as f:
    for i in range(1500):
        f.write("%s %d\n" % (random.choice(ws), random.choice([0, 0] + list(range(-20, 60)))))
with open(sys.argv[2], "w") as f:
    for i in range(3000):
        f.write(" ".join(random.choice(ws) for _ in range(random.randint(1, 9))) + "\n")
PY

# hash_values HASH KIND: "field value" lines, sorted (KIND: tx, opaque, plain)
hash_values() {
    redis_cli --raw HGETALL "$1" | paste - - | python3 -c 'import sys, json
kind = sys.argv[1]
for l in sys.stdin:
    k, v = l.rstrip("\n").split("\t"); j = json.loads(v)
    print(k, j if kind == "plain" else j[1])' "$2" | sort
}

echo "check: TridentOps: every operation's exact result"
start_redis
run_bg 90 "$TMP/ops.log" "$G" local "$TOPO" TridentOps "$TMP/ops.txt" "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" --until-done
expect_ok "$TMP/ops.log" "TridentOps"
python3 - "$TMP/ops.txt" "$TMP/want" <<'PY'
import sys, collections
rows = [(w, int(n)) for w, n in (l.split() for l in open(sys.argv[1]))]
pos = [(w, n) for w, n in rows if n != 0]           # what flat_map keeps (twice)
out = []
cnt = collections.Counter(w for w, n in pos)
out += ["ops:count %s %d" % (w, 2 * c) for w, c in cnt.items()]
sm = collections.Counter()
for w, n in pos: sm[w] += 2 * n
out += ["ops:sum %s %d" % (w, s) for w, s in sm.items()]
out += ["ops:min $global %d" % min(n for w, n in pos), "ops:max $global %d" % max(n for w, n in pos)]
out += ["ops:agg $global %d" % (2 * len(pos)), "ops:pagg $global %d" % (2 * sum(n for w, n in pos))]
mg = collections.Counter(w for w, n in rows) + collections.Counter({w: 2 * c for w, c in cnt.items()})
out += ["ops:merge %s %d" % (w, c) for w, c in mg.items()]
open(sys.argv[2], "w").write("\n".join(sorted(out)) + "\n")
PY
for h in ops:count ops:sum ops:min ops:max ops:agg ops:pagg ops:merge; do
    hash_values "$h" tx | sed "s/^/$h /"
done | sort >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "TridentOps results differ from the exact ones"
stop_redis

# word counts of words.txt, "word count" sorted
tr -s ' ' '\n' <"$TMP/words.txt" | grep -v '^$' | sort | uniq -c | awk '{print $2, $1}' >"$TMP/wc"

echo "check: opaque spout + opaque state, batches failing their first attempt: exact"
start_redis
run_bg 90 "$TMP/opaque.log" "$G" local "$TOPO" TridentOpaque "$TMP/words.txt" "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" --until-done
expect_ok "$TMP/opaque.log" "TridentOpaque"
grep -q 'batch 3 attempt 0 failed' "$TMP/opaque.log" || fail "no batch failed: the test tests nothing"
hash_values trident-word-count:counts opaque >"$TMP/got"
expect_same "$TMP/wc" "$TMP/got" "opaque counts with replays differ from the exact counts"
v=$(redis_cli HGET trident-word-count:counts cow)
[[ $v =~ ^\[[0-9]+,[0-9]+,[0-9]+\]$ ]] || fail "an opaque value is not [txid,curr,prev]: $v"
stop_redis

echo "check: a non-transactional state: plain values, exact without failures"
start_redis
run_bg 90 "$TMP/nontx.log" "$G" local "$TOPO" TridentNonTx "$TMP/words.txt" "${ARGS[@]}" \
    -c "redis.port=$REDIS_PORT" --until-done
expect_ok "$TMP/nontx.log" "TridentNonTx"
hash_values trident-word-count:counts plain >"$TMP/got"
expect_same "$TMP/wc" "$TMP/got" "non-transactional counts differ from the exact counts"
stop_redis

echo "check: Redis down at the start: retries with backoff, then it proceeds"
REDIS_PORT=$(_redis_free_port)
setsid "$G" local "$TOPO" TridentSlow "$TMP/words.txt" "${ARGS[@]}" -c "redis.port=$REDIS_PORT" \
    --until-done >"$TMP/down.log" 2>&1 &
PID=$!
deadline=$((SECONDS + 30))
until (($(grep -c "retrying in" "$TMP/down.log") >= 6)); do
    ((SECONDS < deadline)) || fail "no retry lines within 30 s: $(tail -5 "$TMP/down.log")"
    kill -0 "$PID" 2>/dev/null || fail "gale local exited while Redis was down: $(tail -5 "$TMP/down.log")"
    sleep 0.1
done
# one line per retry, naming the address and the fix; the delay grows
grep "retrying in" "$TMP/down.log" | grep -v "127.0.0.1:$REDIS_PORT" &&
    fail "a retry line does not name the Redis address"
delays=$(grep "\$mastercoord-bg0" "$TMP/down.log" | sed -n 's/.*retrying in \([0-9]*\) ms.*/\1/p')
python3 -c 'import sys
d = [int(x) for x in sys.argv[1].split()]
sys.exit(0 if len(d) >= 2 and d == sorted(d) and d[-1] > d[0] else 1)' "$delays" ||
    fail "the coordinator's retry delays do not grow: $delays"
restart_redis "$REDIS_PORT" # its first start on that port
wait "$PID" || fail "the run after Redis came up exited $?: $(tail -5 "$TMP/down.log")"
PID=
hash_values trident-word-count:counts tx >"$TMP/got"
expect_same "$TMP/wc" "$TMP/got" "counts after Redis came up late differ from the exact counts"
stop_redis

echo "check: a wrong redis.password stops the run at once with one clear line (exit 1)"
start_redis --requirepass sesame
run_bg 60 "$TMP/pw.log" "$G" local "$GALE_BUILD/starter/trident_word_count.so" TridentWordCount \
    "$TMP/ops.txt" "${ARGS[@]}" -c "redis.port=$REDIS_PORT" -c redis.password=wrong --until-done
[[ $RC -eq 1 ]] || fail "a wrong password: exit $RC, not 1 (124: it kept retrying)"
grep -q "refused AUTH: WRONGPASS.* check redis.password; stopping" "$TMP/pw.log" ||
    fail "no clear line for the wrong password: $(grep ERROR "$TMP/pw.log" | head -3)"
stop_redis
echo "PASS"
