# shellcheck shell=bash
# netns_lib.sh — a small network of namespaces for the cluster tests;
# source it after lib.sh and cluster_lib.sh.
#
#   netns_setup NAME...  a "hub" namespace holding a bridge (nimbus and
#                        the CLI run there, on $NETNS_HUB_ADDR) and one
#                        namespace per NAME, linked to the bridge by a
#                        veth pair whose inner end is eth0 with address
#                        ${NETNS_ADDR[NAME]}. Every namespace has lo up.
#   netns_bin NAME       a path that runs `gale ARGS...` inside NAME's
#                        namespace (use it as GALE_BIN for cluster_lib's
#                        start_nimbus/start_supervisor: the pid is gale's)
#   netns_cut NAME / netns_heal NAME
#                        take NAME's eth0 down / up again
#   netns_of PID         the name of the namespace PID runs in ("" if none
#                        of this test's)
#   netns_listening NAME the local addresses of the TCP listeners in NAME
#   netns_workers ID NAME
#                        pids of topology ID's workers running in NAME
#   netns_holds_only NAME PID
#                        no process runs in NAME but PID
#
# The cluster in those namespaces (cluster_lib's helpers, run inside):
#   netns_nimbus DIR [-c k=v]...         nimbus in the hub, on Storm's
#                                        port 6627 (namespaces keep runs
#                                        apart: no free port is needed)
#   netns_supervisor NAME DIR PORTS [-c k=v]...
#                                        a supervisor in NAME advertising
#                                        its address; logviewer on 8000
#   g VERB ARGS...                       cluster_lib's g, redefined: the
#                                        CLI runs in the hub and looks for
#                                        nimbus at its address (so every
#                                        cluster_lib helper calling g does)
#
# Names are unique per run ("gale<pid>-NAME"), and so is the subnet
# (10.A.B.0/24 from the pid), though the addresses exist only inside the
# test's namespaces: the veth pairs are created inside them, never in the
# root namespace, so nothing of the host's network is touched. The EXIT
# trap kills every process in those namespaces (`ip netns pids`), runs
# cluster_lib's cleanup, and deletes the namespaces, which removes their
# veths and the bridge. Without `ip netns` (not root, no CAP_NET_ADMIN)
# the test says so and exits 77, ctest's skip code here.

NETNS_TAG="gale$$"
NETNS_NET="10.$((($$ >> 8) & 255)).$(($$ & 255))"
NETNS_HUB="$NETNS_TAG-hub"
NETNS_HUB_ADDR="$NETNS_NET.1"
NETNS_CREATED=()
declare -A NETNS_ADDR=()

netns_empty() { [[ -z "$(ip netns pids "$1" 2>/dev/null)" ]]; }

netns_cleanup() {
    local ns pid
    for ns in "${NETNS_CREATED[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    done
    cluster_cleanup
    for ns in "${NETNS_CREATED[@]}"; do
        # a namespace still holding a process outlives its name: wait for them
        wait_for 10 netns_empty "$ns" || echo "netns: processes left in $ns: $(ip netns pids "$ns")" >&2
        ip netns del "$ns" 2>/dev/null || echo "netns: cannot delete $ns" >&2
    done
}
trap 'netns_cleanup' EXIT # lib.sh turns HUP/INT/TERM into an exit, so it runs on those too

# Namespaces of runs that died without their trap (SIGKILL, e.g. a ctest
# timeout): gale<pid>-* whose pid is gone. Their processes are killed,
# then the namespaces deleted.
netns_reap_stale() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E '^gale[0-9]+-'); do
        pid=${ns#gale}
        pid=${pid%%-*}
        kill -0 "$pid" 2>/dev/null && continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        wait_for 5 netns_empty "$ns" || true
        ip netns del "$ns" 2>/dev/null && echo "netns: deleted $ns, left by a run that died"
    done
    return 0
}

netns_skip() {
    echo "SKIP: this test needs network namespaces (root with CAP_NET_ADMIN and iproute2's ip netns): $*"
    exit 77
}

# netns_ip ARGS...: ip ARGS, or skip naming what this machine cannot do
# (a kernel without veth or bridge links, say)
netns_ip() {
    ip "$@" 2>"$TMP/netns.err" || netns_skip "ip $*: $(cat "$TMP/netns.err")"
}

netns_add() {
    netns_ip netns add "$1"
    NETNS_CREATED+=("$1")
    netns_ip -n "$1" link set lo up
}

netns_gale_in() { # netns_gale_in NS NAME: the script netns_bin NAME names
    printf '#!/bin/sh\nexec ip netns exec %s "%s" "$@"\n' "$1" "$GALE_BIN" >"$TMP/gale-in-$2"
    chmod +x "$TMP/gale-in-$2"
}

netns_setup() {
    [[ $EUID -eq 0 ]] || netns_skip "running as uid $EUID"
    command -v ip >/dev/null || netns_skip "no ip command"
    netns_add "$NETNS_HUB"
    netns_reap_stale
    netns_ip -n "$NETNS_HUB" link add br0 type bridge
    netns_ip -n "$NETNS_HUB" addr add "$NETNS_HUB_ADDR/24" dev br0
    netns_ip -n "$NETNS_HUB" link set br0 up
    netns_gale_in "$NETNS_HUB" hub
    local name ns i=1
    for name in "$@"; do
        i=$((i + 1))
        ns="$NETNS_TAG-$name"
        netns_add "$ns"
        netns_ip -n "$NETNS_HUB" link add "v-$name" type veth peer name eth0 netns "$ns"
        netns_ip -n "$NETNS_HUB" link set "v-$name" master br0 up
        NETNS_ADDR[$name]="$NETNS_NET.$i"
        netns_ip -n "$ns" addr add "${NETNS_ADDR[$name]}/24" dev eth0
        netns_ip -n "$ns" link set eth0 up
        netns_gale_in "$ns" "$name"
    done
}

netns_bin() { echo "$TMP/gale-in-$1"; }
netns_cut() { ip -n "$NETNS_TAG-$1" link set eth0 down; }
netns_heal() { ip -n "$NETNS_TAG-$1" link set eth0 up; }
netns_of() {
    local n
    n=$(ip netns identify "$1" 2>/dev/null) || return 0
    [[ $n == "$NETNS_TAG-"* ]] && echo "${n#"$NETNS_TAG-"}"
    return 0
}
netns_workers() {
    local p
    for p in $(worker_pids "$1"); do
        [[ $(netns_of "$p") == "$2" ]] && echo "$p"
    done
    return 0
}
netns_holds_only() { [[ "$(ip netns pids "$NETNS_TAG-$1")" == "$2" ]]; }
netns_listening() { ip netns exec "$NETNS_TAG-$1" ss -Hltn | awk '{ print $4 }'; }

NETNS_SEEDS="nimbus.seeds=[$NETNS_HUB_ADDR]"
netns_nimbus() {
    local dir=$1
    shift
    GALE_BIN=$(netns_bin hub) start_nimbus "$dir" 6627 -c "$NETNS_SEEDS" "$@"
}
netns_supervisor() {
    local name=$1 dir=$2 ports=$3
    shift 3
    GALE_BIN=$(netns_bin "$name") start_supervisor "$dir" "${NETNS_ADDR[$name]}" "$ports" \
        -c "$NETNS_SEEDS" -c logviewer.port=8000 "$@"
}
g() {
    local verb=$1
    shift
    "$(netns_bin hub)" "$verb" -c "nimbus.port=$NIMBUS_PORT" -c "$NETNS_SEEDS" --timeout 10 "$@"
}
