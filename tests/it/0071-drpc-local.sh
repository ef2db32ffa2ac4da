#!/usr/bin/env bash
# 0071 — LocalDRPC: `gale local` with a DRPC spout and no DRPC server
# running serves DRPC in-process (ports 0 -> port files); `gale drpc` and
# curl reach it; stopping gale local answers a waiting client at once.
source "$(dirname "$0")/lib.sh"
G=$GALE_BIN
SO=$GALE_BUILD/starter/basic_drpc.so
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done; cleanup; }
trap stop_all EXIT

L=(-c "gale.local.dir=$TMP/l" -c "gale.log.dir=$TMP/l/logs" -c drpc.port=0
    -c drpc.invocations.port=0 -c drpc.http.port=0)
setsid "$G" local "${L[@]}" --local-ttl 100 "$SO" BasicDRPCTopology >"$TMP/l.out" 2>&1 &
LP=$!
PIDS+=("$LP")
deadline=$((SECONDS + 15))
until [[ -s $TMP/l/drpc.http.port ]]; do
    ((SECONDS < deadline)) || fail "gale local wrote no DRPC port files: $(tail -5 "$TMP/l.out")"
    sleep 0.05
done
P=$(cat "$TMP/l/drpc.port")
H=$(cat "$TMP/l/drpc.http.port")
grep -q "local mode: serving DRPC in this process on 127.0.0.1: 'gale drpc' port $P" "$TMP/l.out" ||
    fail "no line saying gale local serves DRPC: $(head -5 "$TMP/l.out")"

deadline=$((SECONDS + 20))
until out=$("$G" drpc -c "drpc.port=$P" exclamation hello 2>"$TMP/err"); do
    ((SECONDS < deadline)) || fail "gale drpc never answered: $(cat "$TMP/err")"
    sleep 0.2
done
[[ $out == "hello!" ]] || fail "gale drpc exclamation hello printed '$out'"
out=$(curl -s "http://127.0.0.1:$H/drpc/exclamation/local")
[[ $out == "local!" ]] || fail "curl: '$out'"

echo "check: a second DRPC function name is unknown"
rc=0
"$G" drpc -c "drpc.port=$P" nosuch x >/dev/null 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "no running topology serves DRPC function 'nosuch'" "$TMP/err" ||
    fail "unknown function: exit $rc: $(cat "$TMP/err")"

echo "check: stopping gale local ends the server cleanly"
kill -TERM "$LP"
deadline=$((SECONDS + 20))
while kill -0 "$LP" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "gale local did not stop"
    sleep 0.1
done
wait "$LP" || fail "gale local exited $? after SIGTERM"
rc=0
"$G" drpc -c "drpc.port=$P" exclamation hello >/dev/null 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "cannot reach the DRPC server at 127.0.0.1:$P" "$TMP/err" ||
    fail "after the stop: exit $rc: $(cat "$TMP/err")"
echo "PASS"
