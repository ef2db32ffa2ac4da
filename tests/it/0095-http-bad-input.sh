#!/usr/bin/env bash
# 0095 — bad input on every HTTP port of Gale: `gale ui`, the supervisor's
# log viewer and `gale drpc-server`'s HTTP port. Each gets the refusals
# the gate of common/http_server.c and the handlers make (malformed
# request line, bad version, no Host, a 100 kB target or header, too many
# headers, query arguments or cookies, a chunked body, a bad
# Content-Length, folded and binary header lines, bare LF, a head cut
# short, unknown paths, ids and bad query strings), each a 4xx/5xx with
# one line of JSON holding "error" (never libmicrohttpd's HTML page), then
# 2000 requests mutated at random (tests/it/http_bad_input.py), and must
# still answer a valid request; no daemon dies. On loopback one client
# holding 20 unfinished heads does not lock another out of gale ui, and
# the unfinished heads get a JSON 408 after 10 s.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/ui_lib.sh
source "$(dirname "$0")/ui_lib.sh"
CHECK="$(dirname "$0")/http_bad_input.py"
N=${GALE_HTTP_FUZZ:-2000}

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.1 "[$(free_port)]"
wait_joined 1
wait_for 20 test -s "$TMP/a/local/logviewer.port" || fail "no logviewer.port"
LV=$(cat "$TMP/a/local/logviewer.port")
start_ui "$TMP/ui"
mkdir -p "$TMP/drpc"
cat >"$TMP/drpc.yaml" <<Y
gale.local.dir: $TMP/drpc/local
gale.log.dir: $TMP/drpc/logs
drpc.port: 0
drpc.invocations.port: 0
drpc.http.port: 0
Y
setsid "$GALE_BIN" drpc-server --config "$TMP/drpc.yaml" >"$TMP/drpc.out" 2>&1 &
DRPC_PID=$!
GROUPS_STARTED+=("$DRPC_PID")
wait_for 20 test -s "$TMP/drpc/local/drpc.http.port" || fail "drpc-server: $(cat "$TMP/drpc.out")"
DH=$(cat "$TMP/drpc/local/drpc.http.port")
echo "check: gale ui on $UI_PORT"
python3 "$CHECK" "$UI_PORT" --ok /api/v1/cluster/summary --fuzz "$N" --seed 90 \
    --expect "404 GET /api/v1/topology/no-such-topology" \
    --expect "404 GET /api/v1/topology/no-such-topology/component/spout" \
    --expect "400 GET /api/v1/cluster/summary?window=%FF" \
    --expect "400 GET /api/v1/topology/x?window=12x" \
    --expect "400 GET /api/v1/topology/x?window=$(head -c 2000 /dev/zero | tr '\0' 9)" \
    --expect "400 GET /%FF" \
    --expect "405 DELETE /api/v1/cluster/summary" \
    --template "GET /api/v1/cluster/summary" \
    --template "GET /api/v1/topology/no-such?window=600" \
    --template "POST /api/v1/topology/no-such/rebalance/0 {\"rebalanceOptions\":{\"numWorkers\":2}}" \
    --template "GET /index.html" || fail "gale ui: bad input not refused as JSON"
echo "check: the log viewer on $LV"
python3 "$CHECK" "$LV" --ok /api/v1/log/list --fuzz "$N" --seed 26 \
    --expect "400 GET /api/v1/log/read?file=%zz%%%&start=&length=" \
    --expect "400 GET /api/v1/log/read?file=../../etc/passwd" \
    --expect "404 GET /api/v1/log/read?file=no-such.log" \
    --expect "400 GET /api/v1/log/read?file=x&start=abc" \
    --expect "405 DELETE /api/v1/log/list" \
    --template "GET /api/v1/log/list?prefix=a" \
    --template "GET /api/v1/log/read?file=supervisor.log&start=-100&length=50" \
    --template "GET /api/v1/log/search?file=supervisor.log&q=INFO&max=3" || fail "log viewer: bad input not refused as JSON"
echo "check: the DRPC HTTP port on $DH"
# no topology serves a function here: the valid request gets the 404 of
# an unknown function
python3 "$CHECK" "$DH" --ok /drpc/no-such-function/x --ok-status 404 --fuzz "$N" --seed 70 \
    --expect "404 GET /drpc/no-such-function/x" \
    --expect "400 GET /drpc/f/a%00b" \
    --expect "405 DELETE /drpc/f" \
    --template "GET /drpc/exclamation/hello%20world" \
    --template "POST /drpc/exclamation a/b c" || fail "DRPC port: bad input not refused as JSON"
echo "check: on loopback, one client holding 20 connections does not lock out gale ui"
python3 - "$UI_PORT" <<'PY' || fail "gale ui refused a local client while another held 20 connections"
import socket, sys
port = int(sys.argv[1])
held = []
for _ in range(20):  # above the per-address cap of 16 gale ui keeps for remote hosts
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /api/v1/cluster/summary HTTP/1.1\r\n")  # a head never finished
    held.append(s)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"GET /api/v1/cluster/summary HTTP/1.1\r\nHost: x\r\n\r\n")
reply = s.recv(100)
assert reply.startswith(b"HTTP/1.1 200"), reply
# and a head not finished within 10 s is answered 408, in JSON, and closed
held[0].settimeout(20)
late = b""
while True:
    b = held[0].recv(4096)
    if not b:
        break
    late += b
head, _, body = late.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 408") and body.startswith(b'{"error":"Request Timeout"'), late
PY
for p in "$NIMBUS_PID" "$SUP_PID" "${GROUPS_STARTED[@]}"; do
    kill -0 "$p" 2>/dev/null || fail "a daemon died: pid $p"
done
api cluster/summary >/dev/null || fail "gale ui stopped answering"
echo "PASS"
