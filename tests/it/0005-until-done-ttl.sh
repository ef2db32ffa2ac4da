#!/usr/bin/env bash
# 0005 — `--until-done` with an explicit `--local-ttl` that cannot finish.
#
# WordCount reads a small file into a sink that fails every write
# (/dev/full), so no line is ever acked and the file spout replays them.
# What must hold: the run stops at the TTL with exit code 3 and an error
# line saying it was not done; replays back off and errors are
# rate-limited, so the log stays small (it once logged ~90k lines a
# second).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
LIB="$GALE_BUILD/starter/word_count.so"

seq 1 50 | sed 's/^/w /' >"$TMP/in.txt"
echo "check: stops at --local-ttl with exit 3"
run_bg 60 "$TMP/err" "$GALE_BIN" local "$LIB" WordCountTopology "$TMP/in.txt" /dev/full \
    --until-done --local-ttl 3
rc=$RC
[[ $rc -eq 3 ]] || fail "expected exit 3, got $rc (last lines: $(tail -3 "$TMP/err"))"
grep -q "before every spout was done" "$TMP/err" || fail "no 'not done' error line"
echo "check: the log stays small"
lines=$(wc -l <"$TMP/err")
[[ $lines -lt 400 ]] || fail "$lines log lines in 3 s: replays or errors are not rate-limited"
echo "PASS ($lines log lines)"
