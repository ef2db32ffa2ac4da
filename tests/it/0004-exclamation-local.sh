#!/usr/bin/env bash
# 0004 — ExclamationTopology in local mode with a file spout and a sink.
#
# Lines go through two plain exclamation bolts that anchor their emits and
# ack explicitly. What must hold: the run finishes by itself
# (--until-done) with exit 0, every input line reaches the sink with
# "!!!!!!" appended (one "!!!" per stage) and nothing else does, and the
# spout reports no failed trees (so the explicit anchoring and acking
# completed every tree).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LIB="$GALE_BUILD/starter/exclamation.so"

# Distinct lines, some with spaces and punctuation, one number-only line.
{
    for i in $(seq 1 500); do echo "line $i: hello, world"; done
    echo "nathan"
    echo "42"
} >"$TMP/in"

echo "run ExclamationTopology over $(wc -l <"$TMP/in") lines"
run_bg 60 "$TMP/log" "$GALE_BIN" local "$LIB" ExclamationTopology "$TMP/in" "$TMP/sink" --until-done
expect_ok "$TMP/log" "the run"

echo "check: every input line is in the sink with !!!!!! appended, and nothing else"
[[ -f "$TMP/sink" ]] || fail "no sink file written"
sed 's/$/!!!!!!/' "$TMP/in" | sort -u >"$TMP/want"
sort -u "$TMP/sink" >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "sink differs from the exclaimed input"

echo "check: the spout's summary shows no failed trees"
summary=$(grep -E ' word emitted=[0-9]+ ' "$TMP/log" | tail -n 1 || true)
[[ -n "$summary" ]] || fail "no summary line for component 'word' in the log"
echo "  $summary"
[[ "$summary" == *"failed(timeout)=0 "* ]] || fail "spout trees timed out"
[[ "$summary" == *"failed(failed)=0 "* ]] || fail "spout trees failed"
[[ "$summary" == *"acked=$(wc -l <"$TMP/in") "* ]] || fail "spout did not ack every line"
echo "PASS"
