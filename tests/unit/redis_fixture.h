/*
 * redis_fixture.h — a real redis-server for unit tests: started on a free
 * loopback port in its own temp dir, stopped (and the dir removed) by
 * redis_fixture_stop, and killed anyway if the test process dies (the
 * server gets SIGKILL when its parent does: PR_SET_PDEATHSIG) or exits
 * without stopping it (an atexit handler).
 *
 * Use from cmocka setup/teardown so a failing test still stops it:
 *   static int setup(void **st) { ... redis_fixture_start(&f, NULL) ... }
 *   static int teardown(void **st) { redis_fixture_stop(&f); ... }
 *
 * The fixture struct must outlive the test (a global or a static: the
 * atexit cleanup keeps a pointer to it). Not thread-safe: call from the
 * test's main thread.
 */
#ifndef GALE_TEST_REDIS_FIXTURE_H
#define GALE_TEST_REDIS_FIXTURE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <sys/types.h>

#include "gale/gale.h"

#define REDIS_FIXTURE_MAX_ARGS 16

typedef struct redis_fixture {
    pid_t pid;     /* 0 when not running */
    int port;      /* kept across kill/restart */
    char dir[256]; /* its --dir and log file (redis.log) */
    const char *extra[REDIS_FIXTURE_MAX_ARGS + 1];
    redisContext *admin; /* the fixture's own connection (lazily made) */
} redis_fixture_t;

/**
 * @brief Start redis-server on a free loopback port in a fresh temp dir,
 * with extra arguments (NULL-terminated list, may be NULL; e.g.
 * {"--requirepass", "pw", NULL} or {"--appendonly", "yes",
 * "--appendfsync", "always", NULL}; the strings must outlive the
 * fixture). Returns once it answers PING: 0, or -1 with a line on stderr.
 */
int redis_fixture_start(redis_fixture_t *f, const char *const *extra);
/** @brief Kill the server (SIGKILL, waited for); the port and dir stay,
 * for restart. Fine when not running. */
void redis_fixture_kill(redis_fixture_t *f);
/** @brief Start it again on the same port and dir with the same
 * arguments (kills it first if running). 0 or -1. */
int redis_fixture_restart(redis_fixture_t *f);
/** @brief Kill it and remove its dir; fine when never started. */
void redis_fixture_stop(redis_fixture_t *f);
int redis_fixture_port(const redis_fixture_t *f);

/** @brief A new conf with redis.host and redis.port of this server (to
 * gale_conf_destroy). */
gale_conf_t *redis_fixture_conf(const redis_fixture_t *f);

/** @brief Run a command on the fixture's own connection (authenticating
 * with password when not NULL); the reply to freeReplyObject, or NULL. */
redisReply *redis_fixture_cmd(redis_fixture_t *f, const char *password, const char *fmt, ...);

/** @brief The calls of one command so far (INFO commandstats, e.g.
 * "evalsha", "mget"); 0 when never called, -1 on error. */
long long redis_fixture_calls(redis_fixture_t *f, const char *password, const char *command);

#endif
