#!/usr/bin/env bash
# 0013 — what a new user types wrong in local mode gets a line that helps.
#
# From a first-use review: an unknown -c key of Gale's only warned and the
# run went on; `gale -c k=v local ...` suggested the verb 'local';
# `--ttl` suggested '--help'; `-cKEY=V` was refused; `gale help local`
# printed the general help; a starter ignored extra arguments; and the
# summary printed 0.0 for latencies that were never measured. What must
# hold for each is checked below.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
EX="$GALE_BUILD/starter/exclamation.so"
seq 1 10 | sed 's/^/w /' >"$TMP/in.txt"

echo "check: an unknown -c key in Gale's namespaces is a usage error"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/in.txt" --until-done \
    -c topology.wrkers=2
[[ $RC -eq 2 ]] || fail "unknown -c key: exit $RC, want 2"
grep -q "unknown key 'topology.wrkers' (did you mean 'topology.workers'?)" "$TMP/err" ||
    fail "unknown -c key: $(cat "$TMP/err")"
grep -q "local mode:" "$TMP/err" && fail "unknown -c key: the topology ran"

echo "check: a user key and spaces around '=' are fine"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/in.txt" --until-done \
    -c my.own.key=1 -c "topology.max.spout.pending = 7"
expect_ok "$TMP/err" "a user key and a spaced -c"
grep -q "unknown key" "$TMP/err" && fail "spaced -c: $(grep "unknown key" "$TMP/err")"

echo "check: -cKEY=VALUE (attached) is accepted"
run_bg 30 "$TMP/err" "$GALE_BIN" local -ctopology.max.spout.pending=7 "$WC" WordCountTopology \
    "$TMP/in.txt" --until-done
expect_ok "$TMP/err" "-cKEY=VALUE"

echo "check: options before the verb say where they go"
for opt in "-c k=v" "--local-ttl 1"; do
    # shellcheck disable=SC2086 # split on purpose: option and value
    run_bg 30 "$TMP/err" "$GALE_BIN" $opt local "$WC" WordCountTopology
    [[ $RC -eq 2 ]] || fail "'$opt' before the verb: exit $RC, want 2"
    grep -q "options go after the command: gale local ${opt% *}" "$TMP/err" ||
        fail "'$opt' before the verb: $(cat "$TMP/err")"
    grep -q "did you mean 'local'" "$TMP/err" && fail "'$opt' before the verb suggests 'local'"
done
run_bg 30 "$TMP/err" "$GALE_BIN" -c nimbus.port=1 list
grep -q "options go after the command: gale list -c ... (see 'gale list --help')" "$TMP/err" ||
    fail "'-c' before 'list' names another verb: $(cat "$TMP/err")"

echo "check: --ttl suggests --local-ttl"
run_bg 30 "$TMP/err" "$GALE_BIN" local --ttl 2 "$WC" WordCountTopology
[[ $RC -eq 2 ]] || fail "--ttl: exit $RC, want 2"
grep -q "unknown option '--ttl' (did you mean '--local-ttl'?)" "$TMP/err" ||
    fail "--ttl: $(cat "$TMP/err")"

echo "check: gale help local prints local's help"
run_bg 30 "$TMP/out" "$GALE_BIN" help local
expect_ok "$TMP/out" "gale help local"
grep -q "^usage: gale local " "$TMP/out" || fail "gale help local: $(head -2 "$TMP/out")"
grep -q -- "--until-done" "$TMP/out" || fail "gale help local does not list --until-done"

echo "check: the starters refuse extra arguments"
for s in "$WC WordCountTopology" "$EX ExclamationTopology"; do
    entry=${s#* }
    # shellcheck disable=SC2086 # split on purpose: library and entry
    run_bg 30 "$TMP/err" "$GALE_BIN" local $s "$TMP/in.txt" "$TMP/s.txt" extra --local-ttl 5
    [[ $RC -ne 0 && $RC -ne 124 ]] || fail "$entry with an extra argument: exit $RC"
    grep -q "$entry: takes \[input-file \[sink-file\]\], got 3 arguments (the third is 'extra')" \
        "$TMP/err" || fail "$entry with an extra argument: $(cat "$TMP/err")"
    grep -q "returned -1 without calling gale_submit" "$TMP/err" ||
        fail "$entry: no line saying it did not submit: $(cat "$TMP/err")"
    grep -q "see its own messages" "$TMP/err" && fail "$entry: still points at messages above"
    [[ -e "$TMP/s.txt" ]] && fail "$entry with an extra argument ran"
done

echo "check: latencies without samples are n/a"
: >"$TMP/empty.txt"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/empty.txt" --until-done
expect_ok "$TMP/err" "an empty input"
grep -q " spout emitted=0 .* complete_ms=n/a " "$TMP/err" || fail "empty input: complete_ms not n/a"
grep -q " split emitted=0 .* execute_us=n/a process_us=n/a " "$TMP/err" ||
    fail "empty input: execute_us/process_us not n/a"
grep -q "_us=0.0 \|_ms=0.00 " "$TMP/err" && fail "a latency without samples printed as 0"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/in.txt" --until-done \
    -c topology.stats.sample.rate=1 # every tree timed
expect_ok "$TMP/err" "a small input"
grep -qE " spout emitted=10 .* complete_ms=[0-9]+\.[0-9]{2} " "$TMP/err" ||
    fail "acked trees but no complete_ms figure"
echo "PASS"
