#!/usr/bin/env bash
# 0090 — `gale ui`'s REST API against a live cluster: nimbus, one
# supervisor with two slots, WordCount with the reliable file spout over
# a 50 000-line corpus and the file sink.
#
# What must hold once the topology is done:
#  - the spout's acked (all time) equals the corpus's lines, failed is 0;
#  - split executed every line, count and sink executed what the sink wrote;
#  - every field the issue names is there with Storm's type
#    (python3's json module), for cluster/nimbus/supervisor/topology
#    summaries, topology/{id}, component pages and the visualization;
#  - unknown paths, ids, components, bad windows, bad JSON bodies, wrong
#    methods, huge bodies, targets and headers, malformed heads get a
#    4xx/5xx with a one-line JSON error (414 and 431 too), and the daemon
#    still answers 1000 mutated requests;
#  - POST topology/{id}/kill/1 answers Storm's success body and removes it.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/corpus_lib.sh
source "$(dirname "$0")/corpus_lib.sh"
# shellcheck source=tests/it/ui_lib.sh
source "$(dirname "$0")/ui_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"
LINES=50000
make_corpus $LINES

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.1 "[$(free_port), $(free_port)]"
wait_joined 1
start_ui "$TMP/ui"

id=$(g jar "$WC" WordCountTopology "$TMP/corpus" "$TMP/sink" -c topology.workers=2) ||
    fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_done "$id" 60

echo "check: the spout's acked equals the corpus's $LINES lines"
acked_all() {
    api "topology/$id" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d["spouts"][0]["acked"] == int(sys.argv[1]) else 1)' $LINES
}
wait_for 20 acked_all || fail "acked is not $LINES: $(api "topology/$id" | head -c 600)"
sink_lines=$(wc -l <"$TMP/sink")

echo "check: fields, types and counts"
api "topology/$id" >"$TMP/topo.json" || fail "topology/$id"
api "topology/$id/component/spout" >"$TMP/spout.json" || fail "component spout"
api "topology/$id/component/sink" >"$TMP/sink.json" || fail "component sink"
api "topology/$id/visualization" >"$TMP/vis.json" || fail "visualization"
api "topology/$id?window=600" >"$TMP/topo600.json" || fail "window=600"
for p in cluster/summary cluster/configuration nimbus/summary supervisor/summary topology/summary; do
    api "$p" >"$TMP/$(tr / _ <<<"$p").json" || fail "GET $p"
done
python3 - "$TMP" "$id" $LINES "$sink_lines" "$NIMBUS_PORT" <<'PY' || fail "the API's answers are wrong (above)"
import json, sys
tmp, tid, lines, sink = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def load(n): return json.load(open(f"{tmp}/{n}.json"))
errors = []
def need(obj, field, typ, where):
    if field not in obj: errors.append(f"{where}: no {field}")
    elif not isinstance(obj[field], typ) or isinstance(obj[field], bool) and typ is not bool:
        errors.append(f"{where}: {field} is {type(obj[field]).__name__}, want {typ}")
num_str = str
import re
UPTIME = re.compile(r"^(\d+d \d+h \d+m \d+s|\d+h \d+m \d+s|\d+m \d+s|\d+s)$")
def need_uptime(obj, field, where):  # Storm's string: "3m 4s"
    if not isinstance(obj.get(field), str) or not UPTIME.match(obj[field]):
        errors.append(f"{where}: {field} is {obj.get(field)!r}, not an uptime like '3m 4s'")
t = load("topo")
for f in ("id", "name", "status"): need(t, f, str, "topology")
for f in ("uptimeSeconds", "tasksTotal", "workersTotal", "executorsTotal"): need(t, f, int, "topology")
need(t, "topologyStats", list, "topology")
need_uptime(t, "uptime", "topology")
wins = sorted(s["window"] for s in t["topologyStats"])
if wins != sorted(["600", "10800", "86400", ":all-time"]): errors.append(f"topologyStats windows {wins}")
for s in t["topologyStats"]:
    for f in ("emitted", "transferred", "acked", "failed"): need(s, f, int, "topologyStats")
    need(s, "completeLatency", num_str, "topologyStats")
sp = t["spouts"][0]
for f in ("emitted", "transferred", "acked", "failed", "executors", "tasks"): need(sp, f, int, "spout")
for f in ("completeLatency", "completeLatencyP50", "completeLatencyP99", "completeLatencyP999", "lastError"):
    need(sp, f, str, "spout")
if sp["acked"] != lines: errors.append(f"spout acked {sp['acked']} != {lines}")
if sp["failed"] != 0: errors.append(f"spout failed {sp['failed']}")
if float(sp["completeLatency"]) <= 0: errors.append("completeLatency is 0")
bolts = {b["boltId"]: b for b in t["bolts"]}
for b in bolts.values():
    for f in ("emitted", "transferred", "acked", "failed", "executed"): need(b, f, int, "bolt " + b["boltId"])
    for f in ("executeLatency", "processLatency", "capacity", "lastError", "executeLatencyP99"):
        need(b, f, str, "bolt " + b["boltId"])
if bolts["split"]["executed"] != lines: errors.append(f"split executed {bolts['split']['executed']} != {lines}")
for name in ("sink", "count"):
    if bolts[name]["executed"] != sink: errors.append(f"{name} executed {bolts[name]['executed']} != sink {sink}")
if bolts["split"]["emitted"] != sink: errors.append(f"split emitted {bolts['split']['emitted']} != sink {sink}")
need(t, "workers", list, "topology")
if len(t["workers"]) != 2: errors.append(f"{len(t['workers'])} workers")
for w in t["workers"]:
    need(w, "workerLogLink", str, "worker"); need(w, "port", int, "worker"); need(w, "host", str, "worker")
c = load("spout")
for f in ("executorStats", "outputStats", "componentErrors", "spoutSummary"): need(c, f, list, "component spout")
if c.get("componentType") != "spout": errors.append("spout componentType")
if sum(e["acked"] for e in c["executorStats"]) != lines: errors.append("executor acked sum")
s = load("sink")
for f in ("executorStats", "inputStats", "outputStats", "boltStats"): need(s, f, list, "component sink")
for e in s["executorStats"]:
    for f in ("executed", "emitted"): need(e, f, int, "sink executor")
    for f in ("capacity", "executeLatency", "id", "workerLogLink"): need(e, f, str, "sink executor")
v = load("vis")
for comp in ("spout", "split", "count", "sink"):
    if comp not in v: errors.append(f"visualization has no {comp}")
if v["sink"][":inputs"][0][":component"] != "split": errors.append("visualization inputs")
cs = load("cluster_summary")
for f in ("supervisors", "topologies", "slotsTotal", "slotsUsed", "slotsFree", "executorsTotal", "tasksTotal", "nimbusPort"):
    need(cs, f, int, "cluster/summary")
if cs["supervisors"] != 1 or cs["slotsTotal"] != 2: errors.append(f"cluster/summary {cs}")
need(load("nimbus_summary"), "nimbuses", list, "nimbus/summary")
cc = load("cluster_configuration")  # gale ui's conf, defaults filled
if cc.get("nimbus.port") != int(sys.argv[5]) or cc.get("topology.message.timeout.secs") != 30 \
        or not isinstance(cc.get("supervisor.slots.ports"), list):
    errors.append(f"cluster/configuration: {dict(list(cc.items())[:6])}")
need_uptime(load("nimbus_summary")["nimbuses"][0], "nimbusUpTime", "nimbus/summary")
ss = load("supervisor_summary")["supervisors"]
for f in ("id", "host"): need(ss[0], f, str, "supervisor")
for f in ("slotsTotal", "slotsUsed", "uptimeSeconds"): need(ss[0], f, int, "supervisor")
need_uptime(ss[0], "uptime", "supervisor")
ts = load("topology_summary")["topologies"]
if [x["id"] for x in ts] != [tid]: errors.append(f"topology/summary {ts}")
t6 = load("topo600")
if t6["window"] != "600": errors.append("window=600 not echoed")
for e in errors: print("  " + e)
sys.exit(1 if errors else 0)
PY

echo "check: topology-workers, history/summary and lag, with Storm's fields"
api "topology-workers/$id" >"$TMP/workers.json" || fail "topology-workers/$id"
api "history/summary" >"$TMP/history.json" || fail "history/summary"
api "topology/$id/lag" >"$TMP/lag.json" || fail "topology/$id/lag"
python3 - "$TMP" "$id" <<'PY' || fail "topology-workers, history or lag are wrong (above)"
import json, sys
tmp, tid = sys.argv[1], sys.argv[2]
def load(n): return json.load(open(f"{tmp}/{n}.json"))
errors = []
w = load("workers")
if not isinstance(w.get("logviewerPort"), int): errors.append(f"topology-workers: logviewerPort {w.get('logviewerPort')!r}")
hp = w.get("hostPortList")
if not isinstance(hp, list) or len(hp) != 2: errors.append(f"topology-workers: hostPortList {hp!r}")
else:
    comps = set()
    for x in hp:
        for f, t in (("host", str), ("port", int), ("supervisorId", str), ("uptime", str),
                     ("uptimeSeconds", int), ("executorsTotal", int), ("workerLogLink", str),
                     ("componentNumTasks", dict), ("logviewerPort", int)):
            if not isinstance(x.get(f), t): errors.append(f"topology-workers row: {f} is {x.get(f)!r}")
        if not x.get("workerLogLink", "").startswith(f"http://{x.get('host')}:"): errors.append(f"log link {x.get('workerLogLink')!r}")
        comps |= set(x.get("componentNumTasks", {}))
    if not {"spout", "split", "count", "sink"} <= comps: errors.append(f"componentNumTasks name {sorted(comps)}")
if load("history") != {"topo-history": [tid]}: errors.append(f"history/summary {load('history')}")
if load("lag") != {}: errors.append(f"lag (no Kafka spout: Storm's {{}}) {load('lag')}")
for e in errors: print("  " + e)
sys.exit(1 if errors else 0)
PY

echo "check: bad input gets a 4xx with a one-line JSON error"
status_of() { # METHOD PATH [curl args]: the HTTP status; the body must be one line of JSON with "error"
    local m=$1 p=$2
    shift 2
    local code
    code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 -X "$m" "$@" "$UI_URL$p")
    echo "$code"
}
expect() { # CODE METHOD PATH [curl args]
    local want=$1
    shift
    local got
    got=$(status_of "$@")
    [[ $got == "$want" ]] || fail "$* answered $got, want $want: $(head -c 300 "$TMP/body")"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "error" in d and "errorMessage" in d' \
        "$TMP/body" || fail "$*: not a JSON error: $(head -c 300 "$TMP/body")"
    [[ $(wc -l <"$TMP/body") -le 1 ]] || fail "$*: more than one line"
}
expect 404 GET /api/v1/nope
expect 404 GET /nope
expect 404 GET "/api/v1/topology/no-such-topology"
expect 404 GET "/api/v1/topology/no-such-topology/component/spout"
expect 404 GET "/api/v1/topology/no-such-topology/lag"
expect 404 GET "/api/v1/topology-workers/no-such-topology"
expect 404 GET "/api/v1/topology-workers/$id/x"
expect 404 POST "/api/v1/history/summary"
expect 404 GET "/api/v1/topology/$id/component/no-such-component"
expect 404 GET "/api/v1/topology/$id/a/b/c/d/e/f/g/h/i"
expect 400 GET "/api/v1/topology/$id?window=12x"
expect 400 GET "/api/v1/topology/$id?window=123"
expect 400 GET "/api/v1/topology/%FF%FE"
expect 400 GET "/api/v1/topology/$id/component/%FF"
expect 400 GET "/api/v1/topology/$id?window=%FF"
expect 400 GET "/%FF"
expect 400 GET "/api/v1/topology/$id?window=-5"
expect 400 GET "/api/v1/topology/$id?window=$(head -c 2000 /dev/zero | tr '\0' 9)"
expect 405 GET "/api/v1/topology/$id/kill/1"
expect 405 DELETE "/api/v1/topology/$id"
expect 405 PUT /metrics
expect 400 POST "/api/v1/topology/$id/rebalance/0" --data-binary '{not json'
expect 400 POST "/api/v1/topology/$id/rebalance/0" --data-binary '{"rebalanceOptions":{"numWorkers":"two"}}'
expect 400 POST "/api/v1/topology/$id/rebalance/0" --data-binary '[1,2]'
expect 400 POST "/api/v1/topology/$id/kill/abc"
expect 400 POST "/api/v1/topology/$id/kill/99999999999"
expect 404 POST "/api/v1/topology/no-such-topology/kill/1"
head -c 200000 /dev/zero | tr '\0' a >"$TMP/big"
expect 413 POST "/api/v1/topology/$id/rebalance/0" --data-binary "@$TMP/big"
long=$(head -c 100000 /dev/zero | tr '\0' a)
expect 414 GET "/api/v1/topology/$long"
expect 431 GET /api/v1/cluster/summary -H "X-Big: $long"
# malformed request lines, bad versions, no Host, chunked bodies, too many
# fields, binary headers... each a one-line JSON error (not libmicrohttpd's
# HTML), then 1000 mutated requests: tests/it/http_bad_input.py
python3 "$(dirname "$0")/http_bad_input.py" "$UI_PORT" --ok /api/v1/cluster/summary --fuzz 1000 \
    --template "GET /api/v1/topology/$id?window=600" \
    --template "GET /api/v1/topology/$id/component/spout" \
    --template "POST /api/v1/topology/no-such/rebalance/0 {\"rebalanceOptions\":{}}" ||
    fail "malformed requests on the UI port: not each a one-line JSON error"
api cluster/summary >/dev/null || fail "gale ui stopped answering after bad input"

echo "check: POST topology/{id}/kill/1 answers success and removes the topology"
curl -s --max-time 10 -X POST "$UI_URL/api/v1/topology/$id/kill/1" >"$TMP/kill.json" ||
    fail "kill POST failed: $(cat "$TMP/kill.json")"
python3 - "$TMP/kill.json" "$id" <<'PY' || fail "kill answer: $(cat "$TMP/kill.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"topologyOperation": "kill", "topologyId": sys.argv[2], "status": "success"}, d
PY
wait_gone "$id"
code=$(status_of GET "/api/v1/topology/$id")
[[ $code == 404 ]] || fail "a killed topology answered $code"
# history/summary still lists the killed topology (nimbus keeps its last 16)
[[ $(api history/summary) == "{\"topo-history\":[\"$id\"]}" ]] ||
    fail "history after the kill: $(api history/summary)"
echo "PASS"
