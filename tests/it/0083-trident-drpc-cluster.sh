#!/usr/bin/env bash
# 0083 — the words DRPC query on TridentWordCount in the cluster: a real
# redis-server, `gale drpc-server`, nimbus and one supervisor on
# loopback, the starter submitted with `gale jar` on 2 workers. What must
# hold: once the corpus is counted, `gale drpc words "cow moon"` prints
# Storm's [[sum]] with the exact sum of those words' counts in the
# corpus, and an unseen word adds 0.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/redis_lib.sh
source "$(dirname "$0")/redis_lib.sh"
trap '_redis_signal KILL; cluster_cleanup' EXIT # both libraries' cleanups
SO=$GALE_BUILD/starter/trident_word_count.so

python3 - "$TMP/corpus.txt" <<'PY'
import random, sys
random.seed(83)
words = "the cow jumped over moon an apple a day keeps doctor away".split()
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(1, 8))) + "\n")
PY
want() {
    python3 - "$TMP/corpus.txt" "$@" <<'PY'
import sys, collections
c = collections.Counter(open(sys.argv[1]).read().split())
print("[[%d]]" % sum(c[w] for w in sys.argv[2:]))
PY
}

start_redis
mkdir -p "$TMP/drpc"
setsid "$GALE_BIN" drpc-server -c "gale.local.dir=$TMP/drpc" -c "gale.log.dir=$TMP/drpc/logs" \
    -c drpc.port=0 -c drpc.invocations.port=0 -c drpc.http.port=0 >"$TMP/drpc.out" 2>&1 &
GROUPS_STARTED+=("$!")
wait_for 10 test -s "$TMP/drpc/drpc.http.port" || fail "drpc-server wrote no port files: $(cat "$TMP/drpc.out")"
D=(-c "drpc.port=$(cat "$TMP/drpc/drpc.port")" -c "drpc.invocations.port=$(cat "$TMP/drpc/drpc.invocations.port")")

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/sup" 127.0.0.1 "[$(free_port), $(free_port)]"
wait_joined 1
id=$(g jar "$SO" TridentWordCount "$TMP/corpus.txt" "${D[@]}" -c topology.workers=2 \
    -c redis.host=127.0.0.1 -c "redis.port=$REDIS_PORT" -c gale.trident.file.batch.lines=100 \
    -c topology.trident.batch.emit.interval.millis=20) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_workers "$id" 2 60 || fail "the workers of $id did not start"

drained() { [[ -n $(redis_cli HGETALL gale:trident:trident-word-count:sentences:drained) ]] &&
    [[ $(redis_cli HLEN gale:trident:trident-word-count:sentences:drained) == 2 ]] &&
    [[ $(redis_cli GET gale:trident:trident-word-count:sentences:committed) -ge \
       $(redis_cli HVALS gale:trident:trident-word-count:sentences:drained | sort -n | tail -1) ]]; }
wait_for 60 drained || fail "the corpus was not counted in 60 s"

final=$(want cow moon)
exact() { [[ $("$GALE_BIN" drpc "${D[@]}" words "cow moon" 2>"$TMP/err") == "$final" ]]; }
echo "check: gale drpc words 'cow moon' prints the exact sum from the cluster's workers"
wait_for 30 exact || fail "words 'cow moon': $("$GALE_BIN" drpc "${D[@]}" words "cow moon" 2>&1), want $final"
out=$("$GALE_BIN" drpc "${D[@]}" words "apple nosuchword")
[[ $out == "$(want apple)" ]] || fail "words 'apple nosuchword': '$out', want $(want apple)"
g kill "$id" -w 1 >/dev/null || fail "kill refused"
wait_gone "$id" 60 || fail "the topology is still there: $(g list)"
echo "PASS"
