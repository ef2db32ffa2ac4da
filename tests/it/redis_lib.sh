# redis_lib.sh — a real redis-server for scenario tests; source it after
# lib.sh (it needs $TMP and fail, and extends the cleanup trap).
#
#   start_redis [ARGS...]   start redis-server on a free loopback port in
#                           $TMP/redis with extra ARGS (e.g. --appendonly yes
#                           --appendfsync always, --requirepass PW); sets
#                           REDIS_PORT and REDIS_PID; returns once it answers
#   stop_redis              SIGTERM and wait (a clean shutdown)
#   kill_redis              SIGKILL and wait (a crash: only what reached the
#                           AOF survives)
#   restart_redis [PORT]    stop it if running, start it again on PORT
#                           (default: the same port) with the same dir and ARGS
#   redis_cli ARGS...       redis-cli against it (REDISCLI_AUTH is honoured)
#
# Whatever happens, the EXIT trap kills the server.

REDIS_PID=
REDIS_PORT=
REDIS_DIR=
REDIS_ARGS=()

_redis_free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Up when PING answers (NOAUTH too: it is listening); fails if it exits.
_redis_spawn() {
    setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --save '' \
        --daemonize no --logfile "$REDIS_DIR/redis.log" "${REDIS_ARGS[@]}" </dev/null \
        >/dev/null 2>&1 &
    REDIS_PID=$!
    local end=$((SECONDS + 10)) out
    while ((SECONDS < end)); do
        if ! kill -0 "$REDIS_PID" 2>/dev/null; then
            wait "$REDIS_PID" 2>/dev/null || true
            REDIS_PID=
            return 1
        fi
        out=$(redis-cli -p "$REDIS_PORT" --no-auth-warning ping 2>&1 || true)
        [[ $out == PONG || $out == *NOAUTH* ]] && return 0
        sleep 0.05 # polling interval, not synchronisation
    done
    tail -n 5 "$REDIS_DIR/redis.log" >&2 || true
    fail "redis-server on port $REDIS_PORT did not answer within 10 s"
}

start_redis() {
    REDIS_ARGS=("$@")
    REDIS_DIR="$TMP/redis"
    mkdir -p "$REDIS_DIR"
    local attempt
    for attempt in 1 2 3 4 5; do # a free port can be taken before redis binds it
        REDIS_PORT=$(_redis_free_port)
        _redis_spawn && return 0
    done
    tail -n 5 "$REDIS_DIR/redis.log" >&2 || true
    fail "could not start redis-server (see the lines above)"
}

_redis_signal() {
    [[ -n "$REDIS_PID" ]] || return 0
    kill "-$1" "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=
}
stop_redis() { _redis_signal TERM; }
kill_redis() { _redis_signal KILL; }

restart_redis() {
    [[ -n "$REDIS_DIR" ]] || fail "restart_redis before start_redis"
    stop_redis
    REDIS_PORT=${1:-$REDIS_PORT}
    local end=$((SECONDS + 10))
    until _redis_spawn; do # the old socket may linger a moment
        ((SECONDS < end)) || fail "could not restart redis-server on port $REDIS_PORT"
        sleep 0.1
    done
}

redis_cli() { redis-cli -p "$REDIS_PORT" --no-auth-warning "$@"; }

trap '_redis_signal KILL; cleanup' EXIT
