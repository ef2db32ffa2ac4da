#!/usr/bin/env bash
# trident.sh — issue 9's micro-batch benchmark (not a test): builds Gale
# (Release) if needed, writes a Zipf corpus (bench_zipf_corpus: --words
# words over --distinct distinct words), starts a redis-server (no
# persistence) on a free loopback port in a temp dir, runs
# TridentWordCount over the corpus in `gale local --until-done`, then
# `redis-benchmark` pipelined SET on the same server, and prints:
#   words/s end to end: the corpus's words (= the tuples entering
#     persistent_aggregate) over the time from the coordinator's open to
#     its "drained and committed" line (both in the run's log);
#   the settings (lines per batch and spout partition, words per batch,
#     emit interval, batches pending), the batches committed;
#   Redis: keys written/s (HSETs the state's script ran, from INFO
#     commandstats less the 3 bookkeeping HSETs per batch), the other
#     commands per batch (the scripts' own GET/SET/HDEL included) and read
#     events per batch (one large EVALSHA spans several), from INFO deltas;
#   redis-benchmark SET -P --pipeline requests/s and the ratio of the
#   state's keys written/s to it;
# and checks that the counts in Redis sum to the corpus's words with one
# field per distinct word (a fast run that lost words is no result).
#
#   bash bench/trident.sh                          # 20 M words, defaults below
#   bash bench/trident.sh --words 5000000 --batch-lines 5000
#
# --words N        corpus words (default 20000000); --distinct N (100000)
# --batch-lines N  gale.trident.file.batch.lines (default 10000: lines per
#                  batch per spout partition, 10 words a line)
# --interval MS    topology.trident.batch.emit.interval.millis (default 50: the
#                  DRPC stream "words" has a coordinator of its own, which
#                  commits an empty batch every interval; at 0 ms it spins)
# --pending N      topology.max.spout.pending (batches in flight, default 8;
#                  10000 x 8 was the best of the settings tried, RESULTS.md)
# --pipeline N     redis-benchmark -P (default 64); --set-n N its -n (2000000)
# -c key=value     more settings for gale local
# GALE_BUILD_DIR picks the build directory (default: build-release);
# GALE_KEEP_TMP=1 keeps the temp dir (corpus, log, redis log).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

build=${GALE_BUILD_DIR:-build-release}
words=20000000 distinct=100000 lines=10000 interval=50 pending=8 pipeline=64 setn=2000000
extra=()
die() {
    echo "trident.sh: $*" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help)
            bench_usage
            exit 0
            ;;
        --words | --distinct | --batch-lines | --interval | --pending | --pipeline | --set-n)
            [ $# -ge 2 ] || die "$1 needs a value"
            [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a number, not '$2'"
            case "$1" in
                --words) words=$2 ;; --distinct) distinct=$2 ;; --batch-lines) lines=$2 ;;
                --interval) interval=$2 ;; --pending) pending=$2 ;; --pipeline) pipeline=$2 ;;
                --set-n) setn=$2 ;;
            esac
            shift 2
            ;;
        -c)
            [ $# -ge 2 ] || die "-c needs key=value"
            extra+=(-c "$2")
            shift 2
            ;;
        *) die "unknown option '$1' (--help lists them)" ;;
    esac
done
command -v redis-server >/dev/null || die "redis-server is not installed (scripts/deps.sh)"
command -v redis-benchmark >/dev/null || die "redis-benchmark is not installed (redis-tools)"

bench_build "$build" gale_cli trident_word_count bench_zipf_corpus
GALE=$build/bin/gale
STARTER=$build/starter/trident_word_count.so

TMP=$(mktemp -d)
RPID=
cleanup() {
    [[ -n $RPID ]] && kill -KILL "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
    if [[ -n ${GALE_KEEP_TMP:-} ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

echo "corpus: $words words over $distinct distinct (Zipf s=1)"
"$build/bench/bench_zipf_corpus" --words "$words" --distinct "$distinct" >"$TMP/corpus.txt" \
    2>"$TMP/corpus.err" || die "the corpus generator failed: $(cat "$TMP/corpus.err")"
cat "$TMP/corpus.err"
occurring=$(sed -n 's/.* lines, \([0-9]*\) distinct words occur.*/\1/p' "$TMP/corpus.err")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/redis"
redis-server --port "$port" --bind 127.0.0.1 --dir "$TMP/redis" --save '' --appendonly no \
    --daemonize no --logfile "$TMP/redis/redis.log" </dev/null >/dev/null 2>&1 &
RPID=$!
cli() { redis-cli -p "$port" "$@"; }
end=$((SECONDS + 10))
until [[ $(cli ping 2>/dev/null) == PONG ]]; do
    ((SECONDS < end)) || die "redis-server did not answer on port $port"
    sleep 0.05 # polling interval
done
# INFO fields as "name value" lines: stats and every commandstat's calls
info() {
    cli INFO all | tr -d '\r' | sed -n -e 's/^\(total_commands_processed\|total_reads_processed\):\(.*\)/\1 \2/p' \
        -e 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\),.*/\1 \2/p'
}
delta() { # delta NAME: after - before
    local a b
    a=$(awk -v k="$1" '$1 == k { print $2 }' "$TMP/after")
    b=$(awk -v k="$1" '$1 == k { print $2 }' "$TMP/before")
    echo $((${a:-0} - ${b:-0}))
}

info >"$TMP/before"
echo "run: gale local TridentWordCount, batch.lines $lines, interval $interval ms, pending $pending"
t0=$(date +%s.%N)
"$GALE" local "$STARTER" TridentWordCount "$TMP/corpus.txt" -c redis.host=127.0.0.1 \
    -c "redis.port=$port" -c "gale.trident.file.batch.lines=$lines" \
    -c "topology.trident.batch.emit.interval.millis=$interval" \
    -c "topology.max.spout.pending=$pending" "${extra[@]}" --until-done >"$TMP/run.log" 2>&1 ||
    {
        tail -20 "$TMP/run.log" >&2
        die "gale local failed"
    }
t1=$(date +%s.%N)
info >"$TMP/after"

# the coordinator's open and drain, from the log's timestamps
stamp() { grep -m1 "$1" "$TMP/run.log" | awk '{ print $1 }'; }
secs() { python3 -c 'import sys, datetime as d
f = lambda s: d.datetime.strptime(s.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
print("%.3f" % (f(sys.argv[2]) - f(sys.argv[1])).total_seconds())' "$1" "$2"; }
open=$(stamp "coordinator epoch 1: resuming")
drained=$(stamp "the batch spout is drained and committed")
[[ -n $open && -n $drained ]] || die "no open/drain lines in the run's log (see $TMP/run.log)"
el=$(secs "$open" "$drained")
batches=$(cli GET gale:trident:trident-word-count:sentences:committed)

# the result must be right: counts sum to the words, one field per word
sum=$(cli --raw HVALS trident-word-count:counts | python3 -c 'import sys, json
print(sum(json.loads(l)[1] for l in sys.stdin if l.strip()))')
fields=$(cli HLEN trident-word-count:counts)
[[ $sum == "$words" && $fields == "$occurring" ]] ||
    die "wrong result: counts sum $sum (want $words), $fields fields (want $occurring)"

# HSETs: the state's script's, plus 3 per batch of bookkeeping (each
# spout partition's batch record, the coordinator's attempt)
keys=$(($(delta hset) - 3 * batches))
cmds=$(delta total_commands_processed)
reads=$(delta total_reads_processed)
evalsha=$(delta evalsha)

echo "redis-benchmark: SET -P $pipeline -n $setn on the same server"
setps=$(redis-benchmark -p "$port" -t set -n "$setn" -P "$pipeline" -r "$distinct" -q 2>/dev/null |
    tr '\r' '\n' | sed -n 's/^SET: \([0-9.]*\) requests per second.*/\1/p' | tail -1)

python3 - "$words" "$el" "$batches" "$lines" "$interval" "$pending" "$keys" "$cmds" "$reads" \
    "$evalsha" "$setps" "$pipeline" "$t0" "$t1" "$occurring" <<'PY'
import sys
(words, el, batches, lines, interval, pending, keys, cmds, reads, evalsha, setps, pipe, t0, t1,
 occ) = sys.argv[1:]
words, el, batches = int(words), float(el), int(batches)
keys, cmds, reads, evalsha, setps = int(keys), int(cmds), int(reads), int(evalsha), float(setps or 0)
wps = words / el
kps = keys / el
cmds -= keys  # less the state's HSETs (its epoch GETs, the commit's SET/HDEL stay in)
print("RESULT bench=trident words=%d distinct=%s secs=%.3f words_per_s=%.0f batches=%d "
      "words_per_batch=%d batch_lines=%s interval_ms=%s pending=%s keys_written=%d "
      "keys_per_s=%.0f commands_per_batch=%.1f reads_per_batch=%.1f evalsha=%d "
      "redis_set_p%s_per_s=%.0f wall_secs=%.2f" % (
          words, occ, el, wps, batches, 2 * int(lines) * 10, lines, interval, pending, keys,
          kps, cmds / max(batches, 1), reads / max(batches, 1), evalsha, pipe, setps,
          float(t1) - float(t0)))
print("  %.0f words/s end to end (floor 1 M: %s); %d batches committed (the last few "
      "empty), %d words each (%s lines x 10 words x 2 partitions), interval %s ms, %s pending" % (
          wps, "met" if wps >= 1e6 else "NOT met", batches, 2 * int(lines) * 10, lines,
          interval, pending))
print("  redis: %.0f keys written/s, %.1f commands (HSETs of the state aside) and %.1f read events per batch; "
      "redis-benchmark SET -P %s: %.0f/s; state keys/s : SET/s = %.3f" % (
          kps, cmds / max(batches, 1), reads / max(batches, 1), pipe, setps,
          kps / setps if setps else 0))
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
