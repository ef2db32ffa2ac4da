#!/usr/bin/env bash
# 0042 — a supervisor that downloads a topology over a slow link keeps
# heartbeating (tests/it/netns_lib.sh: nimbus in the hub namespace,
# supervisor a in its own, the hub's end of a's link limited to 8 Mbit/s
# with tc's token bucket filter).
#
# What must hold: with nimbus.supervisor.timeout.secs=2 and 6 MB of
# resources (about 6 s to fetch, in 1 MiB chunks), nimbus never says a
# stopped heartbeating and never moves its work; the worker starts on a
# with the resources whole. Before heartbeats went between chunks, the
# download silenced a for its whole length: nimbus took it for dead at
# 2 s and the slot was lost. Without `ip netns` it skips (77).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/netns_lib.sh
source "$(dirname "$0")/netns_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

netns_setup a
command -v tc >/dev/null || netns_skip "no tc command"
ip netns exec "$NETNS_HUB" tc qdisc add dev v-a root tbf rate 8mbit burst 16kb latency 2s ||
    netns_skip "tc cannot shape the link (no sch_tbf?)"
netns_nimbus "$TMP/nimbus" -c nimbus.supervisor.timeout.secs=2
netns_supervisor a "$TMP/a" "[6700]"
wait_joined 1

mkdir -p "$TMP/res"
head -c 6000000 /dev/urandom >"$TMP/res/big.bin"
echo "check: the worker starts on a after the slow download, a never taken for dead"
id=$(g jar "$WC" WordCountTopology -c topology.workers=1 --resources "$TMP/res") ||
    fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_workers "$id" 1 60
cmp -s "$TMP/a/local/stormdist/$id/resources/big.bin" "$TMP/res/big.bin" ||
    fail "the resources did not arrive whole"
! grep -q "has not heartbeated" "$TMP/nimbus/logs/nimbus.log" ||
    fail "nimbus took a for dead: $(grep "has not heartbeated" "$TMP/nimbus/logs/nimbus.log")"
! grep -q "moving the executors" "$TMP/nimbus/logs/nimbus.log" ||
    fail "nimbus moved a's work: $(grep -m1 "moving the executors" "$TMP/nimbus/logs/nimbus.log")"
g kill word-count -w 0 >/dev/null || fail "kill refused"
echo "PASS"
