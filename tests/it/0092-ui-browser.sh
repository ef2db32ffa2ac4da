#!/usr/bin/env bash
# 0092 — gale ui's web pages in a real browser: headless Chromium
# (Debian's chromium) driven by playwright-core (from the npm registry,
# installed on the first run into <build>/node-cache and reused after).
# Nimbus, one supervisor with two slots, WordCount (the random-sentence
# spout: it runs until killed) on 2 workers, `gale ui`; then
# tests/it/ui_browser.js checks that:
#  - the cluster page lists the supervisor (2 slots) and the topology;
#  - its link opens the topology page, whose components table shows
#    spout, split and count with nonzero emitted counts (the page
#    refreshes itself), the graph a box per component and an edge per
#    input with rates and capacity, the tables sort both ways, and each
#    worker links to its log page;
#  - Deactivate asks for a confirmation and, accepted, the status shows
#    INACTIVE (a screenshot then goes to <build>/ui-topology.png);
#    dismissed, Activate changes nothing; accepted, ACTIVE again;
#  - the component page has executors, input and output stats;
#  - markup in a URL (topology id, log file name) is shown as text and
#    runs nothing, and no request leaves the machine;
#  - the log page tails a worker log, searches it (and jumps to a match),
#    follows it, and lists the files.
# Exit 77 (skipped) only when chromium or node cannot be installed here.
# shellcheck source=tests/it/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/it/cluster_lib.sh
source "$(dirname "$0")/cluster_lib.sh"
# shellcheck source=tests/it/ui_lib.sh
source "$(dirname "$0")/ui_lib.sh"
WC="$GALE_BUILD/starter/word_count.so"

# ---- the browser and its driver (installed when missing) ----
apt_install() {
    [[ $(id -u) -eq 0 ]] || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >"$TMP/apt.log" 2>&1 ||
        { apt-get update >>"$TMP/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >>"$TMP/apt.log" 2>&1; }
}
CHROMIUM=$(command -v chromium || true)
if [[ -z $CHROMIUM ]]; then
    echo "installing chromium (scripts/deps.sh lists it)"
    apt_install chromium || { echo "SKIP: chromium is not installed and apt-get install chromium failed: $(tail -2 "$TMP/apt.log" 2>/dev/null)"; exit 77; }
    CHROMIUM=$(command -v chromium) || { echo "SKIP: no chromium after installing it"; exit 77; }
fi
# Debian's /usr/bin/chromium is a wrapper script; the browser itself is beside it
[[ -x /usr/lib/chromium/chromium ]] && CHROMIUM=/usr/lib/chromium/chromium
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm || { echo "SKIP: node/npm are not installed and apt-get install failed"; exit 77; }
fi
PW_DIR=$GALE_BUILD/node-cache
if [[ ! -f $PW_DIR/node_modules/playwright-core/package.json ]]; then
    echo "installing playwright-core into $PW_DIR (once)"
    mkdir -p "$PW_DIR"
    # playwright-core alone downloads no browser: it drives Debian's chromium
    npm install --prefix "$PW_DIR" --no-audit --no-fund --loglevel=error playwright-core@1 >"$TMP/npm.log" 2>&1 ||
        fail "npm install playwright-core failed: $(tail -3 "$TMP/npm.log")"
fi

# ---- the cluster ----
start_nimbus "$TMP/nimbus"
start_supervisor "$TMP/a" 127.0.0.1 "[$(free_port), $(free_port)]"
wait_joined 1
start_ui "$TMP/ui"
id=$(g jar "$WC" WordCountTopology -c topology.workers=2) || fail "gale jar failed"
TOPOLOGY_IDS+=("$id")
wait_workers "$id" 2 30
LV_PORT=$(api supervisor/summary | python3 -c 'import json,sys; print(json.load(sys.stdin)["supervisors"][0]["logviewerPort"])')

echo "check: the pages in headless chromium"
SHOT=$GALE_BUILD/ui-topology.png
rm -f "$SHOT"
PW_DIR=$PW_DIR CHROMIUM=$CHROMIUM UI_URL=$UI_URL TOPOLOGY_ID=$id SHOT=$SHOT \
    LV_URL="http://127.0.0.1:$LV_PORT" HOME=$TMP \
    timeout 80 node "$(dirname "$0")/ui_browser.js" || fail "the browser checks failed (above)"
[[ -s $SHOT ]] || fail "no screenshot at $SHOT"
g list | grep -Eq "^word-count +ACTIVE " || fail "not ACTIVE again after Activate: $(g list)"
echo "PASS"
