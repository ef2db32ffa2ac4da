# shellcheck shell=bash
# ui_lib.sh — `gale ui` for the scenario tests; source after cluster_lib.sh.
#   start_ui DIR        UI_PORT (port 0: the port from DIR/local/ui.port), UI_URL
#   api PATH            GET $UI_URL/api/v1/PATH, body on stdout (fails on a non-2xx)
start_ui() {
    local dir=$1
    mkdir -p "$dir"
    setsid "$GALE_BIN" ui -c "gale.local.dir=$dir/local" -c "gale.log.dir=$dir/logs" \
        -c "nimbus.port=$NIMBUS_PORT" -c ui.port=0 >>"$dir/stdout" 2>&1 &
    GROUPS_STARTED+=("$!")
    wait_for 20 test -s "$dir/local/ui.port" || fail "gale ui did not start: $(tail -3 "$dir/stdout")"
    UI_PORT=$(cat "$dir/local/ui.port")
    UI_URL="http://127.0.0.1:$UI_PORT"
}
api() { curl -sf --max-time 10 "$UI_URL/api/v1/$1"; }
