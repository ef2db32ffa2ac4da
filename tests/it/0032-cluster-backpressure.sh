#!/usr/bin/env bash
# 0032 — backpressure across workers: a sleeping bolt in one worker
# throttles the spout in another, memory stays bounded, nothing is lost.
#
# tests/it/topo_backpressure.c on 2 workers (one per supervisor, so over
# ZeroMQ tcp from 127.0.0.2 to 127.0.0.3), with no ackers (a lost tuple
# stays lost): the spout emits N tuples of BYTES as fast as it is let,
# the bolt sleeps SLEEP_US per tuple (the run takes N * SLEEP_US). With
# B = topology.executor.receive.buffer.bytes, what must hold:
#  - the spout is throttled: it emitted its last tuple only after the
#    bolt had executed seq 3N/4 (what is between them — the sender's
#    lane, the credit window in flight, the bolt's queue and the batch it
#    popped, each bounded by B — is about 4 B / BYTES = 64 tuples, well
#    below N/4 = 100; unthrottled it would be done at once);
#  - each worker's allocation counter (the peak of gale_mem_in_use, in its
#    summary line) stays under 4 B + 8 MiB (queue slots, pool chunks,
#    pending maps), where an unthrottled spout would hold N * BYTES;
#  - nothing is dropped: the bolt saw every seq from 1 to N in order
#    (errors=0, executed=N) and both workers report no transfer drops.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
TOPO="$GALE_BUILD/tests/topo_backpressure.so"
N=400 BYTES=262144 SLEEP_US=10000 B=$((4 << 20))
BOUND=$((4 * B + (8 << 20)))

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.2 "[$(free_port)]"
start_supervisor "$TMP/b" 127.0.0.3 "[$(free_port)]"
wait_joined 2

id=$(g jar "$TOPO" Backpressure "$N" "$BYTES" "$SLEEP_US" -c topology.workers=2 \
    -c topology.acker.executors=0 -c topology.executor.receive.buffer.bytes=$B) ||
    fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_workers "$id" 2
spout="" bolt=""
for p in $(worker_pids "$id"); do
    hosting "$p" source && spout=$p
    hosting "$p" sleeper && bolt=$p
done
[[ -n $spout && -n $bolt && $spout != "$bolt" ]] ||
    fail "the spout and the bolt are not in two workers: $spout, $bolt"
slog=$(worker_log "$spout") blog=$(worker_log "$bolt")
all() { grep -q "executed seq $N\$" "$blog"; }
wait_for $((N * SLEEP_US * 4 / 1000000 + 30)) all || fail "the bolt did not execute seq $N: $(tail -3 "$blog")"
wait_done "$id"
g kill backpressure -w 0 >/dev/null || fail "kill failed"
wait_gone "$id"

echo "check: the spout emitted its last tuple after the bolt executed seq $((3 * N / 4))"
# both logs' lines start with an ISO 8601 UTC time of the same clock
t_last=$(grep -m1 "emitted all $N" "$slog" | cut -d' ' -f1) || true
t_bolt=$(grep -m1 "executed seq $((3 * N / 4))\$" "$blog" | cut -d' ' -f1) || true
[[ -n $t_last && -n $t_bolt ]] || fail "missing log lines: '$t_last' '$t_bolt'"
[[ $t_last > $t_bolt ]] ||
    fail "the spout was done at $t_last, before the bolt reached seq $((3 * N / 4)) at $t_bolt"

echo "check: each worker's allocation peak stays under $BOUND bytes"
for log in "$slog" "$blog"; do
    line=$(grep "summary memory" "$log") || fail "no memory summary in $log"
    peak=${line#* peak=}
    peak=${peak%% *}
    echo "  $(basename "$(dirname "$log")"): peak $peak bytes"
    ((peak <= BOUND)) || fail "allocation peak $peak > $BOUND: $line"
    echo "$line" | grep -q "rx_rejected=0 rx_dropped=0 tx_errors=0" || fail "transfer drops: $line"
done

echo "check: the bolt executed every seq, in order"
grep -q "summary sleeper .* executed=$N .*errors=0 " "$blog" ||
    fail "the bolt lost tuples: $(grep 'summary sleeper' "$blog"; grep -m3 'expected seq' "$blog")"
echo "PASS"
