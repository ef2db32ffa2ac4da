/*
 * test_redis.c — the micro-batch layer's Redis connection (trident/redis.c)
 * against a real redis-server: one log line per failed attempt with a
 * doubling backoff and no attempt in between, a wrong or missing
 * password, redis.db, a server error reply (the connection stays), an
 * I/O error or command timeout (the connection drops and comes back),
 * pipelining.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/builtin.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "log_fixture.h"
#include "redis_fixture.h"
#include "trident/redis.h"

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Ensure until it stops saying "not yet" (GALE_EFULL), at most 10 s. */
static int ensure_attempt(gale__redis_t *r, char *err, size_t errlen) {
    int rc = GALE_EFULL;
    for (int64_t end = gale__now_ns() + 10000000000LL; rc == GALE_EFULL && gale__now_ns() < end;) {
        rc = gale__redis_ensure(r, err, errlen);
        if (rc == GALE_EFULL) sleep_ms(5);
    }
    return rc;
}

static void test_unreachable_backoff(void **st) {
    (void)st;
    static redis_fixture_t f; /* static: the atexit cleanup may still see it */
    assert_int_equal(redis_fixture_start(&f, NULL), 0);
    redis_fixture_kill(&f); /* a port where nothing listens */
    gale_conf_t *c = redis_fixture_conf(&f);
    gale__redis_t *r = gale__redis_new(c, "spout", 3);
    char err[512], want[128];
    log_capture_start();
    /* attempts 1..4: one line each, the wait doubling; none in between */
    static const int waits[] = {100, 200, 400, 800};
    for (int i = 0; i < 4; i++) {
        int64_t t0 = gale__now_ns();
        int rc = ensure_attempt(r, err, sizeof err);
        int64_t waited_ms = (gale__now_ns() - t0) / 1000000;
        assert_int_equal(rc, GALE_EIO);
        snprintf(want, sizeof want, "cannot reach redis at 127.0.0.1:%d", f.port);
        assert_non_null(strstr(err, want));
        assert_non_null(strstr(err, "redis.port"));
        snprintf(want, sizeof want, "retrying in %d ms", waits[i]);
        assert_non_null(strstr(err, want));
        if (i > 0 && waited_ms < waits[i - 1] - 5)
            fail_msg("attempt %d after %lld ms, before the %d ms backoff", i + 1,
                     (long long)waited_ms, waits[i - 1]);
        /* during the backoff: no attempt, no line */
        assert_int_equal(gale__redis_ensure(r, err, sizeof err), GALE_EFULL);
        assert_non_null(strstr(err, "next connection attempt in"));
    }
    assert_int_equal(log_capture_count("cannot reach redis"), 4);
    assert_int_equal(log_capture_count("spout:3"), 4);
    /* not connected: commands fail at once */
    int rc;
    const char *ping[] = {"PING"};
    assert_null(gale__redis_cmd(r, 1, ping, NULL, &rc, err, sizeof err));
    assert_int_equal(rc, GALE_EIO);
    assert_non_null(strstr(err, "not connected"));
    assert_int_equal(gale__redis_append(r, 1, ping, NULL), GALE_EIO);
    /* back: the next attempt connects, one line says so, the backoff resets */
    assert_int_equal(redis_fixture_restart(&f), 0);
    assert_int_equal(ensure_attempt(r, err, sizeof err), 0);
    assert_int_equal(log_capture_count("connected to redis at"), 1);
    assert_int_equal(gale__redis_generation(r), 1);
    log_capture_stop();
    gale__redis_free(r);
    gale_conf_destroy(c);
    redis_fixture_stop(&f);
}

static void test_password(void **st) {
    (void)st;
    static redis_fixture_t f; /* static: the atexit cleanup may still see it */
    const char *args[] = {"--requirepass", "sesame", NULL};
    assert_int_equal(redis_fixture_start(&f, args), 0);
    gale_conf_t *c = redis_fixture_conf(&f);
    char err[512];
    log_capture_start();
    gale__redis_t *r = gale__redis_new(c, "state", 1);
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), GALE_ESTATE);
    assert_non_null(strstr(err, "NOAUTH"));
    assert_non_null(strstr(err, "set redis.password"));
    gale__redis_free(r);
    gale_conf_set_str(c, GALE_CONF_REDIS_PASSWORD, "wrong");
    r = gale__redis_new(c, "state", 1);
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), GALE_ESTATE);
    assert_non_null(strstr(err, "refused AUTH"));
    assert_non_null(strstr(err, "check redis.password"));
    gale__redis_free(r);
    assert_int_equal(log_capture_count("redis.password"), 2);
    /* a setting no retry fixes stops the run (gale local exits 1) */
    assert_int_equal(log_capture_count("stopping: a retry cannot fix a setting"), 2);
    assert_true(gale__builtin_failed());
    log_capture_stop();
    gale_conf_set_str(c, GALE_CONF_REDIS_PASSWORD, "sesame");
    r = gale__redis_new(c, "state", 1);
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), 0);
    int rc;
    const char *ping[] = {"PING"};
    redisReply *rep = gale__redis_cmd(r, 1, ping, NULL, &rc, err, sizeof err);
    assert_non_null(rep);
    freeReplyObject(rep);
    gale__redis_free(r);
    gale_conf_destroy(c);
    redis_fixture_stop(&f);
}

static void test_db(void **st) {
    (void)st;
    static redis_fixture_t f; /* static: the atexit cleanup may still see it */
    assert_int_equal(redis_fixture_start(&f, NULL), 0);
    gale_conf_t *c = redis_fixture_conf(&f);
    gale_conf_set_int(c, GALE_CONF_REDIS_DB, 3);
    gale__redis_t *r = gale__redis_new(c, "state", 1);
    char err[512];
    int rc;
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), 0);
    const char *set[] = {"SET", "where", "db3"};
    redisReply *rep = gale__redis_cmd(r, 3, set, NULL, &rc, err, sizeof err);
    assert_non_null(rep);
    freeReplyObject(rep);
    rep = redis_fixture_cmd(&f, NULL, "GET where");
    assert_int_equal(rep->type, REDIS_REPLY_NIL); /* not in db 0 */
    freeReplyObject(rep);
    freeReplyObject(redis_fixture_cmd(&f, NULL, "SELECT 3"));
    rep = redis_fixture_cmd(&f, NULL, "GET where");
    assert_string_equal(rep->str, "db3");
    freeReplyObject(rep);
    gale__redis_free(r);
    /* a db the server does not have (16 by default) */
    gale_conf_set_int(c, GALE_CONF_REDIS_DB, 99);
    r = gale__redis_new(c, "state", 1);
    log_capture_start();
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), GALE_ESTATE);
    assert_non_null(strstr(err, "refused SELECT"));
    assert_non_null(strstr(err, "check redis.db"));
    assert_int_equal(log_capture_count("check redis.db"), 1);
    log_capture_stop();
    gale__redis_free(r);
    gale_conf_destroy(c);
    redis_fixture_stop(&f);
}

static void test_errors_and_drops(void **st) {
    (void)st;
    static redis_fixture_t f; /* static: the atexit cleanup may still see it */
    assert_int_equal(redis_fixture_start(&f, NULL), 0);
    gale_conf_t *c = redis_fixture_conf(&f);
    gale_conf_set_int(c, GALE_CONF_REDIS_COMMAND_TIMEOUT_MILLIS, 300);
    gale__redis_t *r = gale__redis_new(c, "state", 1);
    char err[512];
    int rc;
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), 0);
    /* a server error: GALE_EPROTO with its message; the connection stays */
    const char *set[] = {"SET", "s", "text"}, *incr[] = {"INCR", "s"}, *ping[] = {"PING"};
    freeReplyObject(gale__redis_cmd(r, 3, set, NULL, &rc, err, sizeof err));
    assert_null(gale__redis_cmd(r, 2, incr, NULL, &rc, err, sizeof err));
    assert_int_equal(rc, GALE_EPROTO);
    assert_non_null(strstr(err, "not an integer"));
    redisReply *rep = gale__redis_cmd(r, 1, ping, NULL, &rc, err, sizeof err);
    assert_non_null(rep);
    freeReplyObject(rep);
    assert_int_equal(gale__redis_generation(r), 1);
    /* the server drops us: GALE_EIO, then ensure connects anew */
    rep = redis_fixture_cmd(&f, NULL, "CLIENT KILL TYPE normal SKIPME yes");
    assert_non_null(rep);
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);
    assert_null(gale__redis_cmd(r, 1, ping, NULL, &rc, err, sizeof err));
    assert_int_equal(rc, GALE_EIO);
    assert_null(gale__redis_cmd(r, 1, ping, NULL, &rc, err, sizeof err));
    assert_non_null(strstr(err, "not connected"));
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), 0);
    assert_int_equal(gale__redis_generation(r), 2);
    /* a command slower than redis.command.timeout.millis drops it too */
    const char *blpop[] = {"BLPOP", "nothing", "3"};
    int64_t t0 = gale__now_ns();
    assert_null(gale__redis_cmd(r, 3, blpop, NULL, &rc, err, sizeof err));
    assert_int_equal(rc, GALE_EIO);
    assert_true((gale__now_ns() - t0) / 1000000 < 2000);
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), 0);
    assert_int_equal(gale__redis_generation(r), 3);
    gale__redis_free(r);
    gale_conf_destroy(c);
    redis_fixture_stop(&f);
}

static void test_pipelining(void **st) {
    (void)st;
    static redis_fixture_t f; /* static: the atexit cleanup may still see it */
    assert_int_equal(redis_fixture_start(&f, NULL), 0);
    gale_conf_t *c = redis_fixture_conf(&f);
    gale__redis_t *r = gale__redis_new(c, "state", 1);
    char err[512];
    int rc;
    assert_int_equal(gale__redis_ensure(r, err, sizeof err), 0);
    /* binary-safe arguments with lens */
    const char *set[] = {"SET", "p", "1\0x"}, *incr[] = {"INCR", "p"}, *get[] = {"GET", "p"};
    size_t setl[] = {3, 1, 3};
    long long n0 = redis_fixture_calls(&f, NULL, "get");
    assert_int_equal(gale__redis_append(r, 3, set, setl), 0);
    assert_int_equal(gale__redis_append(r, 2, incr, NULL), 0);
    assert_int_equal(gale__redis_append(r, 2, get, NULL), 0);
    redisReply *rep = gale__redis_read(r, &rc, err, sizeof err);
    assert_non_null(rep);
    freeReplyObject(rep);
    /* the middle one fails (not an integer) without spoiling the next */
    assert_null(gale__redis_read(r, &rc, err, sizeof err));
    assert_int_equal(rc, GALE_EPROTO);
    rep = gale__redis_read(r, &rc, err, sizeof err);
    assert_non_null(rep);
    assert_int_equal(rep->len, 3);
    assert_memory_equal(rep->str, "1\0x", 3);
    freeReplyObject(rep);
    assert_int_equal(redis_fixture_calls(&f, NULL, "get") - n0, 1);
    /* after the server is gone every read fails */
    assert_int_equal(gale__redis_append(r, 2, get, NULL), 0);
    assert_int_equal(gale__redis_append(r, 2, get, NULL), 0);
    redis_fixture_kill(&f);
    assert_null(gale__redis_read(r, &rc, err, sizeof err));
    assert_int_equal(rc, GALE_EIO);
    assert_null(gale__redis_read(r, &rc, err, sizeof err));
    assert_int_equal(rc, GALE_EIO);
    gale__redis_free(r);
    gale_conf_destroy(c);
    redis_fixture_stop(&f);
}

int main(void) {
    gale__log_set_level(GALE_LOG_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable_backoff),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_db),
        cmocka_unit_test(test_errors_and_drops),
        cmocka_unit_test(test_pipelining),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
