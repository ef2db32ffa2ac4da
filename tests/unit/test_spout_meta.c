/*
 * test_spout_meta.c — spout0's batch records (trident/spout_meta.c)
 * against a real redis-server: a batch whose previous txid has no record
 * yet (that batch failed before it was planned, e.g. while Redis was
 * down) is failed for an in-order replay, never planned from the
 * partition's start (which counted the lines before it twice: 0084 found
 * it in the cluster); once the previous txid is committed, a missing
 * record (deleted by hand) is planned from the start with a warning.
 *
 * The context is a real one: a one-task bolt named spout0 in a runtime
 * hands its context to the test, which drives gale__spout_meta_emit from
 * the test's thread with a batch spout defined here (batches of 10
 * "lines": metadata [start, end)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "redis_fixture.h"
#include "rt_harness.h"
#include "trident/spout_meta.h"

static redis_fixture_t F;
static const gale_context_t *_Atomic ctx_seen;

/* ---------- the runtime that gives us a context ---------- */

static void src_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare_stream(d, "default", "x", false);
}
static void src_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
}
const gale_spout_t t_idle_spout = {src_declare, harness_counter_open,  src_next, NULL, NULL, NULL,
                                   NULL,        harness_counter_close, NULL};

static int ctx_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    *st = NULL;
    atomic_store(&ctx_seen, ctx);
    return 0;
}
static int ctx_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    return 0;
}
const gale_bolt_t t_ctx_bolt = {NULL, ctx_prepare, ctx_execute, NULL, false};

static bool ctx_ready(void) {
    return atomic_load(&ctx_seen) != NULL;
}

/* ---------- a batch spout: 10 lines a batch ---------- */

typedef struct {
    gale_value_t meta[2];
} tspout_t;
static int64_t last_start = -1, plans, emits;

static int ts_open(void **st, const gale_context_t *ctx, int partition, int n) {
    (void)ctx;
    (void)partition;
    (void)n;
    *st = calloc(1, sizeof(tspout_t));
    return *st ? 0 : GALE_ENOMEM;
}
static int ts_plan(void *st, uint64_t txid, const gale_value_t *prev, gale_value_t *meta) {
    tspout_t *s = st;
    (void)txid;
    int64_t start = prev ? prev->u.a[1].u.i : 0;
    s->meta[0] = gale_int(start);
    s->meta[1] = gale_int(start + 10);
    *meta = gale_array(s->meta, 2);
    plans++;
    return 0;
}
static int ts_emit(void *st, uint64_t txid, const gale_value_t *meta, gale_trident_collector_t *c) {
    (void)st;
    (void)txid;
    (void)c;
    last_start = meta->u.a[0].u.i;
    emits++;
    return 0;
}
static void ts_close(void *st) {
    free(st);
}
static const gale_batch_spout_t tspout = {
    "line", GALE_BATCH_TRANSACTIONAL, ts_open, ts_plan, ts_emit, ts_close};
static const gale_batch_spout_t tspout_opaque = {"line",  GALE_BATCH_OPAQUE, ts_open,
                                                 ts_plan, ts_emit,           ts_close};

static long long hexists(const char *key, const char *field) {
    redisReply *r = redis_fixture_cmd(&F, NULL, "HEXISTS %s %s", key, field);
    assert_non_null(r);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static void redis_ok(const char *fmt, const char *a, const char *b) {
    redisReply *r = redis_fixture_cmd(&F, NULL, fmt, a, b);
    assert_non_null(r);
    assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
}

#define META      "gale:trident:test:sentences:meta:0"
#define COMMITTED "gale:trident:test:sentences:committed"

static void run(const gale_batch_spout_t *sp) {
    redis_ok("DEL %s %s", META, COMMITTED);
    gale__spout_meta_t *m = NULL;
    assert_int_equal(gale__spout_meta_open(&m, atomic_load(&ctx_seen), sp, "sentences"), 0);
    char err[400] = "";
    plans = emits = 0;
    assert_int_equal(gale__spout_meta_emit(m, 1, 0, NULL, err, sizeof err), 0);
    assert_int_equal(last_start, 0);

    /* txid 2 failed before it was planned: txid 3 must not plan from 0 */
    err[0] = '\0';
    assert_int_equal(gale__spout_meta_emit(m, 3, 0, NULL, err, sizeof err), GALE_ESTATE);
    assert_non_null(strstr(err, "no batch record of txid 2"));
    assert_non_null(strstr(err, "failing txid 3"));
    assert_int_equal(plans, 1);
    assert_int_equal(emits, 1);
    assert_int_equal(hexists(META, "3"), 0);

    /* the replays, in order: 2 from 1's end, 3 from 2's */
    assert_int_equal(gale__spout_meta_emit(m, 2, 1, NULL, err, sizeof err), 0);
    assert_int_equal(last_start, 10);
    assert_int_equal(gale__spout_meta_emit(m, 3, 1, NULL, err, sizeof err), 0);
    assert_int_equal(last_start, 20);

    /* committed through 4 and record 4 deleted by hand: 5 plans from the
     * start (with a warning) rather than never running again */
    redis_ok("SET %s %s", COMMITTED, "4");
    assert_int_equal(hexists(META, "4"), 0);
    assert_int_equal(gale__spout_meta_emit(m, 5, 0, NULL, err, sizeof err), 0);
    assert_int_equal(last_start, 0);
    gale__spout_meta_free(m);
}

static void test_transactional(void **st) {
    (void)st;
    run(&tspout);
}
static void test_opaque(void **st) {
    (void)st;
    run(&tspout_opaque);
}

static gale__rt_t *RT;

static int setup(void **st) {
    (void)st;
    if (redis_fixture_start(&F, NULL)) return -1;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "src", t_idle_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "spout0", t_ctx_bolt, 1), "src", NULL);
    gale_conf_t *conf = redis_fixture_conf(&F);
    RT = harness_must(b, "test", conf, true); /* takes b and conf */
    return wait_until(ctx_ready, 10) ? 0 : -1;
}

static int teardown(void **st) {
    (void)st;
    if (RT) {
        gale__rt_stop(RT, 2000);
        gale__rt_destroy(RT);
    }
    redis_fixture_stop(&F);
    return 0;
}

int main(void) {
    gale__log_set_level(GALE_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transactional),
        cmocka_unit_test(test_opaque),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
