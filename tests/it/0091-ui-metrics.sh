#!/usr/bin/env bash
# 0091 — `gale ui`'s /metrics: promtool check metrics accepts it, and a
# real prometheus (started here on a free port, scraping every second)
# returns gale_tuples_acked_total for the topology from its query API.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
# shellcheck source=tests/it/ui_lib.sh
source "$(dirname "$0")/ui_lib.sh"
command -v promtool >/dev/null && command -v prometheus >/dev/null ||
    { echo "SKIP: prometheus is not installed (scripts/deps.sh)"; exit 77; }
WC="$GALE_BUILD/starter/word_count.so"
make_corpus 5000

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.1 "[$(free_port)]"
wait_joined 1
start_ui "$TMP/ui"
id=$(g jar "$WC" WordCountTopology "$TMP/corpus" "$TMP/sink") || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_done "$id" 60
has_acked() { curl -sf "$UI_URL/metrics" | grep -q '^gale_tuples_acked_total{topology="word-count",component="spout"} 5000$'; }
wait_for 20 has_acked || fail "no acked count in /metrics: $(curl -s "$UI_URL/metrics" | grep acked)"

echo "check: promtool check metrics accepts /metrics"
curl -sf "$UI_URL/metrics" >"$TMP/metrics" || fail "GET /metrics"
promtool check metrics <"$TMP/metrics" >"$TMP/promtool.out" 2>&1 ||
    fail "promtool: $(head -5 "$TMP/promtool.out")"
for m in gale_tuples_emitted_total gale_tuples_failed_total gale_complete_latency_seconds_bucket \
    gale_capacity gale_worker_up gale_queue_depth; do
    grep -q "^$m{" "$TMP/metrics" || fail "/metrics has no $m"
done

echo "check: a real prometheus scrapes it and answers gale_tuples_acked_total"
pport=$(free_port)
cat >"$TMP/prometheus.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: gale
    static_configs: [{targets: ["127.0.0.1:$UI_PORT"]}]
YML
setsid prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$TMP/prometheus.log" 2>&1 &
GROUPS_STARTED+=("$!")
ready() { curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null; }
wait_for 40 ready || fail "prometheus not ready: $(tail -3 "$TMP/prometheus.log")"
queried() {
    curl -sf "http://127.0.0.1:$pport/api/v1/query" \
        --data-urlencode 'query=gale_tuples_acked_total{topology="word-count",component="spout"}' |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and r[0]["value"][1]=="5000" else 1)'
}
wait_for 30 queried || fail "prometheus has no gale_tuples_acked_total: $(tail -3 "$TMP/prometheus.log")"
echo "PASS"
