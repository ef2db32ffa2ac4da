#!/usr/bin/env bash
# 0070 — DRPC against `gale drpc-server`: the server on ephemeral ports
# (port files), BasicDRPCTopology in `gale local` using it; `gale drpc`
# and the HTTP form answer; unknown function, a request nobody answers
# (timeout), garbage and truncated msgpack on every port, malformed HTTP
# requests (each a one-line JSON error), kill -9 of the
# server while a client waits, and the server down — each a clear line.
source "$(dirname "$0")/lib.sh"
G=$GALE_BIN
SO=$GALE_BUILD/starter/basic_drpc.so
Z="$(dirname "$0")/zmtp_send.py"
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done; cleanup; }
trap stop_all EXIT

mkdir -p "$TMP/srv"
cat >"$TMP/srv.yaml" <<Y
gale.local.dir: $TMP/srv/local
gale.log.dir: $TMP/srv/logs
drpc.port: 0
drpc.invocations.port: 0
drpc.http.port: 0
drpc.request.timeout.secs: 3
Y
setsid "$G" drpc-server --config "$TMP/srv.yaml" >"$TMP/srv.out" 2>&1 &
SRV=$!
PIDS+=("$SRV")
deadline=$((SECONDS + 10))
until [[ -s $TMP/srv/local/drpc.http.port ]]; do
    ((SECONDS < deadline)) || fail "drpc-server wrote no port files: $(cat "$TMP/srv.out")"
    sleep 0.05
done
P=$(cat "$TMP/srv/local/drpc.port")
I=$(cat "$TMP/srv/local/drpc.invocations.port")
H=$(cat "$TMP/srv/local/drpc.http.port")
grep -q "DRPC server on 127.0.0.1" "$TMP/srv/logs/drpc.log" || fail "no start line in drpc.log"
C=(-c "drpc.port=$P" -c "drpc.invocations.port=$I" -c drpc.request.timeout.secs=3)

echo "check: unknown function before any topology"
rc=0
"$G" drpc "${C[@]}" exclamation hello >"$TMP/out" 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] || fail "unknown function: exit $rc, expected 1"
grep -q "no running topology serves DRPC function 'exclamation'" "$TMP/err" ||
    fail "unknown function: $(cat "$TMP/err")"

echo "check: usage errors exit 2"
for args in "" "exclamation" "a b c" "--bogus f a"; do
    rc=0
    # shellcheck disable=SC2086
    "$G" drpc $args >/dev/null 2>"$TMP/err" || rc=$?
    [[ $rc -eq 2 ]] || fail "'gale drpc $args': exit $rc, expected 2 ($(cat "$TMP/err"))"
done
"$G" drpc --help | grep -q "usage: gale drpc" || fail "gale drpc --help"
"$G" drpc-server --help | grep -q "usage: gale drpc-server" || fail "gale drpc-server --help"

echo "check: the topology in gale local uses the running server"
L=(-c "gale.local.dir=$TMP/l1" -c "gale.log.dir=$TMP/l1/logs" -c "drpc.port=$P"
    -c "drpc.invocations.port=$I")
setsid "$G" local "${L[@]}" --local-ttl 100 "$SO" BasicDRPCTopology >"$TMP/l1.out" 2>&1 &
PIDS+=("$!")
setsid "$G" local -c "gale.local.dir=$TMP/l2" -c "gale.log.dir=$TMP/l2/logs" -c "drpc.port=$P" \
    -c "drpc.invocations.port=$I" --local-ttl 100 "$SO" SilentDRPCTopology silent \
    >"$TMP/l2.out" 2>&1 &
PIDS+=("$!")
deadline=$((SECONDS + 30))
until out=$("$G" drpc "${C[@]}" exclamation hello 2>"$TMP/err"); do
    ((SECONDS < deadline)) || fail "gale drpc never answered: $(cat "$TMP/err"); $(tail -5 "$TMP/l1.out")"
    sleep 0.2
done
[[ $out == "hello!" ]] || fail "gale drpc exclamation hello printed '$out'"
grep -q "a DRPC server already answers on 127.0.0.1:$P" "$TMP/l1.out" ||
    fail "gale local did not say it uses the running server"
out=$("$G" drpc "${C[@]}" exclamation "cow moon")
[[ $out == "cow moon!" ]] || fail "args with a space: '$out'"

echo "check: HTTP GET and POST"
out=$(curl -s "http://127.0.0.1:$H/drpc/exclamation/hello%20world")
[[ $out == "hello world!" ]] || fail "GET: '$out'"
out=$(curl -s -X POST --data-binary 'a/b c' "http://127.0.0.1:$H/drpc/exclamation")
[[ $out == "a/b c!" ]] || fail "POST: '$out'"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$H/drpc/nope/x")
[[ $code == 404 ]] && grep -q '"error":"no running topology serves DRPC function' "$TMP/body" ||
    fail "unknown function over HTTP: $code $(cat "$TMP/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$H/other")
[[ $code == 404 ]] || fail "another path: $code"
head -c 1100000 /dev/zero | tr '\0' a >"$TMP/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TMP/big" \
    "http://127.0.0.1:$H/drpc/exclamation")
[[ $code == 413 ]] || fail "a body over 1 MiB: $code"
printf 'a\0b' >"$TMP/nul"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TMP/nul" \
    "http://127.0.0.1:$H/drpc/exclamation")
[[ $code == 400 ]] || fail "a NUL byte in the args: $code"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$H/drpc/exclamation/a%00b")
[[ $code == 400 ]] && grep -q "NUL bytes" "$TMP/body" ||
    fail "a %00 in a GET path (it would cut the args): $code $(cat "$TMP/body")"

echo "check: a request nobody answers times out with a clear error"
deadline=$((SECONDS + 30))
while :; do
    rc=0
    "$G" drpc "${C[@]}" silent x >/dev/null 2>"$TMP/err" || rc=$?
    grep -q "timed out" "$TMP/err" && break
    ((SECONDS < deadline)) || fail "silent: $(cat "$TMP/err")"
    sleep 0.2
done
[[ $rc -eq 1 ]] || fail "timeout: exit $rc"
grep -q "DRPC request for 'silent' timed out after 3 s: is the topology serving it running?" \
    "$TMP/err" || fail "timeout line: $(cat "$TMP/err")"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$H/drpc/silent/x")
[[ $code == 504 ]] || fail "timeout over HTTP: $code $(cat "$TMP/body")"

echo "check: garbage and truncated msgpack on every port"
hdr() { python3 -c "import sys;t=sys.argv[1].encode();print((bytes([0x83,0xa1,0x76,1,0xa4])+b'type'+bytes([0xa0+len(t)])+t+bytes([0xa3])+b'req'+bytes([5])).hex())" "$1"; }
send() { python3 "$Z" "$@" 2>&1 || true; }
for port in "$P" "$I"; do
    send 127.0.0.1 "$port" --raw deadbeef00112233ffffffffc1c1c1 >/dev/null
    send 127.0.0.1 "$port" c1c1 >/dev/null
    send 127.0.0.1 "$port" "$(hdr drpc_fetch)" 80 >/dev/null        # missing function
    send 127.0.0.1 "$port" "$(hdr drpc_result)" 82a26964 >/dev/null # truncated
    out=$(send 127.0.0.1 "$port" "$(hdr drpc_execute)" 81a866756e63) # truncated
    echo "$out" | tail -1 | xxd -r -p | grep -q "truncated" ||
        fail "port $port: truncated msgpack got no refusal naming it ($out)"
    # a result for an id the server never gave out: ignored, acknowledged
    send 127.0.0.1 "$port" "$(hdr drpc_result)" 82a26964cf00000000000f4241a6726573756c74a178 >/dev/null
done
code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 5 -X BREW "http://127.0.0.1:$H/drpc/x")
[[ $code == 405 ]] && grep -q '^{"error":' "$TMP/body" || fail "BREW: $code $(cat "$TMP/body")"
# the HTTP port: malformed heads (request line, version, Host, 100 kB
# target and headers, chunked, ...) each a one-line JSON error, not
# libmicrohttpd's HTML page; a function's name with a %FF in it too
python3 "$(dirname "$0")/http_bad_input.py" "$H" --ok /drpc/exclamation/ok --fuzz 500 \
    --expect "404 GET /drpc/excl%FFamation/x" --expect "400 GET /drpc/exclamation/a%00b" \
    --template "GET /drpc/exclamation/hello%20world" --template "POST /drpc/exclamation a/b c" ||
    fail "bad input on the DRPC HTTP port: not each a one-line JSON error"
kill -0 "$SRV" || fail "the DRPC server died on garbage"
out=$("$G" drpc "${C[@]}" exclamation again)
[[ $out == "again!" ]] || fail "after the garbage: '$out'"
grep -q "refused a message on the DRPC" "$TMP/srv/logs/drpc.log" || fail "no refusal logged"
grep -q "ignored a result for unknown or expired DRPC request id" "$TMP/srv/logs/drpc.log" ||
    fail "the unknown id was not logged"

echo "check: kill -9 of the server while a client waits"
start=$SECONDS
rc=0
"$G" drpc "${C[@]}" -c drpc.request.timeout.secs=60 silent x >/dev/null 2>"$TMP/err" &
CL=$!
sleep 0.5 # the client is waiting (a timing choice, not synchronisation: either way it must end)
kill -KILL "$SRV"
wait "$CL" || rc=$?
[[ $rc -eq 1 ]] || fail "client after kill -9: exit $rc"
grep -Eq "lost the DRPC server at 127.0.0.1:$P|cannot reach the DRPC server" "$TMP/err" ||
    fail "client after kill -9: $(cat "$TMP/err")"
((SECONDS - start < 10)) || fail "the client took $((SECONDS - start)) s to notice"

echo "check: the server down"
rc=0
"$G" drpc "${C[@]}" exclamation hello >/dev/null 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] || fail "server down: exit $rc"
grep -q "cannot reach the DRPC server at 127.0.0.1:$P — is 'gale drpc-server' running?" \
    "$TMP/err" || fail "server down: $(cat "$TMP/err")"
echo "PASS"
