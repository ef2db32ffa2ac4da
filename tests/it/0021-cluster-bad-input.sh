#!/usr/bin/env bash
# 0021 — the cluster's ports and verbs against bad input.
#
# Garbage bytes (not ZeroMQ at all), a message of one frame, an unknown
# message type, a header with another protocol version and truncated
# msgpack are sent to nimbus's port and to the supervisor's worker
# socket. What must hold: a request whose header decoded gets a refusal
# naming the problem, nimbus and the supervisor keep running and the
# submitted topology is still listed ACTIVE. Then with nimbus down every
# verb that talks to it exits 1 at once (not after its --timeout) with
# "gale VERB: cannot reach nimbus at HOST:PORT — is 'gale nimbus'
# running? (Connection refused)"; usage errors exit 2; a YAML file with a
# syntax error is named with its line and column; a supervisor that cannot
# start says why on stderr; a second supervisor on the host given the
# same slot port does not offer it.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
Z="$(dirname "$0")/zmtp_send.py"

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/sup" 127.0.0.1 "[$(free_port)]"
id=$(g jar "$WC" WordCountTopology) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")

# {v:1, type:"list", req:5}; {v:1, type:"nope", req:6}; {v:9, type:"list", req:7}
H_LIST=83a17601a474797065a46c697374a372657105
H_NOPE=83a17601a474797065a46e6f7065a372657106
H_V9=83a17609a474797065a46c697374a372657107
send() { python3 "$Z" "$@" 2>&1 || true; }

for target in "127.0.0.1 $NIMBUS_PORT" "$TMP/sup/local/supervisor/sock 0"; do
    # shellcheck disable=SC2086
    set -- $target
    echo "check: garbage on $1"
    send "$1" "$2" --raw deadbeef00112233ffffffffc1c1c1 >/dev/null
    send "$1" "$2" c1c1 >/dev/null                           # one frame
    send "$1" "$2" "$H_NOPE" 80 >/dev/null                   # unknown type
    send "$1" "$2" "$H_V9" 80 >/dev/null                     # another version
    out=$(send "$1" "$2" "$H_LIST" 81a46e616d)               # truncated body
    # the refusal is a reply{ok:false, error} for req 5: its body holds "truncated"
    echo "$out" | tail -1 | xxd -r -p | grep -q "truncated" ||
        fail "$1: truncated msgpack got no refusal naming it (got: $out)"
    kill -0 "$NIMBUS_PID" || fail "nimbus died on garbage"
    kill -0 "$SUP_PID" || fail "the supervisor died on garbage"
done
g list | grep -Eq "word-count +ACTIVE .* $id$" || fail "the topology is not listed ACTIVE after the garbage"
grep -q "refused a request" "$TMP/nimbus/logs/nimbus.log" || fail "nimbus did not log the refusals"

echo "check: a second nimbus on a taken port says why on stderr and exits 1"
rc=0
timeout 20 "$GALE_BIN" nimbus -c "gale.local.dir=$TMP/n2" -c "gale.log.dir=$TMP/n2/logs" \
    -c "nimbus.port=$NIMBUS_PORT" >/dev/null 2>"$TMP/n2.err" || rc=$?
[[ $rc -eq 1 ]] || fail "a second nimbus on port $NIMBUS_PORT exited $rc, not 1"
grep -q "is another nimbus running?" "$TMP/n2.err" || fail "nothing on stderr: $(cat "$TMP/n2.err")"

echo "check: a rebalance onto more workers than the cluster has slots is refused"
rc=0
err=$(g rebalance word-count -n 5 -w 1 2>&1) || rc=$?
[[ $rc -eq 1 && $err == *"onto 5 workers: the cluster has 1 worker slots"* ]] ||
    fail "rebalance -n 5 on one slot: exit $rc: $err"
g list | grep -Eq "word-count +ACTIVE " || fail "the refused rebalance changed the status"

echo "check: usage errors exit 2"
for args in "list --bogus" "kill" "rebalance wc -n zero" "rebalance wc -e count" "jar $WC" \
    "kill wc -w -3" "nimbus extra" "rebalance wc -e split=2 -e split=3" "list --timeout 0"; do
    rc=0
    # shellcheck disable=SC2086
    "$GALE_BIN" $args >/dev/null 2>"$TMP/err" || rc=$?
    [[ $rc -eq 2 ]] || fail "'gale $args': exit $rc, expected 2 ($(cat "$TMP/err"))"
done
for verb in nimbus supervisor jar list kill activate deactivate rebalance version; do
    "$GALE_BIN" "$verb" --help | grep -q "usage: gale $verb" || fail "gale $verb --help"
done

echo "check: a YAML syntax error names the line and column"
printf 'nimbus.port: 1\nsupervisor.slots.ports: [1, 2\n' >"$TMP/bad.yaml"
rc=0
"$GALE_BIN" list --config "$TMP/bad.yaml" 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] && grep -Eq "bad.yaml:[0-9]+:[0-9]+" "$TMP/err" ||
    fail "bad YAML: exit $rc, '$(cat "$TMP/err")'"

echo "check: every verb with nimbus down"
kill -TERM -- "-$NIMBUS_PID"
wait "$NIMBUS_PID" 2>/dev/null || true
want="cannot reach nimbus at localhost:$NIMBUS_PORT — is 'gale nimbus' running?"
for args in "list" "kill word-count" "activate word-count" "deactivate word-count" \
    "rebalance word-count -n 2" "jar $WC WordCountTopology"; do
    rc=0
    # a refused connection is told at once: not after the 60 s --timeout (124 from timeout)
    # shellcheck disable=SC2086
    timeout 20 "$GALE_BIN" $args -c "nimbus.port=$NIMBUS_PORT" --timeout 60 >/dev/null \
        2>"$TMP/err" || rc=$?
    [[ $rc -eq 1 ]] || fail "'gale $args' with nimbus down: exit $rc"
    [[ "$(cat "$TMP/err")" == "gale ${args%% *}: $want (Connection refused)" ]] ||
        fail "'gale $args' with nimbus down said: $(cat "$TMP/err")"
done

echo "check: a supervisor whose start fails says why on stderr, not only in its log, and exits 1"
rc=0
timeout 20 "$GALE_BIN" supervisor -c "gale.local.dir=$TMP/s2" -c "gale.log.dir=$TMP/s2/logs" \
    -c nimbus.port=0 >/dev/null 2>"$TMP/s2.err" || rc=$?
[[ $rc -eq 1 ]] || fail "a supervisor given nimbus.port 0 exited $rc, not 1"
grep -q "nimbus.port 0 is not a port to connect to" "$TMP/s2.err" ||
    fail "nothing on stderr: $(cat "$TMP/s2.err")"

echo "check: a second supervisor on this host given the same slot port does not offer it"
q=$(free_port)
start_supervisor "$TMP/x" 127.0.0.1 "[$q]"
wait_for 20 grep -q "on 127.0.0.1: 1 slot(s)" "$TMP/x/logs/supervisor.log" ||
    fail "the first supervisor did not start with its slot"
q2=$(free_port)
start_supervisor "$TMP/y" 127.0.0.1 "[$q, $q2]"
wait_for 20 grep -q "on 127.0.0.1: 1 slot(s)" "$TMP/y/logs/supervisor.log" ||
    fail "the second supervisor offers the first one's slot: $(tail -n 3 "$TMP/y/logs/supervisor.log")"
grep -q "slot port $q on 127.0.0.1 is a slot of another supervisor on this host" \
    "$TMP/y/logs/supervisor.log" || fail "the second supervisor did not say why it offers no slot"

echo "check: a supervisor that can offer none of its slots exits 1 saying so"
rc=0
timeout 20 "$GALE_BIN" supervisor -c "gale.local.dir=$TMP/z/local" -c "gale.log.dir=$TMP/z/logs" \
    -c "nimbus.port=$NIMBUS_PORT" -c gale.local.hostname=127.0.0.1 \
    -c "supervisor.slots.ports=[$q]" -c logviewer.port=0 >/dev/null 2>"$TMP/z.err" || rc=$?
[[ $rc -eq 1 ]] || fail "a supervisor with no slot to offer exited $rc, not 1"
grep -q "none of the 1 port(s) of supervisor.slots.ports can be offered" "$TMP/z.err" ||
    fail "no reason on stderr: $(cat "$TMP/z.err")"
echo "PASS"
