#!/usr/bin/env bash
# 0079 — the scenario tests' redis-server (redis_lib.sh): starts on a free
# port in $TMP, a write fsynced to the AOF survives kill -9 and a restart
# on the same port, and the server is gone once the test ends.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/redis_lib.sh"

start_redis --appendonly yes --appendfsync always
[[ $(redis_cli SET k v) == OK ]] || fail "SET on redis at port $REDIS_PORT failed"
port=$REDIS_PORT pid=$REDIS_PID
kill_redis
kill -0 "$pid" 2>/dev/null && fail "redis $pid still running after kill_redis"
restart_redis
[[ $REDIS_PORT == "$port" ]] || fail "restart_redis moved from port $port to $REDIS_PORT"
[[ $(redis_cli GET k) == v ]] || fail "the fsynced write did not survive kill -9 + restart"
stop_redis

# a password: NOAUTH still counts as up
start_redis --requirepass pw
[[ $(REDISCLI_AUTH=pw redis_cli PING) == PONG ]] || fail "AUTH with the password failed"
echo "ok: redis at port $REDIS_PORT (pid $REDIS_PID)"
