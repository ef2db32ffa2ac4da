#!/usr/bin/env bash
# 0085 — exactly-once micro-batches in the cluster under faults: a
# TridentWordCount (transactional file batch spout, transactional Redis
# state) over a 50 000-line corpus runs on 3 workers over two
# supervisors against a redis-server with --appendonly yes
# --appendfsync always. Mid-stream, in turn: kill -9 the worker running
# the coordinator ($mastercoord-bg0), then (once the restarted
# coordinator commits again) another worker, then kill -9 redis-server,
# and while it is down the coordinator's worker again, and restart
# redis-server 3 s later on the same port. What must hold: each
# restarted coordinator resumes after the committed txid with a new
# epoch (2, then 3 once redis-server is back); once the coordinator says the spout is drained and committed
# (nimbus reports the topology done), the counts in Redis equal the
# corpus's exact counts — equal, not "at least" — and the committed txid
# is the coordinator's last.
#
# `0085-trident-cluster-faults.sh opaque` runs the same with the opaque
# file batch spout and an opaque state (0085 does).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/redis_lib.sh
source "$(dirname "$0")/redis_lib.sh"
# both libs set the EXIT trap: kill redis-server, then the cluster
trap '_redis_signal KILL; cluster_cleanup' EXIT

KIND=${1:-transactional}
case $KIND in
    transactional)
        JAR=$GALE_BUILD/starter/trident_word_count.so ENTRY=TridentWordCount
        NAME=trident-word-count ;;
    opaque)
        JAR=$GALE_BUILD/tests/topo_trident_opaque.so ENTRY=TridentOpaqueCount
        NAME=trident-opaque-count ;;
    *) fail "usage: $0 [transactional|opaque]" ;;
esac
HASH=$NAME:counts
K=gale:trident:$NAME:sentences
LINES=50000
BATCH_LINES=250 # per spout partition (2): about 100 batches

python3 - "$TMP/corpus.txt" "$LINES" <<'PY'
import random, sys
random.seed(82)
words = ["w%d" % i for i in range(400)]
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(" ".join(random.choice(words) for _ in range(random.randint(1, 12))) + "\n")
PY
tr -s ' ' '\n' <"$TMP/corpus.txt" | grep -v '^$' | sort | uniq -c | awk '{print $2, $1}' >"$TMP/want"

# the counts in Redis as sorted "word count" lines: the value is
# [txid, count] (transactional) or [txid, curr, prev] (opaque)
counts() {
    redis_cli --raw HGETALL "$HASH" | paste - - |
        python3 -c 'import sys, json
for l in sys.stdin:
    k, v = l.rstrip("\n").split("\t"); print(k, json.loads(v)[1])' | sort
}
# the committed txid (empty while redis-server is down)
committed() { redis_cli GET "$K:committed" 2>/dev/null | grep -E '^[0-9]+$' || true; }
committed_at_least() {
    local c
    c=$(committed)
    [[ -n $c ]] && ((c >= $1))
}
# mid-stream: fail unless some partition has not drained yet
not_drained() {
    [[ $(redis_cli HLEN "$K:drained") -lt 2 ]] ||
        fail "$1: the spout had drained already (make the run slower)"
}
coord_logged() { grep -rqh --include=worker.log "$1" "${LOG_DIRS[@]}" 2>/dev/null; }

start_redis --appendonly yes --appendfsync always
start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port), $(free_port)]"
start_supervisor "$TMP/b" 127.0.0.3 "[$(free_port), $(free_port)]"
wait_joined 2

echo "check: $ENTRY ($KIND) on 3 workers"
jar_held 3 "$JAR" "$ENTRY" "$TMP/corpus.txt" -c topology.workers=3 \
    -c redis.host=127.0.0.1 -c "redis.port=$REDIS_PORT" -c topology.message.timeout.secs=2 \
    -c gale.trident.file.batch.lines=$BATCH_LINES -c topology.trident.batch.emit.interval.millis=60
ID=$JAR_ID

# 1. kill -9 the worker running the coordinator
coord=
for p in $(worker_pids "$ID"); do hosting "$p" '$mastercoord-bg0' && coord=$p; done
[[ -n $coord ]] || fail "no worker hosts \$mastercoord-bg0"
port=$(worker_port "$coord")
wait_for 60 committed_at_least 10 || fail "no 10 commits within 60 s (committed '$(committed)')"
kill -KILL "$coord"
c1=$(committed)
not_drained "the coordinator's kill"
echo "  killed the coordinator's worker (pid $coord) at committed txid $c1"
restarted() {
    local p
    for p in $(worker_pids "$ID"); do
        [[ $p != "$1" && $(worker_port "$p") == "$2" ]] && return 0
    done
    return 1
}
wait_for 30 restarted "$coord" "$port" || fail "the coordinator's worker was not restarted"
wait_for 30 coord_logged "coordinator epoch 2: resuming after committed txid" ||
    fail "the restarted coordinator did not resume with epoch 2"

# 2. once the new coordinator commits again: kill -9 another worker
# (one without the coordinator, spout0's when there is one)
wait_for 60 committed_at_least $((c1 + 10)) || fail "no commits after the coordinator's restart"
victim=
for p in $(worker_pids "$ID"); do
    hosting "$p" '$mastercoord-bg0' && continue
    [[ -z $victim ]] && victim=$p
    hosting "$p" spout0 && victim=$p
done
[[ -n $victim ]] || fail "no second worker to kill"
vport=$(worker_port "$victim")
what=$(worker_executors "$victim")
kill -KILL "$victim"
c2=$(committed)
not_drained "the second kill"
echo "  killed worker pid $victim ($what) at committed txid $c2"
wait_for 30 restarted "$victim" "$vport" || fail "the second worker was not restarted"

# 3. kill -9 redis-server; restart it 3 s later on the same port
wait_for 60 committed_at_least $((c2 + 10)) || fail "no commits after the second kill"
kill_redis
echo "  killed redis-server on port $REDIS_PORT"
# and, during the outage, the coordinator's worker again: its successor
# must open (INCR the epoch) once redis-server is back
coord=
for p in $(worker_pids "$ID"); do hosting "$p" '$mastercoord-bg0' && coord=$p; done
[[ -n $coord ]] || fail "no worker hosts \$mastercoord-bg0 after the restarts"
port=$(worker_port "$coord")
kill -KILL "$coord"
echo "  killed the coordinator's worker (pid $coord) again, redis-server down"
sleep 3 # the outage itself, as the issue asks
restart_redis
wait_for 30 restarted "$coord" "$port" || fail "the coordinator's worker was not restarted again"
wait_for 30 coord_logged "coordinator epoch 3: resuming after committed txid" ||
    fail "the coordinator restarted during the outage did not resume with epoch 3"
c3=$(committed)
not_drained "redis-server's kill"
echo "  restarted redis-server: it kept committed txid $c3 (appendfsync always)"

# 4. drained and committed: the counts are exact
wait_done "$ID" 90
coord_logged "the batch spout is drained and committed through txid" ||
    fail "done, but the coordinator did not log the drain"
last=$(committed)
((last > c3)) || fail "nothing was committed after redis-server came back"
while read -r part at; do
    ((at <= last)) || fail "partition $part drained at txid $at, after the committed $last"
done < <(redis_cli --raw HGETALL "$K:drained" | paste - -)
# a sanitizer build's reports land in the workers' and daemons' logs
if grep -rlE "AddressSanitizer|LeakSanitizer|runtime error:" "${LOG_DIRS[@]}" "$TMP"/*/stdout \
    2>/dev/null; then
    fail "a sanitizer reported an error (the files above)"
fi
counts >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "$KIND: counts in Redis differ from the corpus's exact counts"
g kill "$NAME" -w 1 >/dev/null || fail "kill failed"
wait_gone "$ID"
echo "PASS: $KIND exact after kill -9 of the coordinator's worker (txid $c1), another worker" \
    "(txid $c2), redis-server and the coordinator's worker again (txid $c3); $last batches"
