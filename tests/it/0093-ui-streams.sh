#!/usr/bin/env bash
# 0093 — per-stream stats on the component page (Storm's outputStats and
# inputStats) for components with two output streams and two inputs:
# tests/it/topo_streams.c on a live cluster (two workers, so tuples and
# acks cross processes), every tuple sampled.
#
# What must hold once the topology is done: each stream's emitted,
# transferred, acked and failed are exactly what topo_streams.c's comment
# says, the spout's per-stream acked and failed add up to its totals, and
# the per-stream latencies are Storm's strings (complete latency of the
# acked stream above 0).
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/ui_lib.sh
source "$(dirname "$0")/ui_lib.sh"
TOPO="$GALE_BUILD/tests/topo_streams.so"
N=3000

start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.1 "[$(free_port), $(free_port)]"
wait_joined 1
start_ui "$TMP/ui"

id=$(g jar "$TOPO" Streams $N -c topology.workers=2 -c topology.stats.sample.rate=1.0) ||
    fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_done "$id" 60

echo "check: the last heartbeats reached nimbus (every tree and every sink tuple counted)"
all_counted() {
    api "topology/$id" | python3 -c '
import json, sys
d = json.load(sys.stdin); n = int(sys.argv[1])
a, b, b_fail = n - (n + 2) // 3, (n + 2) // 3, (n + 5) // 6
sp = d["spouts"][0]; sink = [b for b in d["bolts"] if b["boltId"] == "sink"][0]
sys.exit(0 if sp["acked"] + sp["failed"] == n and sink["executed"] == a + 2 * (b - b_fail) else 1)' $N
}
wait_for 20 all_counted || fail "not every tuple counted: $(api "topology/$id" | head -c 600)"

for c in src work sink; do
    api "topology/$id/component/$c" >"$TMP/$c.json" || fail "component $c"
done
python3 - "$TMP" $N <<'PY' || fail "per-stream stats are wrong (above)"
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
errors = []
def load(c): return json.load(open(f"{tmp}/{c}.json"))
def rows(doc, key, *ids):
    out = {}
    for r in doc[key]:
        k = tuple(r[i] for i in ids)
        out[k if len(k) > 1 else k[0]] = r
    return out
def want(row, where, **fields):
    for f, v in fields.items():
        if row.get(f) != v: errors.append(f"{where}: {f} is {row.get(f)!r}, want {v!r}")
def latency(row, where, f, positive=False):
    v = row.get(f)
    if not isinstance(v, str): errors.append(f"{where}: {f} is {v!r}, not Storm's string"); return
    if positive and float(v) <= 0: errors.append(f"{where}: {f} is {v}, want > 0")
a = n - (n + 2) // 3          # n % 3 != 0
b = (n + 2) // 3              # n % 3 == 0
b_fail = (n + 5) // 6         # n % 6 == 0
src = load("src")
out = rows(src, "outputStats", "stream")
if sorted(out) != ["a", "b"]: errors.append(f"src outputStats streams {sorted(out)}")
else:
    want(out["a"], "src a", emitted=a, transferred=a, acked=a, failed=0)
    want(out["b"], "src b", emitted=b, transferred=b, acked=b - b_fail, failed=b_fail)
    for s in ("a", "b"): latency(out[s], f"src {s}", "completeLatency", positive=True)
    tot = src["spoutSummary"][0]
    if tot["acked"] != out["a"]["acked"] + out["b"]["acked"] or tot["failed"] != out["a"]["failed"] + out["b"]["failed"]:
        errors.append(f"src streams do not add up to its totals {tot['acked']}/{tot['failed']}")
work = load("work")
ins = rows(work, "inputStats", "component", "stream")
if sorted(ins) != [("src", "a"), ("src", "b")]: errors.append(f"work inputStats {sorted(ins)}")
else:
    want(ins[("src", "a")], "work <- src:a", executed=a, acked=a, failed=0)
    want(ins[("src", "b")], "work <- src:b", executed=b, acked=b - b_fail, failed=b_fail)
    for k in ins:
        latency(ins[k], f"work <- {k}", "executeLatency")
        latency(ins[k], f"work <- {k}", "processLatency", positive=True)
wo = rows(work, "outputStats", "stream")
if sorted(wo) != ["x", "y"]: errors.append(f"work outputStats {sorted(wo)}")
else:
    want(wo["x"], "work x", emitted=a, transferred=a)
    want(wo["y"], "work y", emitted=2 * (b - b_fail), transferred=2 * (b - b_fail))
sink = load("sink")
si = rows(sink, "inputStats", "component", "stream")
if sorted(si) != [("work", "x"), ("work", "y")]: errors.append(f"sink inputStats {sorted(si)}")
else:
    want(si[("work", "x")], "sink <- work:x", executed=a, acked=a, failed=0)
    want(si[("work", "y")], "sink <- work:y", executed=2 * (b - b_fail), acked=2 * (b - b_fail), failed=0)
for e in errors: print("  " + e)
sys.exit(1 if errors else 0)
PY
echo "PASS"
