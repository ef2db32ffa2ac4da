#!/usr/bin/env bash
# 0009 — gale's options are parsed strictly.
#
# A typo (`--until-dne`) once became the sink file's name and the run
# "succeeded" after the full TTL; a trailing `--local-ttl` or `-c` went to
# the entry as an argument. What must hold, for each bad command line:
# exit 2 before anything starts, exactly one line on stderr naming the
# option (and for a typo the nearest known option and `--`), and no file
# created from the bad argument (--until-done on a topology that can never
# be done is refused the same way). Then: options written before the library
# (as Storm users do) work, `--` passes an option-like argument to the
# entry, --help goes to stdout with exit 0, and entries that go wrong
# (a data symbol, two submits, a deliberate refusal) are told apart.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
printf 'a b\nb c\n' >"$TMP/in.txt"
cd "$TMP"

failures=0
# expect_usage TITLE PATTERN ARGS...: exit 2 and one stderr line matching PATTERN.
expect_usage() {
    local title=$1 pattern=$2
    shift 2
    echo "check: $title"
    run_bg 30 "$TMP/err" "$GALE_BIN" local "$@"
    local ok=1 lines
    lines=$(wc -l <"$TMP/err")
    [[ $RC -eq 2 ]] || { echo "  FAIL: exit $RC, expected 2" >&2; ok=0; }
    [[ $lines -eq 1 ]] || { echo "  FAIL: $lines lines of output, expected 1" >&2; ok=0; }
    grep -Eq -- "$pattern" "$TMP/err" || { echo "  FAIL: output does not match /$pattern/" >&2; ok=0; }
    if grep -q 'local mode:' "$TMP/err"; then
        echo "  FAIL: the topology started" >&2
        ok=0
    fi
    if [[ $ok -eq 1 ]]; then
        echo "  ok: $(cat "$TMP/err")"
    else
        sed 's/^/  output: /' "$TMP/err" | head -n 10 >&2
        failures=$((failures + 1))
    fi
}

expect_usage "a typo after the arguments" \
    "unknown option '--until-dne' \(did you mean '--until-done'\?\).*after '--'" \
    "$WC" WordCountTopology in.txt --until-dne
[[ ! -e "$TMP/--until-dne" ]] || { echo "  FAIL: a file named --until-dne was created" >&2; failures=$((failures + 1)); }
expect_usage "a typo before the library" "unknown option '--local-tt'.*'--local-ttl'" \
    --local-tt 3 "$WC" WordCountTopology in.txt
expect_usage "a trailing --local-ttl" "'--local-ttl' needs a value" \
    "$WC" WordCountTopology in.txt --local-ttl
expect_usage "a trailing -c" "'-c' needs a value" "$WC" WordCountTopology in.txt -c
expect_usage "a trailing --config" "'--config' needs a value" "$WC" WordCountTopology --config
expect_usage "an option as another's value" "'--config' needs a value" \
    --config --until-done "$WC" WordCountTopology in.txt
expect_usage "a flag with a value" "'--until-done' takes no value" \
    "$WC" WordCountTopology in.txt --until-done=yes
expect_usage "a bad --local-ttl" "--local-ttl 'soon'" "$WC" WordCountTopology --local-ttl soon
expect_usage "no entry function" "expected <topology.so> <EntryFunction>" "$WC"
expect_usage "--until-done without a finite spout" "no spout of topology 'word-count' is finite" \
    "$WC" WordCountTopology --until-done --local-ttl 5

echo "check: entry functions that go wrong are told apart"
ENTRY="$GALE_BUILD/tests/topo_entry.so"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$ENTRY" NotAFunction --local-ttl 1
[[ $RC -eq 1 ]] || fail "a data symbol as entry: exit $RC, expected 1: $(tail -3 "$TMP/err")"
grep -q "'NotAFunction' in '.*' is a data symbol (a variable), not a function" "$TMP/err" ||
    fail "a data symbol as entry: $(cat "$TMP/err")"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$ENTRY" SubmitTwice --local-ttl 1
[[ $RC -eq 1 ]] || fail "submitting twice: exit $RC, expected 1"
grep -q "called gale_submit 2 times" "$TMP/err" || fail "submitting twice: $(cat "$TMP/err")"
grep -q "local mode:" "$TMP/err" && fail "submitting twice started the first topology"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$ENTRY" NeedsArgs --local-ttl 1
[[ $RC -eq 1 ]] || fail "an entry refusing its arguments: exit $RC, expected 1"
grep -q "returned 2 without calling gale_submit: nothing was started" "$TMP/err" ||
    fail "an entry refusing its arguments: $(cat "$TMP/err")"
grep -q "must submit exactly one" "$TMP/err" && fail "a deliberate refusal was called a missing submit"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$ENTRY" NoSuchEntry --local-ttl 1
grep -q 'extern "C"' "$TMP/err" && grep -q -- "-fvisibility=hidden" "$TMP/err" ||
    fail "a missing entry gives no hint at extern \"C\" and -fvisibility=hidden: $(cat "$TMP/err")"

echo "check: options before the library, as in Storm"
run_bg 60 "$TMP/err" "$GALE_BIN" local --until-done -c topology.workers=1 --local-ttl 30 \
    "$WC" WordCountTopology in.txt sink.txt
expect_ok "$TMP/err" "options first"
[[ $(wc -l <sink.txt) -eq 4 ]] || fail "expected 4 words in the sink, got $(wc -l <sink.txt)"

echo "check: -- passes option-like arguments to the entry"
run_bg 30 "$TMP/err" "$GALE_BIN" local --until-done "$WC" WordCountTopology -- --not-an-option
[[ $RC -ne 0 && $RC -ne 2 ]] || fail "expected the entry's failure on file '--not-an-option', got exit $RC"
grep -q -- "/--not-an-option'" "$TMP/err" || fail "the entry did not get '--not-an-option': $(tail -3 "$TMP/err")"

echo "check: --help on stdout, exit 0, everywhere"
for args in "local --help" "local $WC -h" "conf --help" "--help" "version --help"; do
    # shellcheck disable=SC2086
    rc=0; "$GALE_BIN" $args >"$TMP/out" 2>"$TMP/err" || rc=$?
    [[ $rc -eq 0 && -s "$TMP/out" && ! -s "$TMP/err" ]] ||
        fail "gale $args: exit $rc, stdout $(wc -c <"$TMP/out") bytes, stderr: $(cat "$TMP/err")"
done
echo "check: usage errors exit 2 everywhere"
for args in "conf" "conf --lst" "version extra" "no-such-verb" ""; do
    # shellcheck disable=SC2086
    rc=0; "$GALE_BIN" $args >"$TMP/out" 2>"$TMP/err" || rc=$?
    [[ $rc -eq 2 && -s "$TMP/err" ]] || fail "gale $args: exit $rc, expected 2 with a message"
done

if [[ $failures -ne 0 ]]; then
    echo "FAIL: $failures case(s) above" >&2
    exit 1
fi
echo "PASS"
