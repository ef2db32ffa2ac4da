#!/usr/bin/env bash
# 0010 — the file spout loses nothing and stays bounded.
#
# Each file spout task reads the whole file and keeps every n-th line, so
# a pipe was drained by the first task while the run reported "done" with
# lines missing, and a line without end grew memory without bound. What
# must hold: a pipe given to a spout with several tasks is read whole by
# its first task and counted in full (one line in the log says so); a
# missing file is said once, not once per task; CRLF
# line ends are stripped and a last line without newline counts; a line
# over gale.file.max.line.bytes stops the run with an error naming the
# file and the line number while the peak RSS stays far below the line;
# and a run that ends before the first tick still shows the counts.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
EX="$GALE_BUILD/starter/exclamation.so"

seq 1 300 | sed 's/^/w/; s/$/ x y/' >"$TMP/in.txt" # 300 lines, 900 words

echo "check: a pipe into a spout with 10 tasks is read whole by one of them"
: >"$TMP/sink"
run_bg 60 "$TMP/err" bash -c "exec \"\$0\" local \"\$1\" ExclamationTopology <(cat \"\$2\") \"\$3\" --until-done" \
    "$GALE_BIN" "$EX" "$TMP/in.txt" "$TMP/sink"
expect_ok "$TMP/err" "pipe into ExclamationTopology"
got=$(sort -u "$TMP/sink" | wc -l)
[[ $got -eq 300 ]] || fail "expected all 300 lines of the pipe in the sink, got $got"
[[ $(grep -c "is not a regular file (a pipe, FIFO or device): it can be read only once, so this task reads every line and the other 9 tasks of 'word' have none" "$TMP/err") -eq 1 ]] ||
    fail "not one line saying which task reads the pipe: $(grep -c 'regular file' "$TMP/err")"

echo "check: a missing input is said once, not once per task"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$EX" ExclamationTopology "$TMP/missing.txt" --until-done
[[ $RC -ne 0 && $RC -ne 124 ]] || fail "expected a refusal, got exit $RC"
[[ $(grep -c "cannot open file.path '$TMP/missing.txt'" "$TMP/err") -eq 1 ]] ||
    fail "the missing file is not said exactly once: $(grep -c 'cannot open' "$TMP/err")"

echo "check: WordCount opening a FIFO nobody writes says so while it waits, then exits 4"
mkfifo "$TMP/fifo"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/fifo" --local-ttl 8
[[ $RC -eq 4 ]] || fail "expected exit 4 (stuck in open), got $RC: $(tail -3 "$TMP/err")"
grep -q "opening: component 'spout' task [0-9]* is still in open (for [0-9]* s)" "$TMP/err" ||
    fail "no progress line while opening: $(head -5 "$TMP/err")"
grep -q "stopping (ttl while opening) before every component opened" "$TMP/err" ||
    fail "the stop line does not say it never opened: $(grep stopping "$TMP/err")"
grep -q "emitted=" "$TMP/err" && fail "a summary of a topology that never ran"

echo "check: a pipe into WordCount is counted in full"
: >"$TMP/sink"
run_bg 60 "$TMP/err" bash -c "exec \"\$0\" local \"\$1\" WordCountTopology <(cat \"\$2\") \"\$3\" --until-done" \
    "$GALE_BIN" "$WC" "$TMP/in.txt" "$TMP/sink"
expect_ok "$TMP/err" "pipe into WordCount"
got=$(awk '{ print $1, $2 }' "$TMP/sink" | sort -u | wc -l)
[[ $got -eq 900 ]] || fail "expected all 900 words of the pipe in the sink, got $got"

echo "check: a slowly fed pipe, ticks every second to every bolt: all counted, ticks ignored"
: >"$TMP/sink"
run_bg 60 "$TMP/err" bash -c "exec \"\$0\" local \"\$1\" WordCountTopology \
    <(for i in 1 2 3 4 5 6 7 8; do echo \"w\$i x y\"; sleep 0.3; done) \"\$2\" --until-done \
    -c topology.tick.tuple.freq.secs=1" "$GALE_BIN" "$WC" "$TMP/sink"
expect_ok "$TMP/err" "slow pipe with ticks"
got=$(awk '{ print $1, $2 }' "$TMP/sink" | sort -u | wc -l)
[[ $got -eq 24 ]] || fail "expected the 24 words of the slow pipe in the sink, got $got"
grep -q "__system" "$TMP/err" && fail "a bolt took a tick for data: $(grep -m1 __system "$TMP/err")"
grep -q "ticks=[1-9]" "$TMP/err" || fail "no bolt counted a tick: the check saw none"
grep -qE " spout emitted=8 \([0-9.]+/s\) transferred=8 acked=8 \([0-9.]+/s\) " "$TMP/err" ||
    fail "the summary of a 2 s run shows no rates: $(grep ' spout emitted=' "$TMP/err")"
grep -qE " __acker emitted=0 executed=[1-9][0-9]* \([0-9.]+/s\) acked=8 \([0-9.]+/s\) failed=0 " "$TMP/err" ||
    fail "the acker's summary does not count the 8 trees: $(grep ' __acker emitted=' "$TMP/err")"

echo "check: CRLF line ends and a last line without newline"
printf 'a b\r\nc\r\nd e' >"$TMP/crlf.txt"
: >"$TMP/sink"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/crlf.txt" "$TMP/sink" --until-done
expect_ok "$TMP/err" "CRLF file"
LC_ALL=C grep -q $'\r' "$TMP/sink" && fail "a carriage return reached the sink"
printf '1 0 a\n1 1 b\n2 0 c\n3 0 d\n3 1 e\n' >"$TMP/want"
sort "$TMP/sink" >"$TMP/got"
expect_same "$TMP/want" "$TMP/got" "CRLF file: the sink's words differ"

echo "check: the counts are visible at the end of a run that ends before any tick"
printf 'the cat\nthe dog\nthe end\n' >"$TMP/small.txt"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/small.txt" --until-done
expect_ok "$TMP/err" "small file"
grep -q " count top words (all tasks): the=3 cat=1 dog=1 end=1$" "$TMP/err" ||
    fail "no merged top words in the summary: $(grep -i 'top words' "$TMP/err" | tail -3)"
grep -q "final top words: the=3" "$TMP/err" || fail "the counter task of 'the' logged no final top words"
grep -q "(none yet)" "$TMP/err" && fail "a counter task with no words logged '(none yet)'"
grep -qE " spout emitted=3 transferred=3 acked=3 " "$TMP/err" ||
    fail "a run under 1 s shows rates, or wrong counts: $(grep ' spout emitted=' "$TMP/err")"
grep -qE "summary of a 0\.[0-9]+ s run \(then [0-9.]+ s to stop; too short for rates per second\):$" "$TMP/err" ||
    fail "no summary line saying the run was too short for rates"

echo "check: a sink whose directory is missing says so"
run_bg 30 "$TMP/err" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/in.txt" "$TMP/no/such/dir/sink" \
    --until-done
[[ $RC -eq 1 ]] || fail "a sink in a missing directory: exit $RC, expected 1"
grep -q "its directory '$TMP/no/such/dir' does not exist: create it first" "$TMP/err" ||
    fail "no line naming the missing directory: $(grep -v INFO "$TMP/err" | tail -3)"

echo "check: a line over the limit fails with the file and line, memory bounded"
printf 'a b\nc\n' >"$TMP/long.txt"
truncate -s 256M "$TMP/long.txt" # line 3: 256 MiB of NULs, no newline (sparse)
# peak RSS of the run (KiB) from the kernel's accounting of the child
python3 - "$TMP/err" "$TMP/rss" "$GALE_BIN" local "$WC" WordCountTopology "$TMP/long.txt" \
    --until-done --local-ttl 60 -c gale.file.max.line.bytes=65536 <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "w") as log:
    rc = subprocess.call(sys.argv[3:], stdout=log, stderr=log, timeout=90)
with open(sys.argv[2], "w") as out:
    out.write("%d %d\n" % (rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
read -r rc rss <"$TMP/rss"
[[ $rc -ne 0 ]] || fail "a line over the limit exited 0"
[[ $rc -ne 3 ]] || fail "exit 3: the run waited for its TTL instead of stopping at the error"
grep -q "line 3 of '$TMP/long.txt' is longer than gale.file.max.line.bytes = 65536 bytes" "$TMP/err" ||
    fail "no error naming the file and line 3: $(grep -v INFO "$TMP/err" | tail -3)"
grep -q "stopping (done)" "$TMP/err" && fail "reported done with a line unread"
echo "  peak RSS ${rss} KiB for a 256 MiB line"
[[ $rss -lt 200000 ]] || fail "peak RSS ${rss} KiB: the line was read into memory"
echo "PASS"
