#!/usr/bin/env bash
# 0041 — a supervisor's link cut mid-run (`ip link set eth0 down` in its
# namespace; tests/it/netns_lib.sh): nimbus and the CLI in a hub
# namespace, supervisors a and b in their own, 3 slots each.
#
# What happens, as in Storm: supervisor a can no longer reach nimbus, but
# its workers still reach a (local IPC) and so keep running — a cannot
# tell a cut link from a nimbus that is down, when workers must run on —
# even with supervisor.worker.timeout.secs=1, the heartbeat period.
# Nimbus (nimbus.supervisor.timeout.secs=2) gives a's executors to b; the
# tuples in flight to or from a's workers are lost and replayed by the
# spouts (topology.message.timeout.secs=3). When the link is back, a
# hears the new assignment and stops the workers no longer its own.
#
# What must hold: with WordCount (reliable file spout over 50 000 lines,
# file sink, 3 workers on both supervisors, topology.max.spout.pending=4
# so the run is still going when the link goes down), after the cut all
# 3 slots are on b and no assignment names a's address, nimbus says once
# per slot why it moved it, and a's workers still run (the same pids
# until the link is back: none exited or was restarted); once `gale list`
# says DONE the sink holds every (line_no, word_idx) of the corpus and
# tr's counts (a's workers may have written duplicates: allowed, losses
# are not); with the link back a stops its workers; `gale kill -w 1`
# leaves nothing. Without `ip netns` it skips (77).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
# shellcheck source=tests/it/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

netns_setup a b
netns_nimbus "$TMP/nimbus" -c nimbus.supervisor.timeout.secs=2
quick=(-c supervisor.worker.timeout.secs=1)
netns_supervisor a "$TMP/a" "[6700, 6701, 6702]" "${quick[@]}"
SUP_A=$SUP_PID
netns_supervisor b "$TMP/b" "[6700, 6701, 6702]" "${quick[@]}"
SUP_B=$SUP_PID
joined() { [[ $(grep -c "joined" "$TMP/nimbus/logs/nimbus.log") -ge 2 ]]; }
wait_for 20 joined || fail "both supervisors did not join: $(tail -3 "$TMP"/*/logs/supervisor.log)"
sup_a=$(cat "$TMP/a/local/supervisor/id")

make_corpus 50000
id=$(g jar "$WC" WordCountTopology "$TMP/corpus" "$TMP/sink" -c topology.workers=3 \
    -c topology.max.spout.pending=4 -c topology.message.timeout.secs=3) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
# a's workers: what runs in its namespace besides the supervisor
in_a() { ip netns pids "$NETNS_TAG-a" | grep -vx "$SUP_A" | sort || true; }
slots_of() { # slots_of NAME: the ports of ID's worker dirs with an assignment on NAME
    local d
    for d in "$TMP/$1/local/workers/$id"-*; do [[ -f $d/assignment ]] && echo "${d##*-}"; done
    return 0
}
# cut as soon as the run is under way, checking only what is cheap first:
# the run must still be going when the link goes down
sinking() { [[ -s "$TMP/sink" ]] && (($(wc -l <"$TMP/sink") >= 5000)); }
wait_for 60 sinking || fail "the sink did not grow: $(wc -l <"$TMP/sink" 2>/dev/null)"
done_() { g list word-count | awk -v id="$id" '$NF == id && $(NF - 1) == "yes" { ok = 1 } END { exit !ok }'; }
done_ && fail "done before the cut: nothing to test (raise the corpus or lower max.spout.pending)"
a_slots=$(slots_of a)
b_slots=$(slots_of b)

echo "check: with a's link cut, its work moves to b"
netns_cut a
[[ -n $a_slots && -n $b_slots && $(echo "$a_slots $b_slots" | wc -w) -eq 3 ]] ||
    fail "not 3 workers on both supervisors: a '$a_slots', b '$b_slots'"
cut_pids=$(in_a)
[[ $(echo "$cut_pids" | wc -w) -eq $(echo "$a_slots" | wc -w) ]] ||
    fail "a runs '$cut_pids', not one worker per slot of '$a_slots'"
on_b() {
    local f n=0
    for f in "$TMP"/b/local/workers/"$id"-*/assignment; do
        [[ -f $f ]] || return 1
        grep -aq "${NETNS_ADDR[a]}" "$f" && return 1
        n=$((n + 1))
    done
    ((n == 3))
}
wait_for 30 on_b || fail "a's work did not move to b: $(ls "$TMP/b/local/workers")"
for port in $a_slots; do
    n=$(grep -c "moving the executors of $sup_a:$port: its supervisor stopped heartbeating" \
        "$TMP/nimbus/logs/nimbus.log" || true)
    ((n == 1)) || fail "nimbus said $n times (want once) why it moved $sup_a:$port"
done
[[ "$(in_a)" == "$cut_pids" ]] || fail "a's workers did not run on: '$cut_pids' -> '$(in_a)'"

echo "check: once done, the sink holds every word of the corpus"
wait_for 90 done_ || fail "not done: $(g list); $(wc -l <"$TMP/sink") sink lines"
check_sink "$TMP/sink"

[[ "$(in_a)" == "$cut_pids" ]] || fail "a's workers did not run on: '$cut_pids' -> '$(in_a)'"

echo "check: with the link back, a stops the workers no longer its own"
netns_heal a
none_in_a() { [[ -z "$(in_a)" ]]; }
wait_for 30 none_in_a || fail "a's workers still run: $(in_a)"
grep -q "stopping worker $id:" "$TMP/a/logs/supervisor.log" || fail "a did not say it stopped them"

echo "check: kill -w 1 leaves no worker and an empty list"
g kill word-count -w 1 >/dev/null || fail "kill failed"
gone() {
    [[ -z "$(worker_pids "$id")" ]] && g list | grep -q "No topologies running" &&
        netns_holds_only a "$SUP_A" && netns_holds_only b "$SUP_B"
}
wait_for 30 gone || fail "after kill: workers '$(worker_pids "$id")', list '$(g list)'"
echo "PASS"
