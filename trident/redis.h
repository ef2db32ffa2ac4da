/*
 * redis.h — one Redis connection of the micro-batch layer (hiredis), as
 * the coordinator and the state bolts use it.
 *
 * Settings come from a conf (redis.host, redis.port, redis.db,
 * redis.password, redis.connect.timeout.millis,
 * redis.command.timeout.millis). Connecting never blocks past the connect
 * timeout and never loops: gale__redis_ensure makes at most one attempt
 * per backoff step (100 ms doubling to 5 s, reset on success) and logs one
 * line per failed attempt, so an executor calls it from its loop and does
 * other work (or nothing) meanwhile. A command that fails on the
 * connection drops it; the next ensure reconnects.
 *
 * Not thread-safe: one connection per thread (each executor opens its own).
 */
#ifndef GALE_TRIDENT_REDIS_H
#define GALE_TRIDENT_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "gale/gale.h"

typedef struct gale__redis gale__redis_t;

/** @brief Read the settings (no connection yet); who names the user in
 * log lines (e.g. a component id). NULL on out of memory. */
gale__redis_t *gale__redis_new(const gale_conf_t *conf, const char *who, int task);
/** @brief Close and free; NULL is fine. */
void gale__redis_free(gale__redis_t *r);

/**
 * @brief Be connected: 0 when connected (now or already). While the
 * backoff runs, GALE_EFULL without an attempt (err says when the next
 * one is due). A failed attempt logs one line and returns GALE_EIO
 * (unreachable: "cannot reach redis at H:P: <why> — is redis-server
 * running? (redis.host, redis.port); retrying in N ms") or GALE_ESTATE
 * (AUTH or SELECT refused: "check redis.password" / "redis.db").
 */
int gale__redis_ensure(gale__redis_t *r, char *err, size_t errlen);

/** @brief How many connections have been made so far: changes whenever
 * ensure connects anew (per-connection setup such as SCRIPT LOAD keys on
 * it). 0 before the first. */
unsigned long gale__redis_generation(const gale__redis_t *r);

/** @brief "host:port", for messages. */
const char *gale__redis_addr(const gale__redis_t *r);

/**
 * @brief Run one command (argv form, binary-safe; lens may be NULL for
 * NUL-terminated args). The reply, to freeReplyObject(); or NULL with err
 * set: not connected or an I/O error (GALE_EIO, the connection dropped),
 * or the server answered an error (GALE_EPROTO, err = its message).
 */
redisReply *gale__redis_cmd(gale__redis_t *r, int argc, const char **argv, const size_t *lens,
                            int *rc, char *err, size_t errlen);

/**
 * @brief Pipelining: queue commands with gale__redis_append, then read as
 * many replies with gale__redis_read (same error rules as gale__redis_cmd;
 * after an I/O error every later read fails too).
 */
int gale__redis_append(gale__redis_t *r, int argc, const char **argv, const size_t *lens);
redisReply *gale__redis_read(gale__redis_t *r, int *rc, char *err, size_t errlen);

#endif
