#!/usr/bin/env bash
# 0011 — a file that is both the spout's input and the sink's output.
#
# `WordCountTopology loop.txt loop.txt --until-done` once read its own
# output and reported done with the input rewritten. What must hold: the
# run is refused (nonzero exit, never "done") with a line naming both
# components and the path, the input file is unchanged, and the same file
# reached by another path (./x, a hard link) is caught too (it is the
# (st_dev, st_ino) that counts). `-c file.path=X` retargets every
# component that sets file.path: a warning names the components.
# Missing files end with the real cause, not "input/output error".
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

seq 1 40 | sed 's/^/w /' >"$TMP/loop.txt"
cp "$TMP/loop.txt" "$TMP/want.txt"

echo "check: the same path twice is refused"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/loop.txt" "$TMP/loop.txt" \
    --until-done
[[ $RC -ne 0 && $RC -ne 124 ]] || fail "expected a refusal, got exit $RC: $(tail -3 "$TMP/err")"
grep -q "component 'spout' reads '$TMP/loop.txt' and component 'sink' writes '$TMP/loop.txt'" \
    "$TMP/err" || fail "no line naming both components and the path: $(grep -v INFO "$TMP/err" | tail -3)"
grep -q "stopping (done)" "$TMP/err" && fail "a refused run reported done"
n=$(grep -c "that is the same file" "$TMP/err")
[[ $n -eq 1 ]] || fail "the refusal was logged $n times, want once"
expect_same "$TMP/want.txt" "$TMP/loop.txt" "the input file was changed"

echo "check: another path to the same file (hard link) is refused"
ln "$TMP/loop.txt" "$TMP/link.txt"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/loop.txt" "$TMP/link.txt" \
    --until-done
[[ $RC -ne 0 && $RC -ne 124 ]] || fail "a hard link was not refused: exit $RC"
grep -q "that is the same file" "$TMP/err" || fail "no refusal line for the hard link"
expect_same "$TMP/want.txt" "$TMP/loop.txt" "the input file was changed through the link"

echo "check: -c file.path over a spout and a sink warns and is refused"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/loop.txt" "$TMP/out.txt" \
    --until-done -c file.path="$TMP/loop.txt"
[[ $RC -ne 0 && $RC -ne 124 ]] || fail "-c file.path onto both was not refused: exit $RC"
grep -q "WARN.*-c file.path overrides it in every component: 'spout', 'sink' set it to different" \
    "$TMP/err" || fail "no warning naming the overridden components: $(grep -v INFO "$TMP/err" | tail -3)"
expect_same "$TMP/want.txt" "$TMP/loop.txt" "the input file was changed through -c"

echo "check: different files still run to done"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/loop.txt" "$TMP/out.txt" \
    --until-done
expect_ok "$TMP/err" "distinct input and sink"
[[ $(wc -l <"$TMP/out.txt") -eq 80 ]] || fail "sink has $(wc -l <"$TMP/out.txt") lines, want 80"
grep -q "WARN.*overrides it" "$TMP/err" && fail "a warning without any -c"

echo "check: a missing input or sink directory names the real cause"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/none.txt" --until-done
[[ $RC -eq 1 ]] || fail "missing input: exit $RC, want 1"
grep -q "open failed (no such file" "$TMP/err" || fail "missing input: $(tail -2 "$TMP/err")"
grep -q "input/output error" "$TMP/err" && fail "missing input still says input/output error"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/loop.txt" "$TMP/no/dir.txt" \
    --until-done
[[ $RC -eq 1 ]] || fail "missing sink directory: exit $RC, want 1"
grep -q "prepare failed (no such file" "$TMP/err" || fail "missing sink dir: $(tail -2 "$TMP/err")"
echo "PASS"
