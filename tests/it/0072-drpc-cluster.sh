#!/usr/bin/env bash
# 0072 — DRPC in the cluster: `gale drpc-server` on ephemeral ports,
# nimbus and one supervisor on loopback, BasicDRPCTopology submitted with
# `gale jar` (the DRPC ports given with -c reach the workers through the
# topology conf). What must hold: `gale drpc exclamation hello` prints
# `hello!` once the workers run, the HTTP form answers the same, and after
# `gale kill` the function is unknown again (one clear line, exit 1).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
SO=$GALE_BUILD/starter/basic_drpc.so

mkdir -p "$TMP/drpc"
setsid "$GALE_BIN" drpc-server -c "gale.local.dir=$TMP/drpc" -c "gale.log.dir=$TMP/drpc/logs" \
    -c drpc.port=0 -c drpc.invocations.port=0 -c drpc.http.port=0 -c drpc.request.timeout.secs=3 \
    >"$TMP/drpc.out" 2>&1 &
GROUPS_STARTED+=("$!")
wait_for 10 test -s "$TMP/drpc/drpc.http.port" || fail "drpc-server wrote no port files: $(cat "$TMP/drpc.out")"
P=$(cat "$TMP/drpc/drpc.port")
I=$(cat "$TMP/drpc/drpc.invocations.port")
H=$(cat "$TMP/drpc/drpc.http.port")
D=(-c "drpc.port=$P" -c "drpc.invocations.port=$I")

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/sup" 127.0.0.1 "[$(free_port), $(free_port)]"
wait_joined 1
id=$(g jar "$SO" BasicDRPCTopology "${D[@]}" -c topology.workers=2) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_workers "$id" 2 60 || fail "the workers of $id did not start"

answers() { [[ $("$GALE_BIN" drpc "${D[@]}" exclamation hello 2>/dev/null) == "hello!" ]]; }
echo "check: gale drpc exclamation hello prints hello! from the cluster's workers"
wait_for 30 answers || fail "no answer: $("$GALE_BIN" drpc "${D[@]}" exclamation hello 2>&1)"
out=$(curl -s --max-time 10 "http://127.0.0.1:$H/drpc/exclamation/cow%20moon") || fail "curl failed"
[[ $out == "cow moon!" ]] || fail "HTTP form answered '$out'"

echo "check: after gale kill the function is unknown again"
g kill basic-drpc -w 1 >/dev/null || g kill "$id" -w 1 >/dev/null || fail "kill refused"
wait_gone "$id" 30 || fail "the topology is still there: $(g list)"
unknown() {
    local rc=0
    "$GALE_BIN" drpc "${D[@]}" exclamation hello >/dev/null 2>"$TMP/err" || rc=$?
    [[ $rc -eq 1 ]] && grep -q "no running topology serves DRPC function 'exclamation'" "$TMP/err"
}
wait_for 30 unknown || fail "after the kill: $(cat "$TMP/err"); $(tail -5 "$TMP/drpc/logs/drpc.log")"
echo "PASS"
