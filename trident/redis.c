/*
 * redis.c — one Redis connection with settings from a conf and a
 * non-blocking reconnect backoff (redis.h).
 */
#include "trident/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/builtin.h"
#include "common/config.h"
#include "common/log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct gale__redis {
    redisContext *c;
    char host[256], addr[300], who[128];
    int port, db, task;
    char *password;
    int64_t connect_ms, command_ms;
    int64_t next_try_ns, backoff_ms;
    unsigned long gen; /* connections made */
};

gale__redis_t *gale__redis_new(const gale_conf_t *conf, const char *who, int task) {
    gale__redis_t *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    snprintf(r->host, sizeof r->host, "%s",
             gale_conf_get_str(conf, GALE_CONF_REDIS_HOST, "127.0.0.1"));
    r->port = (int)gale_conf_get_int(conf, GALE_CONF_REDIS_PORT, 6379);
    r->db = (int)gale_conf_get_int(conf, GALE_CONF_REDIS_DB, 0);
    const char *pw = gale_conf_get_str(conf, GALE_CONF_REDIS_PASSWORD, NULL);
    if (pw && !(r->password = strdup(pw))) {
        free(r);
        return NULL;
    }
    r->connect_ms = gale_conf_get_int(conf, GALE_CONF_REDIS_CONNECT_TIMEOUT_MILLIS, 2000);
    r->command_ms = gale_conf_get_int(conf, GALE_CONF_REDIS_COMMAND_TIMEOUT_MILLIS, 5000);
    snprintf(r->addr, sizeof r->addr, "%s:%d", r->host, r->port);
    snprintf(r->who, sizeof r->who, "%s", who ? who : "-");
    r->task = task;
    r->backoff_ms = BACKOFF_MIN_MS;
    return r;
}

static void drop(gale__redis_t *r) {
    if (r->c) redisFree(r->c);
    r->c = NULL;
}

void gale__redis_free(gale__redis_t *r) {
    if (!r) return;
    drop(r);
    free(r->password);
    free(r);
}

unsigned long gale__redis_generation(const gale__redis_t *r) {
    return r->gen;
}

const char *gale__redis_addr(const gale__redis_t *r) {
    return r->addr;
}

static struct timeval millis(int64_t ms) {
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* AUTH (or PING) and SELECT on a fresh connection: 0, GALE_ESTATE (the
 * settings are wrong) or GALE_EIO (the connection failed), with err. */
static int handshake(gale__redis_t *r, char *err, size_t errlen) {
    char dbs[16];
    snprintf(dbs, sizeof dbs, "%d", r->db);
    const char *auth[] = {"AUTH", r->password}, *sel[] = {"SELECT", dbs}, *ping[] = {"PING"};
    /* without a password, a PING tells a server that wants one (NOAUTH)
     * now, rather than as an odd error on the first real command */
    struct {
        const char **argv;
        int argc;
        bool wanted;
        const char *fix;
    } steps[] = {{auth, 2, r->password != NULL, "check redis.password"},
                 {ping, 1, r->password == NULL, "set redis.password"},
                 {sel, 2, r->db != 0, "check redis.db"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (!steps[i].wanted) continue;
        redisReply *rep = redisCommandArgv(r->c, steps[i].argc, steps[i].argv, NULL);
        int rc = 0;
        if (!rep) {
            /* the connection failed, not the settings: retry */
            snprintf(err, errlen, "redis at %s: %s during %s; retrying in %lld ms", r->addr,
                     r->c->errstr[0] ? r->c->errstr : "connection lost", steps[i].argv[0],
                     (long long)r->backoff_ms);
            rc = GALE_EIO;
        } else if (rep->type == REDIS_REPLY_ERROR && steps[i].argv == ping &&
                   strncmp(rep->str, "NOAUTH", 6) != 0) {
            /* e.g. LOADING after a restart: not ready yet, retry */
            snprintf(err, errlen, "redis at %s is not ready: %s; retrying in %lld ms", r->addr,
                     rep->str, (long long)r->backoff_ms);
            rc = GALE_EIO;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "redis at %s refused %s: %s — %s", r->addr, steps[i].argv[0],
                     rep->str, steps[i].fix);
            rc = GALE_ESTATE;
        }
        if (rep) freeReplyObject(rep);
        if (rc) return rc;
    }
    return 0;
}

int gale__redis_ensure(gale__redis_t *r, char *err, size_t errlen) {
    if (r->c) return 0;
    int64_t now = gale__now_ns();
    if (now < r->next_try_ns) {
        snprintf(err, errlen, "redis at %s: next connection attempt in %lld ms", r->addr,
                 (long long)((r->next_try_ns - now) / 1000000));
        return GALE_EFULL;
    }
    struct timeval ct = millis(r->connect_ms), cmd = millis(r->command_ms);
    r->c = redisConnectWithTimeout(r->host, r->port, ct);
    int rc = 0;
    if (!r->c || r->c->err) {
        snprintf(err, errlen,
                 "cannot reach redis at %s: %s — is redis-server running? (redis.host, "
                 "redis.port); retrying in %lld ms",
                 r->addr, r->c ? r->c->errstr : "out of memory", (long long)r->backoff_ms);
        rc = GALE_EIO;
    } else if (redisSetTimeout(r->c, cmd) != REDIS_OK) {
        snprintf(err, errlen, "redis at %s: cannot set the command timeout; retrying in %lld ms",
                 r->addr, (long long)r->backoff_ms);
        rc = GALE_EIO;
    } else {
        rc = handshake(r, err, errlen);
    }
    if (rc == GALE_ESTATE) {
        /* a wrong redis.password or redis.db: no retry fixes it, so the
         * run stops (gale local exits 1, a worker exits) instead of
         * retrying for ever */
        drop(r);
        GALE_ERROR(r->who, r->task, "%s; stopping: a retry cannot fix a setting", err);
        gale__builtin_fatal();
        r->next_try_ns = now + (int64_t)BACKOFF_MAX_MS * 1000000;
        return rc;
    }
    if (rc) {
        drop(r);
        GALE_ERROR(r->who, r->task, "%s", err);
        r->next_try_ns = now + r->backoff_ms * 1000000;
        r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
        return rc;
    }
    if (r->backoff_ms > BACKOFF_MIN_MS)
        GALE_INFO(r->who, r->task, "connected to redis at %s", r->addr);
    r->backoff_ms = BACKOFF_MIN_MS;
    r->next_try_ns = 0;
    r->gen++;
    return 0;
}

/* A reply, or NULL with rc/err: an I/O error drops the connection. */
static redisReply *checked(gale__redis_t *r, redisReply *rep, int ok, int *rc, char *err,
                           size_t errlen) {
    if (ok != REDIS_OK || !rep) {
        snprintf(err, errlen, "redis at %s: %s", r->addr,
                 r->c && r->c->errstr[0] ? r->c->errstr : "connection lost");
        if (rep) freeReplyObject(rep);
        drop(r);
        *rc = GALE_EIO;
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis at %s: %s", r->addr, rep->str);
        freeReplyObject(rep);
        *rc = GALE_EPROTO;
        return NULL;
    }
    *rc = 0;
    return rep;
}

redisReply *gale__redis_cmd(gale__redis_t *r, int argc, const char **argv, const size_t *lens,
                            int *rc, char *err, size_t errlen) {
    if (!r->c) {
        snprintf(err, errlen, "redis at %s: not connected", r->addr);
        *rc = GALE_EIO;
        return NULL;
    }
    redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
    return checked(r, rep, rep ? REDIS_OK : REDIS_ERR, rc, err, errlen);
}

int gale__redis_append(gale__redis_t *r, int argc, const char **argv, const size_t *lens) {
    if (!r->c) return GALE_EIO;
    return redisAppendCommandArgv(r->c, argc, argv, lens) == REDIS_OK ? 0 : GALE_ENOMEM;
}

redisReply *gale__redis_read(gale__redis_t *r, int *rc, char *err, size_t errlen) {
    if (!r->c) {
        snprintf(err, errlen, "redis at %s: not connected", r->addr);
        *rc = GALE_EIO;
        return NULL;
    }
    void *rep = NULL;
    int ok = redisGetReply(r->c, &rep);
    return checked(r, rep, ok, rc, err, errlen);
}
