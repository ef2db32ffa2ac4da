#!/usr/bin/env bash
# 0094 — one slow call to nimbus does not hold up `gale ui`'s other
# requests: gale ui asks a nimbus port where nothing answers, so each
# request waits out its 5 s deadline (NIMBUS_MS in ui/server.c) and gets
# a 503. Three at once must each answer in about that time, side by side
# (each on its own nimbus link); behind one shared link they answered
# after 5, 10 and 15 s.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/ui_lib.sh
source "$(dirname "$0")/ui_lib.sh"

NIMBUS_PORT=$(free_port) # nothing listens there
start_ui "$TMP/ui"

echo "check: three requests to a silent nimbus answer 503 side by side"
pids=()
for k in 1 2 3; do
    curl -s -o "$TMP/body$k" -w '%{http_code} %{time_total}\n' --max-time 30 \
        "$UI_URL/api/v1/topology/summary" >"$TMP/out$k" &
    pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p" || true; done
for k in 1 2 3; do
    read -r code secs <"$TMP/out$k" || fail "request $k: no answer"
    echo "  request $k: $code after ${secs}s"
    [[ $code == 503 ]] || fail "request $k answered $code, want 503: $(head -c 300 "$TMP/body$k")"
    # the 5 s deadline plus slack for a loaded machine; behind one link the
    # third waited 15 s
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 9 else 1)' "$secs" ||
        fail "request $k took ${secs}s: it waited behind another request's call to nimbus"
done
api cluster/summary >/dev/null && fail "cluster/summary answered without a nimbus"
echo "PASS"
