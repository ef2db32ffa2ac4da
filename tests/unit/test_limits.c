/*
 * test_limits.c — the wire's limits hold the same in one worker and in
 * many: what the codec refuses is refused at submit (stream ids, field
 * counts) or at emit (values), with an error naming the limit, never
 * dropped silently between workers; no value walk recurses without a
 * bound; an all grouping reaches every task; a double subscription is
 * refused; many local workers start and stop.
 *
 * Components are resolved by name (-rdynamic). Waits poll with deadlines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/config.h"
#include "common/value.h"
#include "topology/topology.h"
#include "worker/runtime.h"
#include "rt_harness.h"

static _Atomic int64_t executed, emit_ok, emit_erange, emit_other, delivered_mask_bad;

static bool wait_for(_Atomic int64_t *v, int64_t want, int secs) {
    int64_t deadline = gale__now_ns() + (int64_t)secs * 1000000000;
    while (atomic_load(v) < want && gale__now_ns() < deadline) usleep(2000);
    return atomic_load(v) >= want;
}

/* Build, validate (rc returned, err filled) and, when valid, start. */
static int build(gale_builder_t *b, gale_conf_t *conf, gale__rt_t **out, char *err, size_t n) {
    return harness_make(b, "limits", conf, true, out, err, n);
}

static gale__rt_t *must_start(gale_builder_t *b, gale_conf_t *conf) {
    return harness_must(b, "limits", conf, true);
}

static void finish(gale__rt_t *rt) {
    gale__rt_stop(rt, 2000);
    gale__rt_destroy(rt);
}

static gale_conf_t *workers(int n) {
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, n);
    return c;
}

/* ---------- components ---------- */

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "v");
}

static int count_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    atomic_fetch_add(&executed, 1);
    return 0;
}
const gale_bolt_t l_count_bolt = {.execute = count_execute, .basic = true};

/* Emits 20 values nested `deep` levels, then 20 ints; counts the results. */
static _Atomic int deep_levels;
static void deep_next(void *st, gale_spout_collector_t *c) {
    int64_t *n = st;
    if (*n >= 40) return;
    int levels = atomic_load(&deep_levels);
    gale_value_t *nest = malloc((size_t)levels * sizeof(*nest));
    nest[0] = gale_array(NULL, 0);
    for (int i = 1; i < levels; i++) nest[i] = gale_array(&nest[i - 1], 1);
    gale_value_t v = *n < 20 ? nest[levels - 1] : gale_int(*n);
    int rc = gale_spout_emit_values(c, NULL, &v, 1);
    free(nest);
    if (rc == GALE_ERANGE)
        atomic_fetch_add(&emit_erange, 1);
    else if (rc >= 0)
        atomic_fetch_add(&emit_ok, 1);
    else
        atomic_fetch_add(&emit_other, 1);
    (*n)++;
}
const gale_spout_t l_deep_spout = {.declare = one_field,
                                   .open = harness_counter_open,
                                   .next_tuple = deep_next,
                                   .close = harness_counter_close};

/* ---------- submit-time limits ---------- */

static char long_stream[GALE_WIRE_MAX_STREAM_LEN + 46];
static void long_stream_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare_stream(d, long_stream, "v", false);
}
static void quiet_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
}
const gale_spout_t l_long_stream_spout = {.declare = long_stream_declare, .next_tuple = quiet_next};

static char *many_fields;
static void many_fields_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, many_fields);
}
const gale_spout_t l_many_fields_spout = {.declare = many_fields_declare, .next_tuple = quiet_next};

/* A 300-byte stream id and 5000 fields reach their target with 1 worker
 * but cannot cross workers: both are refused at submit, in any mode. */
static void test_stream_and_field_limits_at_submit(void **s) {
    (void)s;
    memset(long_stream, 'x', sizeof long_stream - 1);
    char err[512] = "";
    gale__rt_t *rt;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_long_stream_spout, 1);
    assert_int_equal(build(b, workers(1), &rt, err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "is 300 bytes; at most 255"));

    size_t cap = 5000 * 8;
    many_fields = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(many_fields + len, cap - len, "%sf%d", i ? "," : "", i);
    b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_many_fields_spout, 1);
    assert_int_equal(build(b, workers(1), &rt, err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "declares 5000 fields; at most 4096"));
    /* the largest allowed still runs */
    len = 0;
    for (int i = 0; i < GALE_WIRE_MAX_VALUES; i++)
        len += (size_t)snprintf(many_fields + len, cap - len, "%sf%d", i ? "," : "", i);
    b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_many_fields_spout, 1);
    assert_int_equal(build(b, workers(2), &rt, err, sizeof err), 0);
    finish(rt);
    free(many_fields);
}

/* Subscribing twice to the same stream would deliver every tuple twice. */
static void test_double_subscription_refused(void **s) {
    (void)s;
    char err[512] = "";
    gale__rt_t *rt;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_deep_spout, 1);
    gale_component_t *bolt = GALE_BOLT(b, "bolt", l_count_bolt, 2);
    gale_shuffle_grouping(bolt, "spout", NULL);
    gale_all_grouping(bolt, "spout", NULL);
    assert_int_equal(build(b, workers(1), &rt, err, sizeof err), GALE_EINVAL);
    assert_non_null(strstr(err, "component 'bolt' subscribes to stream 'spout:default' twice"));
}

/* ---------- emit-time limits ---------- */

/* A value nested 40 deep: refused at emit with GALE_ERANGE in 1 worker and
 * in 2 (it used to arrive in 1 and vanish between 2); the ints after it
 * arrive; the refusals are counted as errors. */
static void deep_emits(int n_workers, int levels) {
    executed = emit_ok = emit_erange = emit_other = 0;
    deep_levels = levels;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_deep_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", l_count_bolt, 1), "spout", NULL);
    gale_conf_t *c = workers(n_workers);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 0);
    gale__rt_t *rt = must_start(b, c);
    assert_true(wait_for(&executed, 20, 30));
    gale__stats_t st;
    gale__rt_stats(rt, "spout", &st);
    finish(rt);
    assert_int_equal(emit_erange, 20);
    assert_int_equal(emit_other, 0);
    assert_int_equal(emit_ok, 20);
    assert_int_equal(executed, 20);
    assert_int_equal(st.errors, 20);
    assert_int_equal(st.transferred, 20);
}

static void test_deep_value_refused_in_one_worker(void **s) {
    (void)s;
    deep_emits(1, 40);
}

static void test_deep_value_refused_in_two_workers(void **s) {
    (void)s;
    deep_emits(2, 40);
}

/* 500 000 levels used to overflow the stack in the deep copy. */
static void test_very_deep_value_does_not_overflow_the_stack(void **s) {
    (void)s;
    deep_emits(1, 500000);
}

/* The deepest value the wire carries goes through both modes. */
static void test_deepest_allowed_value_crosses_workers(void **s) {
    (void)s;
    executed = emit_ok = emit_erange = emit_other = 0;
    deep_levels = GALE__VALUE_MAX_WIRE_DEPTH;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_deep_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", l_count_bolt, 1), "spout", NULL);
    gale_conf_t *c = workers(2);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 0);
    gale__rt_t *rt = must_start(b, c);
    assert_true(wait_for(&executed, 40, 30));
    finish(rt);
    assert_int_equal(emit_ok, 40);
    assert_int_equal(emit_erange, 0);
}

/* Every recursive walk over values is bounded: hash, format, equal and
 * the deep copy of a value nested 500 000 deep return (as nil/"..."
 * beyond the bound) instead of overflowing the stack. */
static void test_value_walks_are_bounded(void **s) {
    (void)s;
    enum { N = 500000 };
    gale_value_t *nest = malloc(N * sizeof(*nest)), *nest2 = malloc(N * sizeof(*nest2));
    nest[0] = nest2[0] = gale_int(1);
    for (int i = 1; i < N; i++) {
        nest[i] = gale_array(&nest[i - 1], 1);
        nest2[i] = gale_array(&nest2[i - 1], 1);
    }
    size_t extra, bad = 99;
    assert_int_equal(gale__values_check(&nest[N - 1], 1, &extra, &bad), GALE_ERANGE);
    assert_int_equal(bad, 0);
    (void)gale__values_hash(&nest[N - 1], 1);
    char buf[256];
    gale__value_format(&nest[N - 1], buf, sizeof buf);
    assert_non_null(strstr(buf, "..."));
    assert_false(gale_value_equal(&nest[N - 1], &nest2[N - 1]));
    size_t x = gale__value_extra_size(&nest[N - 1]);
    char *block = malloc(x + 8), *cur = block;
    gale_value_t copy;
    gale__value_copy(&copy, &nest[N - 1], &cur);
    assert_true(cur <= block + x + 8);
    free(block);
    /* within the bound everything is exact */
    assert_int_equal(gale__values_check(&nest[GALE__VALUE_MAX_WIRE_DEPTH - 1], 1, &extra, &bad), 0);
    assert_true(gale_value_equal(&nest[20], &nest2[20]));
    free(nest);
    free(nest2);
}

/* ---------- all grouping beyond 1024 tasks ---------- */

static _Atomic int64_t got[1101];
static int mark_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)c;
    int task = (int)gale_tuple_int(t, 0, -1);
    (void)task;
    atomic_fetch_add(&executed, 1);
    return 0;
}
static int mark_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    *st = (void *)(intptr_t)gale_context_task_index(ctx);
    return 0;
}
static int mark_execute_idx(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    int idx = (int)(intptr_t)st;
    if (idx < 0 || idx > 1100)
        atomic_fetch_add(&delivered_mask_bad, 1);
    else
        atomic_fetch_add(&got[idx], 1);
    return mark_execute(st, t, c);
}
const gale_bolt_t l_mark_bolt = {
    .prepare = mark_prepare, .execute = mark_execute_idx, .basic = true};

static _Atomic int all_sent;
static void one_next(void *st, gale_spout_collector_t *c) {
    int64_t *n = st;
    if (*n >= 1) return;
    gale_value_t v = gale_int(7);
    int tasks[2048];
    gale_emit_t e = {.values = &v, .n_values = 1, .tasks_out = tasks, .tasks_cap = 2048};
    uint64_t id = 1;
    e.msg_id = &id;
    atomic_store(&all_sent, gale_spout_emit(c, &e));
    (*n)++;
}
static _Atomic int64_t acks;
static void one_ack(void *st, uint64_t id) {
    (void)st;
    (void)id;
    atomic_fetch_add(&acks, 1);
}
const gale_spout_t l_one_spout = {.declare = one_field,
                                  .open = harness_counter_open,
                                  .next_tuple = one_next,
                                  .ack = one_ack,
                                  .close = harness_counter_close};

/* An all grouping to 1100 tasks delivers to all 1100 (it stopped at 1024,
 * yet the tree completed), and the tree is acked after all of them. */
static void test_all_grouping_beyond_1024_tasks(void **s) {
    (void)s;
    executed = acks = delivered_mask_bad = 0;
    for (int i = 0; i < 1101; i++) got[i] = 0;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_one_spout, 1);
    gale_component_t *bolt = GALE_BOLT(b, "bolt", l_mark_bolt, 2);
    gale_component_set_tasks(bolt, 1100);
    gale_all_grouping(bolt, "spout", NULL);
    gale__rt_t *rt = must_start(b, workers(1));
    assert_true(wait_for(&acks, 1, 30));
    finish(rt);
    assert_int_equal(all_sent, 1100);
    assert_int_equal(executed, 1100);
    assert_int_equal(delivered_mask_bad, 0);
    for (int i = 0; i < 1100; i++) assert_int_equal(got[i], 1);
}

/* ---------- many local workers ---------- */

/* 64 local workers need ~8000 ZeroMQ sockets: 24 used to fail with "Too
 * many open files" and 64 to abort in zmq_ctx_term. */
static void test_many_local_workers(void **s) {
    (void)s;
    executed = emit_ok = emit_erange = emit_other = 0;
    deep_levels = 2;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", l_deep_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", l_count_bolt, 64), "spout", NULL);
    gale_conf_t *c = workers(64);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 1);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, 64);
    /* the usual soft limit: the runtime raises it towards the hard one */
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 9000) {
        rl.rlim_cur = 1024;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    gale__rt_t *rt = must_start(b, c);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_true(rl.rlim_cur > 8000);
    assert_true(wait_for(&executed, 40, 60));
    finish(rt);
    assert_int_equal(executed, 40);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_and_field_limits_at_submit),
        cmocka_unit_test(test_double_subscription_refused),
        cmocka_unit_test(test_deep_value_refused_in_one_worker),
        cmocka_unit_test(test_deep_value_refused_in_two_workers),
        cmocka_unit_test(test_very_deep_value_does_not_overflow_the_stack),
        cmocka_unit_test(test_deepest_allowed_value_crosses_workers),
        cmocka_unit_test(test_value_walks_are_bounded),
        cmocka_unit_test(test_all_grouping_beyond_1024_tasks),
        cmocka_unit_test(test_many_local_workers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
