#!/usr/bin/env bash
# 0081 — storm-starter's DRPC query on TridentWordCount in `gale local`
# (LocalDRPC in-process) against a real redis-server: while the topology
# runs, `gale drpc words "cow moon"` prints Storm's [[sum]] of those
# words' counts; after the corpus is counted the sums are exact; a word
# never seen adds 0 (alone: [[0]]); a repeated word counts each time (as
# in Storm: one state query per word); empty args give [[0]]; queries only
# read (no EVALSHA); an unknown function is one clear error; the DRPC
# stream does not hold --until-done open; SIGTERM stops the run cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/redis_lib.sh"

G=$GALE_BIN
STARTER=$GALE_BUILD/starter/trident_word_count.so

python3 - "$TMP/corpus.txt" <<'PY'
import random, sys
random.seed(81)
words = "the cow jumped over moon an apple a day keeps doctor away four score and seven years ago".split()
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(1, 10))) + "\n")
PY
# want WORD...: Storm's answer for the words, from the corpus itself
want() {
    python3 - "$TMP/corpus.txt" "$@" <<'PY'
import sys, collections
c = collections.Counter(open(sys.argv[1]).read().split())
print("[[%d]]" % sum(c[w] for w in sys.argv[2:]))
PY
}
evalsha() { redis_cli INFO commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'; }

start_redis
L=(-c "gale.local.dir=$TMP/l" -c "gale.log.dir=$TMP/l/logs" -c drpc.port=0
   -c drpc.invocations.port=0 -c drpc.http.port=0 -c redis.host=127.0.0.1
   -c "redis.port=$REDIS_PORT" -c gale.trident.file.batch.lines=20
   -c topology.trident.batch.emit.interval.millis=20)
setsid "$G" local "${L[@]}" --local-ttl 100 "$STARTER" TridentWordCount "$TMP/corpus.txt" \
    >"$TMP/run.log" 2>&1 &
PID=$!
deadline=$((SECONDS + 15))
until [[ -s $TMP/l/drpc.port ]]; do
    ((SECONDS < deadline)) || fail "gale local wrote no DRPC port file: $(tail -5 "$TMP/run.log")"
    sleep 0.05
done
P=$(cat "$TMP/l/drpc.port")
drpc() { "$G" drpc -c "drpc.port=$P" "$@"; }

echo "check: a query while the corpus is being counted answers a partial sum"
deadline=$((SECONDS + 30))
until out=$(drpc words "cow moon" 2>"$TMP/err"); do
    ((SECONDS < deadline)) || fail "gale drpc words never answered: $(cat "$TMP/err")"
    sleep 0.1
done
final=$(want cow moon)
[[ $out =~ ^\[\[([0-9]+)\]\]$ ]] || fail "words 'cow moon' printed '$out', want [[N]]"
((BASH_REMATCH[1] <= ${final//[^0-9]/})) || fail "partial sum $out exceeds the final $final"

deadline=$((SECONDS + 60))
until grep -q "the batch spout is drained and committed" "$TMP/run.log"; do
    ((SECONDS < deadline)) || fail "the corpus was not counted in 60 s: $(tail -5 "$TMP/run.log")"
    sleep 0.1
done
grep -q "DRPC stream \$drpc-words: coordinator at epoch 1" "$TMP/run.log" ||
    fail "no line saying the DRPC stream's coordinator started"

echo "check: exact sums once counted"
before=$(evalsha)
out=$(drpc words "cow moon")
[[ $out == "$final" ]] || fail "words 'cow moon': '$out', want $final"
out=$(drpc words "the")
[[ $out == "$(want the)" ]] || fail "words 'the': '$out', want $(want the)"
echo "check: unseen words add 0"
out=$(drpc words "cow nosuchword")
[[ $out == "$(want cow)" ]] || fail "words 'cow nosuchword': '$out', want $(want cow)"
out=$(drpc words "nosuchword")
[[ $out == "[[0]]" ]] || fail "words 'nosuchword': '$out', want [[0]]"
out=$(drpc words "")
[[ $out == "[[0]]" ]] || fail "words '': '$out', want [[0]]"
echo "check: a repeated word counts each time (one query per word, as Storm)"
out=$(drpc words "cow cow")
[[ $out == "$(want cow cow)" ]] || fail "words 'cow cow': '$out', want $(want cow cow)"
echo "check: queries only read the state"
[[ $(evalsha) == "$before" ]] || fail "queries wrote to Redis (EVALSHA $before -> $(evalsha))"

echo "check: concurrent queries each get their own answer"
QP=()
for w in cow moon apple the; do
    drpc words "$w" >"$TMP/q.$w" 2>&1 &
    QP+=($!)
done
for p in "${QP[@]}"; do wait "$p" || true; done # not gale local's: it runs on
for w in cow moon apple the; do
    [[ $(cat "$TMP/q.$w") == "$(want $w)" ]] || fail "concurrent words '$w': $(cat "$TMP/q.$w")"
done

echo "check: an unknown function is one clear error"
rc=0
drpc nosuch x >/dev/null 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "no running topology serves DRPC function 'nosuch'" "$TMP/err" ||
    fail "unknown function: exit $rc: $(cat "$TMP/err")"
[[ $(wc -l <"$TMP/err") -eq 1 ]] || fail "unknown function: more than one line: $(cat "$TMP/err")"

echo "check: SIGTERM stops the run cleanly"
kill -TERM "$PID"
deadline=$((SECONDS + 20))
while kill -0 "$PID" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "gale local did not stop"
    sleep 0.1
done
rc=0
wait "$PID" || rc=$?
PID=
((rc == 0)) || fail "gale local exited $rc after SIGTERM: $(tail -5 "$TMP/run.log")"

echo "check: the DRPC stream does not hold --until-done open"
run_bg 60 "$TMP/until.log" "$G" local "${L[@]}" "$STARTER" TridentWordCount "$TMP/corpus.txt" \
    --until-done
expect_ok "$TMP/until.log" "TridentWordCount --until-done with its DRPC stream"
stop_redis
echo "PASS"
