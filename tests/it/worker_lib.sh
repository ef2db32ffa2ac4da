# worker_lib.sh — the setup the worker scenario tests (003x-worker-*)
# share, sourced after lib.sh: a corpus and its expected pairs and counts,
# the stormdist and assignment files of WordCountTopology on two loopback
# slots ($P1, $P2) written by prog_worker_fixture, a fake supervisor
# ($SUP) answering heartbeats, and helpers to start workers and wait.
# Extra lines for gale.yaml may be given in WORKER_YAML before sourcing.
LIB="$GALE_BUILD/starter/word_count.so"
FIX="$GALE_BUILD/tests/prog_worker_fixture"
ID=wc-1-1700000000
LINES=${LINES:-5000}

# Every process started here is a group leader (setsid): kill them all.
GROUPS_STARTED=()
cleanup() {
    # TERM first (a failing run then still logs its summaries), then KILL
    for g in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
    sleep 1
    for g in "${GROUPS_STARTED[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "${GALE_KEEP_TMP:-}" ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}

start() { # start LOG CMD...: in its own group, its pid in STARTED
    local log=$1
    shift
    setsid "$@" >"$log" 2>&1 &
    STARTED=$!
    GROUPS_STARTED+=("$STARTED")
}

wait_for() { # wait_for SECS WHAT CMD...: poll CMD until it succeeds
    local secs=$1 what=$2
    shift 2
    local end=$((SECONDS + secs))
    until "$@"; do
        ((SECONDS < end)) || fail "timed out after ${secs}s waiting for $what"
        sleep 0.1
    done
}

free_ports() { # two distinct free tcp ports on loopback
    python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'
}

read -r P1 P2 < <(free_ports)
L="$TMP/local"
G="$TMP/logs"
cat >"$TMP/gale.yaml" <<EOF
gale.local.dir: $L
gale.log.dir: $G
gale.local.hostname: 127.0.0.1
worker.heartbeat.frequency.secs: 1
supervisor.worker.timeout.secs: 3
${WORKER_YAML:-}
EOF

# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/corpus_lib.sh"
make_corpus "$LINES"
: >"$TMP/sink"

echo "== files for $ID on ports $P1 and $P2"
"$FIX" files "$L" "$ID" "$LIB" WordCountTopology sup-1 127.0.0.1 "$P1" "$P2" -- \
    "$TMP/corpus" "$TMP/sink" >"$TMP/fixture.out" 2>&1 || { cat "$TMP/fixture.out"; fail "fixture"; }
for p in "$P1" "$P2"; do
    for c in spout split sink; do
        grep -qE "$c port $p$" "$TMP/fixture.out" || fail "no $c executor on port $p"
    done
done

start "$TMP/sup.out" "$FIX" supervisor "$L"
SUP=$STARTED
wait_for 10 "the fake supervisor" grep -q '^listening' "$TMP/sup.out"

worker() { # worker PORT: start `gale worker` for that slot; pid in STARTED
    start "$TMP/worker-$1.out" "$GALE_BIN" worker --topology-id "$ID" --port "$1" \
        --supervisor-id sup-1 --config "$TMP/gale.yaml"
}
heartbeats_from() { grep -qE "^heartbeat $ID $1 $2 " "$TMP/sup.out"; }


