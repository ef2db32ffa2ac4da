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
    rm -rf "$TMP"
}
trap 'cleanup' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
