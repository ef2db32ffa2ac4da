#!/usr/bin/env bash
# 0002 — `gale local` refuses bad input before starting anything.
#
# For each case (missing entry symbol, a text file instead of a library, a
# missing file, a component whose symbol does not exist, a grouping on an
# unknown component, an entry that never calls gale_submit) what must
# hold: a nonzero exit, exactly one line on stderr naming the problem,
# and no "local mode:" line (the runtime never started).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
BAD="$GALE_BUILD/tests/topo_bad.so"

failures=0
# expect_refused TITLE PATTERN ARGS...: PATTERN is an extended regex the
# one stderr line must match.
expect_refused() {
    local title=$1 pattern=$2
    shift 2
    echo "check: $title"
    local rc=0
    # A wrong acceptance would run until the TTL: bound it, in its own group.
    setsid timeout 30 "$GALE_BIN" local "$@" --local-ttl 1 >"$TMP/out" 2>"$TMP/err" &
    PID=$!
    wait "$PID" || rc=$?
    PID=
    local lines
    lines=$(wc -l <"$TMP/err")
    local ok=1
    if [[ $rc -eq 0 ]]; then
        echo "  FAIL: exit 0, expected nonzero" >&2
        ok=0
    fi
    if [[ $lines -ne 1 ]]; then
        echo "  FAIL: $lines lines on stderr, expected exactly 1" >&2
        ok=0
    fi
    if ! grep -Eq -- "$pattern" "$TMP/err"; then
        echo "  FAIL: stderr does not match /$pattern/" >&2
        ok=0
    fi
    if grep -q 'local mode:' "$TMP/out" "$TMP/err"; then
        echo "  FAIL: the topology started (a 'local mode:' line was logged)" >&2
        ok=0
    fi
    if [[ $ok -eq 1 ]]; then
        echo "  ok (exit $rc): $(cat "$TMP/err")"
    else
        sed 's/^/  stderr: /' "$TMP/err" | head -n 20 >&2
        failures=$((failures + 1))
    fi
}

printf 'this is a text file,\nnot a shared library, and long enough to have an ELF header\n' \
    >"$TMP/not-a-library.so"

expect_refused "missing entry symbol" "NoSuchEntry.*not found" "$WC" NoSuchEntry
expect_refused "a text file instead of a library" "not-a-library\\.so.*not a loadable shared library" \
    "$TMP/not-a-library.so" WordCountTopology
expect_refused "a missing file" "no-such-file\\.so.*(No such file|cannot)" \
    "$TMP/no-such-file.so" WordCountTopology
expect_refused "a component whose symbol is missing" "no_such_bolt_symbol.*not found" \
    "$BAD" MissingSymbol
expect_refused "a grouping on an unknown component" "unknown component 'no-such-component'" \
    "$BAD" InvalidGrouping
expect_refused "an entry that never calls gale_submit" "NoSubmit.*gale_submit" "$BAD" NoSubmit
expect_refused "a spout without next_tuple" "no_next_spout.*next_tuple" "$BAD" NoNextTuple
expect_refused "a spout added under a bolt's symbol" "gale_printer_bolt.*not the spout" \
    "$BAD" SymbolMismatch

if [[ $failures -ne 0 ]]; then
    echo "FAIL: $failures case(s) above" >&2
    exit 1
fi
echo "PASS"
