#!/usr/bin/env bash
# 0052 — the README's demo command (scripts/demo.sh, with the build as it
# is: --no-build) runs the cluster walk-through.
#
# What must hold: it exits 0; its output shows each command it ran
# (`+ gale nimbus`, `supervisor`, `ui`, `jar`, `list`, `logs`, `kill`), the
# web UI's URL, the topology id gale jar printed, `gale list` with the
# topology ACTIVE on 3 workers, and counter lines read through `gale logs`
# (host:port prefixed); afterwards no daemon or worker of it is left. Stopped by a
# SIGTERM half way, it exits 143 and leaves nothing running either.
# Every process of the demo names its directory on its command line: the
# trap kills what a failed run left.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
: "${GALE_SRC:?set GALE_SRC to the source directory}"
DEMO=$TMP/demo

leftovers() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        [[ $pid == "$$" ]] && continue
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$DEMO/" && echo "$pid"
    done
    return 0
}
demo_cleanup() {
    local p
    for p in $(leftovers); do kill -KILL "$p" 2>/dev/null || true; done
    cleanup
}
trap 'demo_cleanup' EXIT
# wait_for SECS CMD...: poll CMD until it succeeds (as in cluster_lib.sh)
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.1
    done
}
DEMO_ENV=(env GALE_DEMO_DIR="$DEMO" GALE_DEMO_BUILD="$GALE_BUILD")

echo "check: the demo runs the walk-through, shows what it ran, and leaves nothing"
run_bg 100 "$TMP/out" "${DEMO_ENV[@]}" GALE_DEMO_SECS=1 bash "$GALE_SRC/scripts/demo.sh" --no-build
[[ $RC -eq 0 ]] || {
    tail -n 20 "$TMP/out" >&2
    fail "the demo exited $RC"
}
for verb in nimbus supervisor ui jar list logs kill; do
    grep -q "^+ gale $verb " "$TMP/out" || fail "the demo did not show '+ gale $verb ...'"
done
grep -Eq '^demo: the web UI is at http://127\.0\.0\.1:[0-9]+/ ' "$TMP/out" || fail "the demo did not print the UI's URL"
grep -Eq '^word-count-[0-9]+-[0-9]+$' "$TMP/out" || fail "no topology id in the output"
id=$(grep -E '^word-count-[0-9]+-[0-9]+$' "$TMP/out")
grep -Eq "^word-count +ACTIVE +[0-9a-z]+ +3 .* $id$" "$TMP/out" || fail "no list line with $id ACTIVE on 3 workers"
grep -Eq '^127\.0\.0\.1:[0-9]+ .* count:[0-9]+ top words: ' "$TMP/out" || fail "no counts read through gale logs"
[[ -z $(leftovers) ]] || fail "left running after the demo: $(ps -o pid=,args= -p "$(leftovers | paste -sd,)")"

echo "check: a SIGTERM half way stops the demo and everything it started"
rm -rf "$DEMO"
setsid "${DEMO_ENV[@]}" GALE_DEMO_SECS=60 bash "$GALE_SRC/scripts/demo.sh" --no-build >"$TMP/out2" 2>&1 &
PID=$!
counting() { grep -q "let it count" "$TMP/out2"; }
wait_for 60 counting || fail "the demo did not get to its topology running: $(tail -5 "$TMP/out2")"
kill -TERM "$PID"
RC=0
wait "$PID" || RC=$?
PID=
[[ $RC -eq 143 ]] || fail "the demo exited $RC on SIGTERM, not 143: $(tail -5 "$TMP/out2")"
[[ -z $(leftovers) ]] || fail "left running after SIGTERM: $(ps -o pid=,args= -p "$(leftovers | paste -sd,)")"
echo "PASS"
