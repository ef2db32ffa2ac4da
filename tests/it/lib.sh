# lib.sh — the prologue every scenario test shares; source it first.
#
# Gives: $TMP (a fresh temp dir), $PID (set it to a background process
# group leader started with `setsid`), a cleanup trap that kills that
# group and removes $TMP whatever happens, and fail() for a clear message.
set -euo pipefail

: "${GALE_BIN:?set GALE_BIN to the gale binary}"
: "${GALE_BUILD:?set GALE_BUILD to the build directory}"

TMP=$(mktemp -d)
PID=
cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM -- "-$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    # GALE_KEEP_TMP=1 keeps the logs and state for a look (as worker_lib.sh
    # and the benchmarks do)
    if [[ -n ${GALE_KEEP_TMP:-} ]]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap 'cleanup' EXIT
# bash runs no EXIT trap when a signal kills it (ctest's timeout, a
# Ctrl-C): turn those signals into an exit, so the cleanup always runs
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run_bg SECS LOG CMD...: run CMD in its own process group (cleanup kills
# the group if the test dies) with a wall-clock guard of SECS; output to
# LOG; its exit status in RC (124: still running after SECS).
run_bg() {
    local secs=$1 log=$2
    shift 2
    RC=0
    setsid timeout "$secs" "$@" >"$log" 2>&1 &
    PID=$!
    wait "$PID" || RC=$?
    PID=
}

# expect_same WANT GOT MESSAGE: fail showing the first differences unless
# the two files are equal.
expect_same() {
    diff -q "$1" "$2" >/dev/null && return 0
    diff "$1" "$2" | head -n 10 >&2 || true # diff exits 1 (pipefail, set -e): say why first
    fail "$3"
}

# expect_ok LOG WHAT: fail, showing LOG's last lines, unless RC is 0.
expect_ok() {
    [[ $RC -eq 0 ]] && return 0
    tail -n 20 "$1" >&2
    fail "$2: gale local exited $RC (124 = still running at its time limit)"
}
