#!/usr/bin/env bash
# 0087 — partial aggregation (a combiner's aggregate/persistent_aggregate
# combines each batch per group before the repartition) stays exact with
# replays: TridentPartial (tests/it/topo_trident.c) counts words per
# batch (partials b-0 -> b-1), then sums those counts into the state
# (partials b-1 -> b-2); every third batch fails its first attempt in one
# of the two split tasks only, so the other task's partials of that
# attempt have crossed when the batch is replayed: the replay recomputes
# them from scratch. With a transactional, an opaque and a
# non-transactional state, the counts in Redis equal the corpus's. Then
# TridentPPersist: partition_by(word) -> partition_persist(count), the
# same replays, transactional and opaque: the counts equal too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/redis_lib.sh"
# shellcheck source=tests/it/trident_lib.sh
source "$(dirname "$0")/trident_lib.sh"

TOPO=$GALE_BUILD/tests/topo_trident.so

word_corpus 87

ARGS=(-c redis.host=127.0.0.1 -c topology.trident.batch.emit.interval.millis=10
      -c gale.trident.file.batch.lines=300)

start_redis
for kind in transactional opaque nontx; do
    redis_cli FLUSHALL >/dev/null
    run_bg 90 "$TMP/$kind.log" "$GALE_BIN" local "$TOPO" TridentPartial "$TMP/corpus.txt" "$kind" \
        "${ARGS[@]}" -c "redis.port=$REDIS_PORT" --until-done
    expect_ok "$TMP/$kind.log" "TridentPartial $kind"
    grep -q 'batch 3 attempt 0 failed' "$TMP/$kind.log" || fail "$kind: no batch failed: the test tests nothing"
    grep -q 'replaying it and every later active batch' "$TMP/$kind.log" || fail "$kind: no replay logged"
    counts >"$TMP/got"
    expect_same "$TMP/want" "$TMP/got" "$kind: counts with partial aggregation and replays differ from the exact counts"
done
echo "ok: partial aggregation exact with replays (transactional, opaque, non-transactional)"

# partition_persist: each partition (by word) counts its words into the
# state itself, with the same replays
for kind in transactional opaque; do
    redis_cli FLUSHALL >/dev/null
    run_bg 90 "$TMP/pp-$kind.log" "$GALE_BIN" local "$TOPO" TridentPPersist "$TMP/corpus.txt" "$kind" \
        "${ARGS[@]}" -c "redis.port=$REDIS_PORT" --until-done
    expect_ok "$TMP/pp-$kind.log" "TridentPPersist $kind"
    grep -q 'replaying it and every later active batch' "$TMP/pp-$kind.log" || fail "pp $kind: no replay logged"
    counts >"$TMP/got"
    expect_same "$TMP/want" "$TMP/got" "partition_persist $kind: counts with replays differ from the exact counts"
done
echo "ok: partition_persist exact with replays (transactional, opaque)"
