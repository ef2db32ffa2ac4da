/*
 * test_runtime.c — the worker runtime end to end inside one process:
 * acking (fan-out, multi-anchoring), explicit fails, timeouts between T
 * and 2T, reset_timeout, max.spout.pending, acking off, backpressure with
 * bounded memory, ticks, direct and local-or-shuffle groupings, and the
 * batch codec between two workers.
 *
 * Components are defined here and resolved by name (the test binary is
 * linked with -rdynamic). Results travel through the globals below; each
 * test resets them. Waits poll a condition with a deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "common/codec.h"
#include "common/config.h"
#include "topology/topology.h"
#include "worker/runtime.h"
#include "rt_harness.h"

/* ---------- shared observations ---------- */

#define MAX_MSGS 100000
static _Atomic int64_t emitted, acked, failed_timeout, failed_failed, executed, ticks;
static _Atomic int64_t outstanding, max_outstanding;
static _Atomic int64_t emit_ns[MAX_MSGS], fail_ns[MAX_MSGS];
static _Atomic int spout_limit; /* how many msgs the spout emits */
static _Atomic int cross_worker_deliveries, tick_ok;
static gale__rt_t *current_rt;

static void reset(int limit) {
    emitted = acked = failed_timeout = failed_failed = executed = ticks = 0;
    outstanding = max_outstanding = 0;
    cross_worker_deliveries = tick_ok = 0;
    spout_limit = limit;
    for (int i = 0; i < MAX_MSGS; i++) emit_ns[i] = fail_ns[i] = 0;
}

/* Build, validate and start a topology; the caller stops it. */
static gale__rt_t *start(gale_builder_t *b, gale_conf_t *conf) {
    /* current_rt is set before the executor threads exist: they read it */
    gale__rt_t *rt = current_rt = harness_must(b, "test", conf, false);
    char err[512] = "";
    int rc = gale__rt_start(rt, err, sizeof err);
    if (rc) fprintf(stderr, "start: %s\n", err);
    assert_int_equal(rc, 0);
    return rt;
}

static void finish(gale__rt_t *rt) {
    gale__rt_stop(rt, 2000);
    gale__rt_destroy(rt);
    current_rt = NULL;
}

/* ---------- components ---------- */

typedef struct spout_state {
    int next;
    int task;
} spout_state_t;

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}

static int counting_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    spout_state_t *s = calloc(1, sizeof(*s));
    s->task = gale_context_task_id(ctx);
    *st = s;
    return 0;
}
static void counting_close(void *st) {
    free(st);
}
static void note_outstanding(int64_t d) {
    int64_t now = atomic_fetch_add(&outstanding, d) + d;
    int64_t m = atomic_load(&max_outstanding);
    while (now > m && !atomic_compare_exchange_weak(&max_outstanding, &m, now)) {
    }
}
/* Emits msg ids 0..limit-1 reliably, one per call. */
static void counting_next(void *st, gale_spout_collector_t *c) {
    spout_state_t *s = st;
    if (s->next >= atomic_load(&spout_limit)) return;
    gale_value_t v = gale_int(s->next);
    emit_ns[s->next] = gale__now_ns();
    note_outstanding(1);
    int rc = gale_spout_emit_id(c, NULL, &v, 1, (uint64_t)s->next);
    assert_true(rc >= 0);
    s->next++;
    atomic_fetch_add(&emitted, 1);
}
static void counting_ack(void *st, uint64_t id) {
    (void)st;
    (void)id;
    note_outstanding(-1);
    atomic_fetch_add(&acked, 1);
}
static void counting_fail(void *st, uint64_t id, gale_fail_reason_t why) {
    (void)st;
    note_outstanding(-1);
    if (id < MAX_MSGS) fail_ns[id] = gale__now_ns();
    atomic_fetch_add(why == GALE_FAIL_TIMEOUT ? &failed_timeout : &failed_failed, 1);
}
const gale_spout_t t_counting_spout = {.declare = one_field,
                                       .open = counting_open,
                                       .next_tuple = counting_next,
                                       .ack = counting_ack,
                                       .fail = counting_fail,
                                       .close = counting_close};

/* Basic bolt: re-emits twice (fan-out within a task). */
static int twice_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    const gale_value_t *v = gale_tuple_value(t, 0);
    gale_emit_values(c, NULL, NULL, v, 1);
    gale_emit_values(c, NULL, NULL, v, 1);
    return 0;
}
const gale_bolt_t t_twice_bolt = {.declare = one_field, .execute = twice_execute, .basic = true};

/* Plain bolt: keeps one input, and when it has two, emits one tuple
 * anchored to both (multi-anchoring), then acks both. */
typedef struct pair_state {
    const gale_tuple_t *held;
} pair_state_t;
static int pair_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)ctx;
    (void)c;
    *st = calloc(1, sizeof(pair_state_t));
    return 0;
}
static void pair_cleanup(void *st) {
    free(st);
}
static int pair_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    pair_state_t *s = st;
    if (!s->held) {
        s->held = t;
        return 0;
    }
    const gale_tuple_t *anchors[2] = {s->held, t};
    gale_value_t v = *gale_tuple_value(t, 0);
    gale_emit_t e = {.values = &v, .n_values = 1, .anchors = anchors, .n_anchors = 2};
    assert_true(gale_emit(c, &e) >= 0);
    gale_ack(c, s->held);
    gale_ack(c, t);
    s->held = NULL;
    return 0;
}
const gale_bolt_t t_pair_bolt = {.declare = one_field,
                                 .prepare = pair_prepare,
                                 .execute = pair_execute,
                                 .cleanup = pair_cleanup};

static int sink_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    atomic_fetch_add(&executed, 1);
    return 0;
}
const gale_bolt_t t_sink_bolt = {.execute = sink_execute, .basic = true};

static int failing_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    atomic_fetch_add(&executed, 1);
    return -1; /* basic bolt: fail */
}
const gale_bolt_t t_failing_bolt = {.execute = failing_execute, .basic = true};

/* Never acks: the tree must time out. */
static int drop_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    atomic_fetch_add(&executed, 1);
    return 0;
}
const gale_bolt_t t_drop_bolt = {.execute = drop_execute};

/* Holds each tuple 3 s (timeout is 1 s), resetting its timeout. */
static int slow_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    for (int i = 0; i < 15; i++) {
        gale_reset_timeout(c, t);
        usleep(200000);
    }
    atomic_fetch_add(&executed, 1);
    gale_ack(c, t);
    return 0;
}
const gale_bolt_t t_slow_bolt = {.execute = slow_execute};

/* Acks after a short delay, so trees stay pending a while. */
static int lazy_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    usleep(200);
    atomic_fetch_add(&executed, 1);
    return 0;
}
const gale_bolt_t t_lazy_bolt = {.execute = lazy_execute, .basic = true};

/* Unreliable firehose spout for backpressure. */
static void hose_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    gale_value_t v = gale_str("some data");
    gale_spout_emit_values(c, NULL, &v, 1);
    atomic_fetch_add(&emitted, 1);
}
const gale_spout_t t_hose_spout = {.declare = one_field, .next_tuple = hose_next};

static int sleepy_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    usleep(100);
    atomic_fetch_add(&executed, 1);
    return 0;
}
const gale_bolt_t t_sleepy_bolt = {.execute = sleepy_execute, .basic = true};

/* Counts tuples that crossed workers: from the emitting task's worker
 * (the tuple's source, also carried in field "task") to the worker of the
 * task executing it (its context's, not the tuple's). */
static _Atomic int where_received[8]; /* by this bolt's task index */
static int where_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    int *s = malloc(2 * sizeof(int));
    assert_non_null(s);
    s[0] = gale_context_task_id(ctx);
    s[1] = gale_context_task_index(ctx);
    *st = s;
    return 0;
}
static void where_cleanup(void *st) {
    free(st);
}
static int where_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)c;
    const int *me = st;
    gale__rt_t *rt = current_rt;
    int from = (int)gale_tuple_int(t, 1, 0);
    assert_int_equal(from, gale_tuple_source_task(t));
    gale__worker_t *src = rt->execs[rt->task_exec[from]].worker;
    gale__worker_t *dst = rt->execs[rt->task_exec[me[0]]].worker;
    if (src != dst) atomic_fetch_add(&cross_worker_deliveries, 1);
    if (me[1] < 8) atomic_fetch_add(&where_received[me[1]], 1);
    atomic_fetch_add(&executed, 1);
    return 0;
}
static void where_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n,task");
}
const gale_bolt_t t_where_bolt = {.declare = where_declare,
                                  .prepare = where_prepare,
                                  .execute = where_execute,
                                  .cleanup = where_cleanup,
                                  .basic = true};

/* Tags each tuple with its own task id so where_bolt can check locality. */
static int tag_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    gale_value_t v[2] = {*gale_tuple_value(t, 0), gale_int(0)};
    (void)v;
    return 0;
    (void)c;
}

static int tick_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)c;
    if (gale_tuple_is_tick(t)) {
        if (strcmp(gale_tuple_source_component(t), "__system") == 0 &&
            gale_tuple_source_task(t) == -1 && strcmp(gale_tuple_stream(t), "__tick") == 0 &&
            gale_tuple_int(t, 0, 0) == 1)
            atomic_store(&tick_ok, 1);
        atomic_fetch_add(&ticks, 1);
    }
    return 0;
}
const gale_bolt_t t_tick_bolt = {.execute = tick_execute, .basic = true};

/* Direct emitter: a bolt that emits directly to the highest sink task. */
static void direct_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare_stream(d, "direct", "n", true);
    gale_declare_stream(d, "default", "n", false);
}
static _Atomic int direct_checks;
static int direct_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    const int *tasks;
    size_t n = gale_context_component_tasks(NULL, "sink", &tasks);
    (void)n;
    (void)t;
    (void)c;
    return 0;
}
static const gale_context_t *direct_ctx;
static int direct_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)st;
    (void)c;
    direct_ctx = ctx;
    return 0;
}
static int direct_execute2(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    const int *tasks;
    size_t n = gale_context_component_tasks(direct_ctx, "sink", &tasks);
    int target = tasks[n - 1], out[4] = {0};
    gale_value_t v = *gale_tuple_value(t, 0);
    gale_emit_t e = {.stream = "direct",
                     .values = &v,
                     .n_values = 1,
                     .direct_task = target,
                     .tasks_out = out,
                     .tasks_cap = 4};
    int ok = gale_emit(c, &e) == 1 && out[0] == target;
    gale_emit_t bad1 = {.stream = "default", .values = &v, .n_values = 1, .direct_task = target};
    gale_emit_t bad2 = {.stream = "direct", .values = &v, .n_values = 1};
    ok = ok && gale_emit(c, &bad1) < 0 && gale_emit(c, &bad2) < 0;
    if (ok) atomic_fetch_add(&direct_checks, 1);
    return 0;
}
const gale_bolt_t t_direct_bolt = {.declare = direct_declare,
                                   .prepare = direct_prepare,
                                   .execute = direct_execute2,
                                   .basic = true};
static _Atomic int direct_wrong_task;
static const gale_context_t *dsink_ctx[8];
static int dsink_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    *st = (void *)ctx;
    return 0;
}
static int dsink_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)c;
    (void)t;
    const gale_context_t *ctx = st;
    const int *tasks;
    size_t n = gale_context_component_tasks(ctx, "sink", &tasks);
    if (gale_context_task_id(ctx) != tasks[n - 1]) atomic_fetch_add(&direct_wrong_task, 1);
    atomic_fetch_add(&executed, 1);
    return 0;
}
const gale_bolt_t t_dsink_bolt = {
    .prepare = dsink_prepare, .execute = dsink_execute, .basic = true};

/* A bolt that acks from its own thread: execute hands the tuple to a
 * mailbox; a thread started in prepare emits anchored and acks. */
typedef struct async_state {
    gale__queue_t mailbox;
    gale_collector_t *c;
    pthread_t th;
    atomic_bool stop;
} async_state_t;
static void *async_main(void *arg) {
    async_state_t *a = arg;
    void *buf[64];
    while (!atomic_load(&a->stop)) {
        size_t n = gale__queue_pop(&a->mailbox, buf, 64);
        if (!n) gale__queue_wait(&a->mailbox, 1000);
        for (size_t i = 0; i < n; i++) {
            const gale_tuple_t *t = buf[i];
            gale_emit_values(a->c, NULL, t, gale_tuple_value(t, 0), 1);
            gale_ack(a->c, t);
        }
    }
    return NULL;
}
static int async_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)ctx;
    async_state_t *a = calloc(1, sizeof(*a));
    gale__queue_init(&a->mailbox, 8192);
    a->c = c;
    pthread_create(&a->th, NULL, async_main, a);
    *st = a;
    return 0;
}
static int async_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    async_state_t *a = st;
    /* the executor thread emits too, concurrently with the bolt's thread
     * (unanchored: the other thread may already own the input) */
    gale_emit_values(c, NULL, NULL, gale_tuple_value(t, 0), 1);
    void *item = (void *)t;
    while (!gale__queue_push(&a->mailbox, &item, 1)) usleep(100);
    return 0;
}
static void async_cleanup(void *st) {
    async_state_t *a = st;
    atomic_store(&a->stop, true);
    gale__queue_wake(&a->mailbox);
    pthread_join(a->th, NULL);
    gale__queue_destroy(&a->mailbox);
    free(a);
}
const gale_bolt_t t_async_bolt = {.declare = one_field,
                                  .prepare = async_prepare,
                                  .execute = async_execute,
                                  .cleanup = async_cleanup};

/* ---------- conditions ---------- */

static int64_t want;
static bool all_acked(void) {
    return atomic_load(&acked) >= want;
}
static bool all_failed(void) {
    return atomic_load(&failed_timeout) + atomic_load(&failed_failed) >= want;
}
static bool all_acked_or_failed(void) {
    return atomic_load(&acked) + atomic_load(&failed_failed) + atomic_load(&failed_timeout) >= want;
}
static bool all_executed(void) {
    return atomic_load(&executed) >= want;
}
static bool ackers_asleep(void) {
    for (size_t i = 0; i < current_rt->n_execs; i++)
        if (current_rt->execs[i].comp->is_acker && !gale__queue_asleep(&current_rt->execs[i].queue))
            return false;
    return true;
}
static bool ackers_empty(void) {
    for (size_t i = 0; i < current_rt->n_execs; i++)
        if (current_rt->execs[i].comp->is_acker && atomic_load(&current_rt->execs[i].n_pending))
            return false;
    return true;
}
static bool some_ticks(void) {
    return atomic_load(&ticks) >= 2;
}

/* ---------- tests ---------- */

static gale_conf_t *conf_with(int workers, int timeout) {
    gale_conf_t *c = gale_conf_new();
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, workers);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, timeout);
    return c;
}

/* Early completion. The gate bolt acks every input at once except the
 * first one while hold_first is set, which it keeps for the test thread to
 * ack; the gate spout notes the order of its acks. */
static _Atomic int hold_first;
static gale_collector_t *_Atomic held_coll;
static const gale_tuple_t *_Atomic held_tuple;
static _Atomic int64_t ack_seq, acked_at[8]; /* acked_at[msg id]: 1 + ack order */
static int gate_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    atomic_fetch_add(&executed, 1);
    int expect = 1;
    if (atomic_compare_exchange_strong(&hold_first, &expect, 0)) {
        atomic_store(&held_coll, c);
        atomic_store(&held_tuple, t);
        return 0;
    }
    gale_ack(c, t);
    return 0;
}
/* The test thread acks the held tuple, then sets released; loading it here
 * orders that use of the collector before the runtime frees it after
 * cleanup (as a bolt joins its own threads in cleanup). */
static _Atomic int released;
static void gate_cleanup(void *st) {
    (void)st;
    (void)atomic_load(&released);
}
const gale_bolt_t t_gate_bolt = {.execute = gate_execute, .cleanup = gate_cleanup};
/* set just before the test thread acks the held tuple */
static _Atomic int letting_go, early_acks; /* trees 0 and 1 acked before it */
static void gate_ack(void *st, uint64_t id) {
    if (id < 2 && !atomic_load(&letting_go)) atomic_fetch_add(&early_acks, 1);
    if (id < 8) atomic_store(&acked_at[id], atomic_fetch_add(&ack_seq, 1) + 1);
    counting_ack(st, id);
}
const gale_spout_t t_gate_spout = {.declare = one_field,
                                   .open = counting_open,
                                   .next_tuple = counting_next,
                                   .ack = gate_ack,
                                   .fail = counting_fail,
                                   .close = counting_close};
static bool markers_acked(void) {
    return atomic_load(&acked_at[2]) && atomic_load(&acked_at[3]);
}

/* A tree is acked only once its last edge is: spout -> pair -> twice ->
 * gate, one task each. pair anchors each output to two consecutive spout
 * tuples, i.e. to two trees; twice fans each out to two tuples. The gate
 * holds one of the two grandchildren of trees 0 and 1 and acks the rest,
 * so trees 2 and 3 complete meanwhile. Every executor sends its messages
 * for 0 and 1 before those for 2 and 3, so had 0 or 1 completed early, its
 * ack would usually have come first; as producers that ack inline reply
 * from their own threads, the spout also counts any ack of 0 or 1 that
 * comes before the gate lets go, however late. */
static void check_no_early_completion(void) {
    reset(4);
    ack_seq = 0;
    for (int i = 0; i < 8; i++) acked_at[i] = 0;
    atomic_store(&held_tuple, NULL);
    atomic_store(&released, 0);
    atomic_store(&hold_first, 1);
    atomic_store(&early_acks, 0);
    atomic_store(&letting_go, 0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_gate_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "pair", t_pair_bolt, 1), "spout", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "twice", t_twice_bolt, 1), "pair", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "gate", t_gate_bolt, 1), "twice", NULL);
    gale__rt_t *rt = start(b, conf_with(1, 60));
    assert_true(wait_until(markers_acked, 30));
    assert_non_null(atomic_load(&held_tuple));
    assert_int_equal(acked_at[0], 0); /* its last edge is still held */
    assert_int_equal(acked_at[1], 0);
    atomic_store(&letting_go, 1);
    gale_ack(atomic_load(&held_coll), atomic_load(&held_tuple)); /* release it */
    atomic_store(&released, 1);
    want = 4;
    assert_true(wait_until(all_acked, 30));
    finish(rt);
    assert_true(acked_at[0] > 2 && acked_at[1] > 2);
    assert_int_equal(atomic_load(&early_acks), 0);
    assert_int_equal(failed_timeout + failed_failed, 0);
    assert_int_equal(executed, 4);
}

/* spout -> twice (x3, all grouping: fan-out) -> pair (multi-anchor) -> sink,
 * then no tree completes before its last edge is acked. */
static void test_tree_fanout_multi_anchor(void **s) {
    (void)s;
    reset(2000);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_all_grouping(GALE_BOLT(b, "twice", t_twice_bolt, 3), "spout", NULL);
    gale_fields_grouping(GALE_BOLT(b, "pair", t_pair_bolt, 2), "twice", NULL, "n");
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sink_bolt, 2), "pair", NULL);
    gale__rt_t *rt = start(b, conf_with(1, 60));
    want = 2000;
    assert_true(wait_until(all_acked, 60));
    finish(rt);
    assert_int_equal(acked, 2000);
    assert_int_equal(failed_timeout + failed_failed, 0);
    /* 2000 msgs x 3 tasks x 2 emits, paired: 6000 sink tuples */
    assert_int_equal(executed, 6000);

    check_no_early_completion();
}

/* Acking inline: in one worker the producers of a sleeping acker apply
 * their ack messages themselves. One tree at a time (so no two threads
 * want the acker at once), started once the acker sleeps: nothing goes
 * through an acker's queue, and its counters are still its own: every
 * message executed, every tree acked. */
static void test_acks_inline_in_one_worker(void **s) {
    (void)s;
    reset(0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "twice", t_twice_bolt, 1), "spout", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sink_bolt, 1), "twice", NULL);
    gale_conf_t *c = conf_with(1, 60);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 2);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, 1);
    gale__rt_t *rt = start(b, c);
    assert_true(wait_until(ackers_asleep, 30));
    want = 1000;
    atomic_store(&spout_limit, 1000);
    assert_true(wait_until(all_acked, 60));
    gale__stats_t st = {0};
    gale__rt_stats(rt, "__acker", &st);
    uint64_t pushed = 0;
    for (size_t i = 0; i < rt->n_execs; i++)
        if (rt->execs[i].comp->is_acker) pushed += atomic_load(&rt->execs[i].queue.tail);
    finish(rt);
    assert_int_equal(acked, 1000);
    assert_int_equal(pushed, 0);
    /* per tree: the spout's init, twice's ack, two sink acks */
    assert_int_equal(atomic_load(&st.executed), 4000);
    assert_int_equal(atomic_load(&st.acked), 1000);
}

static void test_explicit_fail_reason(void **s) {
    (void)s;
    reset(50);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_failing_bolt, 1), "spout", NULL);
    gale__rt_t *rt = start(b, conf_with(1, 60));
    want = 50;
    assert_true(wait_until(all_failed, 30));
    finish(rt);
    assert_int_equal(failed_failed, 50);
    assert_int_equal(failed_timeout, 0);
    assert_int_equal(acked, 0);
}

static void test_timeout_between_t_and_2t(void **s) {
    (void)s;
    reset(0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_drop_bolt, 1), "spout", NULL);
    gale__rt_t *rt = start(b, conf_with(1, 2)); /* T = 2 s */
    /* trees opened inline on a sleeping acker, which nothing wakes: it
     * forgets them on its own rotation timer too */
    assert_true(wait_until(ackers_asleep, 30));
    want = 20;
    atomic_store(&spout_limit, 20);
    assert_true(wait_until(all_failed, 30));
    assert_true(wait_until(ackers_empty, 30));
    finish(rt);
    assert_int_equal(failed_timeout, 20);
    assert_int_equal(failed_failed, 0);
    for (int i = 0; i < 20; i++) {
        int64_t age = fail_ns[i] - emit_ns[i];
        assert_true(age >= 2000000000LL); /* never before T */
        /* no later than 2T; the slack covers two late wake-ups under
         * sanitizers on a loaded machine (a third rotation, the bug this
         * catches, would put half the runs past it) */
        assert_true(age <= 5000000000LL);
    }
}

static void test_reset_timeout_keeps_tree_alive(void **s) {
    (void)s;
    reset(1); /* one tree: a second one would wait unreset in the queue */
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_slow_bolt, 1), "spout", NULL);
    gale__rt_t *rt = start(b, conf_with(1, 1));
    want = 1;
    assert_true(wait_until(all_acked, 30));
    finish(rt);
    assert_int_equal(acked, 1);
    assert_int_equal(failed_timeout, 0);
}

/* max.spout.pending: next_tuple of a task is called only while the task
 * has fewer trees in flight than the bound (a call may then emit several,
 * as in Storm). The burst spout emits `burst` trees per call and notes, per
 * task, its trees in flight when called and after the call, and the
 * executor's (all its tasks') when called. */
#define BURST_TASKS 3
static _Atomic int burst;
static _Atomic int64_t at_call[BURST_TASKS], after_call[BURST_TASKS], exec_at_call, exec_inflight;
typedef struct burst_state {
    int next, index;
    int64_t inflight;
} burst_state_t;
static void note_max(_Atomic int64_t *m, int64_t v) {
    int64_t cur = atomic_load(m);
    while (v > cur && !atomic_compare_exchange_weak(m, &cur, v)) {
    }
}
static int burst_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    burst_state_t *s = calloc(1, sizeof(*s));
    s->index = gale_context_task_index(ctx);
    assert_true(s->index < BURST_TASKS);
    *st = s;
    return 0;
}
static void burst_next(void *st, gale_spout_collector_t *c) {
    burst_state_t *s = st;
    note_max(&at_call[s->index], s->inflight);
    note_max(&exec_at_call, atomic_load(&exec_inflight));
    for (int i = 0; i < atomic_load(&burst) && s->next < atomic_load(&spout_limit); i++) {
        gale_value_t v = gale_int(s->next);
        s->inflight++;
        atomic_fetch_add(&exec_inflight, 1);
        assert_true(gale_spout_emit_id(c, NULL, &v, 1, (uint64_t)s->next++) >= 0);
        atomic_fetch_add(&emitted, 1);
    }
    note_max(&after_call[s->index], s->inflight);
}
static void burst_done(void *st) {
    ((burst_state_t *)st)->inflight--;
    atomic_fetch_sub(&exec_inflight, 1);
}
static void burst_ack(void *st, uint64_t id) {
    burst_done(st);
    counting_ack(st, id);
}
static void burst_fail(void *st, uint64_t id, gale_fail_reason_t why) {
    burst_done(st);
    counting_fail(st, id, why);
}
const gale_spout_t t_burst_spout = {.declare = one_field,
                                    .open = burst_open,
                                    .next_tuple = burst_next,
                                    .ack = burst_ack,
                                    .fail = burst_fail,
                                    .close = counting_close};

/* One executor running `tasks` spout tasks that emit `per_call` trees per
 * call, each task `limit` trees, with max.spout.pending = max. */
static void run_pending(int tasks, int per_call, int limit, int max) {
    reset(limit);
    burst = per_call;
    exec_at_call = exec_inflight = 0;
    for (int i = 0; i < BURST_TASKS; i++) at_call[i] = after_call[i] = 0;
    gale_builder_t *b = gale_builder_new();
    gale_component_set_tasks(GALE_SPOUT(b, "spout", t_burst_spout, 1), tasks);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_lazy_bolt, 2), "spout", NULL);
    gale_conf_t *c = conf_with(1, 60);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, max);
    gale__rt_t *rt = start(b, c);
    assert_int_equal(rt->n_execs, 4); /* the spout's tasks share one executor */
    want = (int64_t)tasks * limit;
    assert_true(wait_until(all_acked, 60));
    gale__stats_t st;
    gale__rt_stats(rt, "spout", &st);
    finish(rt);
    assert_int_equal(acked, want);
    assert_int_equal(failed_timeout + failed_failed, 0);
    for (int i = 0; i < tasks; i++) {
        assert_true(at_call[i] < max);                    /* never called at the bound */
        assert_true(after_call[i] <= max - 1 + per_call); /* so never further above */
        assert_true(after_call[i] >= 2);                  /* it did run trees concurrently */
    }
    assert_true(st.max_pending_seen <= (uint64_t)(max - 1 + per_call));
    /* the bound is per task: the executor went on calling with more in flight */
    if (tasks > 1) assert_true(exec_at_call >= max);
}

static void test_max_spout_pending(void **s) {
    (void)s;
    run_pending(1, 1, 3000, 7);
    run_pending(BURST_TASKS, 3, 1000, 7);
}

static void test_ackers_zero_acks_at_emit(void **s) {
    (void)s;
    reset(100);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_drop_bolt, 1), "spout", NULL);
    gale_conf_t *c = conf_with(1, 60);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 0);
    gale__rt_t *rt = start(b, c);
    want = 100;
    assert_true(wait_until(all_acked, 30)); /* the bolt never acks */
    finish(rt);
    assert_int_equal(acked, 100);
}

static int64_t mem_peak;
static size_t depth_peak, depth_cap;
static void test_backpressure_bounds_memory(void **s) {
    (void)s;
    reset(0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_hose_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_sleepy_bolt, 1), "spout", NULL);
    gale_conf_t *c = conf_with(1, 60);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, 1024);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 0);
    int64_t before = gale_mem_in_use();
    gale__rt_t *rt = start(b, c);
    /* Bound: both executors' queue slots, one 128-byte block per tuple
     * that can be alive (queued, batched, or executing), plus one 64 KiB
     * chunk of slack per pool. */
    size_t qcap = 1024, batch = 64;
    int64_t bound = (int64_t)(2 * qcap * sizeof(gale__slot_t) + (qcap + 2 * batch) * 128 +
                              4 * 65536 + 2 * 1024 * sizeof(gale__pend_t));
    mem_peak = 0;
    depth_peak = 0;
    want = 5000;
    int64_t deadline = gale__now_ns() + 20 * 1000000000LL;
    while (atomic_load(&executed) < want && gale__now_ns() < deadline) {
        int64_t m = gale_mem_in_use() - before;
        if (m > mem_peak) mem_peak = m;
        size_t cap;
        size_t d = gale__rt_max_queue_depth(rt, &cap);
        if (d > depth_peak) {
            depth_peak = d;
            depth_cap = cap;
        }
        usleep(1000);
    }
    gale__stats_t st;
    gale__rt_stats(rt, "spout", &st);
    finish(rt);
    assert_true(executed >= want);
    assert_true(depth_peak <= 1024);
    assert_true(depth_peak > 512); /* the queue did fill: the bolt is the bottleneck */
    if (mem_peak > bound)
        fprintf(stderr, "mem peak %lld > bound %lld\n", (long long)mem_peak, (long long)bound);
    assert_true(mem_peak <= bound);
    /* the spout was throttled: it never got far ahead of the bolt */
    assert_true(emitted <= executed + (int64_t)(qcap + 2 * batch) + 64);
}

/* topology.stats.sample.rate 0.25: exactly one tuple in four is timed,
 * on the spout (complete latency) and on the bolt (execute latency). */
static void test_stats_sampling_rate(void **s) {
    (void)s;
    reset(400);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sink_bolt, 1), "spout", NULL);
    gale_conf_t *conf = conf_with(1, 60);
    gale_conf_set_double(conf, GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE, 0.25);
    gale__rt_t *rt = start(b, conf);
    want = 400;
    assert_true(wait_until(all_acked, 30));
    assert_true(wait_until(all_executed, 30));
    uint64_t complete = 0, execute = 0, executed_n = 0;
    for (size_t i = 0; i < rt->n_execs; i++) {
        const gale__exec_t *e = &rt->execs[i];
        if (e->comp->is_spout) complete += atomic_load(&e->stats.complete_samples);
        if (!e->comp->is_spout && !e->comp->is_acker) {
            execute += atomic_load(&e->stats.execute_samples);
            executed_n += atomic_load(&e->stats.executed);
        }
    }
    finish(rt);
    assert_int_equal(executed_n, 400);
    assert_int_equal(complete, 100);
    assert_int_equal(execute, 100);
}

static void test_tick_tuples(void **s) {
    (void)s;
    reset(0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_component_t *bolt = GALE_BOLT(b, "bolt", t_tick_bolt, 1);
    gale_shuffle_grouping(bolt, "spout", NULL);
    gale_component_conf_set_int(bolt, GALE_CONF_TOPOLOGY_TICK_TUPLE_FREQ_SECS, 1);
    gale__rt_t *rt = start(b, conf_with(1, 60));
    assert_true(wait_until(some_ticks, 10));
    finish(rt);
    assert_int_equal(tick_ok, 1);
}

static void test_direct_grouping(void **s) {
    (void)s;
    reset(200);
    direct_checks = direct_wrong_task = 0;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "emitter", t_direct_bolt, 1), "spout", NULL);
    gale_direct_grouping(GALE_BOLT(b, "sink", t_dsink_bolt, 3), "emitter", "direct");
    gale__rt_t *rt = start(b, conf_with(1, 60));
    want = 200;
    assert_true(wait_until(all_acked, 30));
    assert_true(wait_until(all_executed, 30));
    finish(rt);
    assert_int_equal(direct_checks, 200);
    assert_int_equal(direct_wrong_task, 0);
}

/* Tags tuples with the emitting task for the locality check. */
static int tagger_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    return 0;
}

static void test_two_workers_use_codec(void **s) {
    (void)s;
    reset(3000);
    gale__codec_stats_t before, after;
    gale__codec_stats_get(&before);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 2);
    gale_shuffle_grouping(GALE_BOLT(b, "twice", t_twice_bolt, 2), "spout", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sink_bolt, 2), "twice", NULL);
    gale__rt_t *rt = start(b, conf_with(2, 60));
    want = 6000; /* two spout tasks x 3000 */
    assert_true(wait_until(all_acked, 60));
    finish(rt);
    gale__codec_stats_get(&after);
    assert_int_equal(acked, 6000);
    assert_int_equal(failed_timeout + failed_failed, 0);
    assert_true(after.tuples_encoded > before.tuples_encoded);
    assert_true(after.tuples_decoded > before.tuples_decoded);
    assert_int_equal(executed, 12000);
}

/* local-or-shuffle: with a target in the same worker, nothing crosses. */
static void where_spout_next(void *st, gale_spout_collector_t *c) {
    spout_state_t *s = st;
    if (s->next >= atomic_load(&spout_limit)) return;
    gale_value_t v[2] = {gale_int(s->next), gale_int(s->task)};
    gale_spout_emit_id(c, NULL, v, 2, (uint64_t)s->next);
    s->next++;
}
const gale_spout_t t_where_spout = {.declare = where_declare,
                                    .open = counting_open,
                                    .next_tuple = where_spout_next,
                                    .ack = counting_ack,
                                    .fail = counting_fail,
                                    .close = counting_close};

static void test_local_or_shuffle_stays_local(void **s) {
    (void)s;
    reset(1000);
    for (int i = 0; i < 8; i++) where_received[i] = 0;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_where_spout, 2);
    gale_local_or_shuffle_grouping(GALE_BOLT(b, "bolt", t_where_bolt, 2), "spout", NULL);
    gale__rt_t *rt = start(b, conf_with(2, 60));
    /* each worker holds one spout and one bolt executor */
    for (size_t w = 0; w < 2; w++) {
        int spouts = 0, bolts = 0;
        for (size_t i = 0; i < rt->workers[w].n_execs; i++) {
            spouts += strcmp(rt->workers[w].execs[i]->comp->id, "spout") == 0;
            bolts += strcmp(rt->workers[w].execs[i]->comp->id, "bolt") == 0;
        }
        assert_int_equal(spouts, 1);
        assert_int_equal(bolts, 1);
    }
    want = 2000;
    assert_true(wait_until(all_acked, 60));
    finish(rt);
    assert_int_equal(executed, 2000);
    assert_int_equal(cross_worker_deliveries, 0);
    /* so each bolt task got exactly its worker's spout's 1000 */
    assert_int_equal(where_received[0], 1000);
    assert_int_equal(where_received[1], 1000);
}

static void test_bolt_collector_from_another_thread(void **s) {
    (void)s;
    reset(3000);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "async", t_async_bolt, 2), "spout", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sink_bolt, 1), "async", NULL);
    gale__rt_t *rt = start(b, conf_with(1, 60));
    want = 3000;
    assert_true(wait_until(all_acked, 60));
    want = 6000;
    assert_true(wait_until(all_executed, 60));
    finish(rt);
    assert_int_equal(acked, 3000);
    assert_int_equal(executed, 6000); /* one emit from each thread per input */
    assert_int_equal(failed_timeout + failed_failed, 0);
}

/* Cross-worker backpressure: a slow bolt in one worker throttles a
 * firehose spout in another through the credit window, with acking off
 * (unreliable emits) and on (reliable ones, acks crossing workers too).
 * Three workers, so the window (the bolt's queue split among the two
 * workers that may send to it) differs from the queue and the transfer
 * buffer: what is in flight stays within queue + window + lane + batches,
 * and memory under a bound computed from the same sizes. */
static int64_t inflight_peak;
static void backpressure_across_workers(bool acking) {
    reset(acking ? MAX_MSGS : 0);
    gale_builder_t *b = gale_builder_new();
    if (acking)
        GALE_SPOUT(b, "spout", t_counting_spout, 1);
    else
        GALE_SPOUT(b, "spout", t_hose_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_sleepy_bolt, 1), "spout", NULL);
    gale_conf_t *c = conf_with(3, 60);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, 512);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_TRANSFER_BUFFER_SIZE, 4096);
    if (!acking) gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 0);
    int64_t before = gale_mem_in_use();
    gale__rt_t *rt = start(b, c);
    gale__exec_t *bolt = &rt->execs[0], *spout = &rt->execs[1];
    assert_string_equal(bolt->comp->id, "bolt");
    assert_ptr_not_equal(bolt->worker, spout->worker);
    size_t qcap = 512, window = 512 / 2, lane = 256 /* a window's worth */, popped = 256,
           producer = 64;
    assert_int_equal(bolt->credit_window, window);
    /* Tuples in flight: the bolt's queue, what it popped from it (a batch
     * of 256), its overflow in the receiving worker and what the transfer
     * thread encodes (together at most the window), the sender's lane, the
     * spout's producer batch (and one more emit) and slack for the two
     * counters being read at different times. */
    int64_t inflight_bound = (int64_t)(qcap + popped + window + lane + 2 * producer + 1);
    /* Memory: every queue and lane (3 workers, 2 + ackers executors),
     * 128 bytes per tuple in flight (and as many ack messages), the spout's
     * and ackers' pending maps grown for them, a 64 KiB chunk of slack per
     * pool (2 per executor, one per receive thread). */
    size_t n_execs = rt->n_execs;
    int64_t bound =
        (int64_t)(n_execs * qcap * sizeof(gale__slot_t) +
                  3 * n_execs * lane * sizeof(gale__slot_t) + 2 * (size_t)inflight_bound * 128 +
                  4 * 4096 * sizeof(gale__pend_t) + (2 * n_execs + 3) * 65536);
    mem_peak = inflight_peak = 0;
    want = 5000;
    int64_t deadline = gale__now_ns() + 60 * 1000000000LL;
    while (atomic_load(&executed) < want && gale__now_ns() < deadline) {
        int64_t m = gale_mem_in_use() - before;
        if (m > mem_peak) mem_peak = m;
        int64_t f = atomic_load(&emitted) - atomic_load(&executed);
        if (f > inflight_peak) inflight_peak = f;
        usleep(1000);
    }
    finish(rt);
    assert_true(executed >= want);
    if (mem_peak > bound || inflight_peak > inflight_bound)
        fprintf(stderr, "mem peak %lld (bound %lld), in flight %lld (bound %lld)\n",
                (long long)mem_peak, (long long)bound, (long long)inflight_peak,
                (long long)inflight_bound);
    assert_true(inflight_peak > (int64_t)qcap); /* the bolt was the bottleneck */
    assert_true(inflight_peak <= inflight_bound);
    assert_true(mem_peak <= bound);
}

static void test_backpressure_across_workers(void **s) {
    (void)s;
    backpressure_across_workers(false);
}

static void test_backpressure_across_workers_acking(void **s) {
    (void)s;
    backpressure_across_workers(true);
}

/* Garbage on a worker's data socket is logged and dropped; the worker
 * keeps running and every tree still completes. */
static void send_frames(void *sock, const void *a, size_t na, const void *b, size_t nb) {
    zmq_send(sock, a, na, b ? ZMQ_SNDMORE : 0);
    if (b) zmq_send(sock, b, nb, 0);
}

static gale__worker_t *garbage_worker;
static bool garbage_counted(void) {
    return atomic_load(&garbage_worker->rx_rejected) == 5 &&
           atomic_load(&garbage_worker->rx_dropped) == 1;
}

static void test_garbage_on_the_wire(void **s) {
    (void)s;
    reset(2000);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sink_bolt, 2), "spout", NULL);
    gale__rt_t *rt = start(b, conf_with(2, 60));
    char ep[96];
    snprintf(ep, sizeof ep, "inproc://gale-%p-w%d", (void *)rt, 0);
    void *push = zmq_socket(rt->zctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(push, ep), 0);
    msgpack_sbuffer hdr;
    msgpack_sbuffer_init(&hdr);
    gale__wire_header_pack(&hdr, GALE_WIRE_BATCH, -1, 0);
    const char junk[] = "\xdd\xff\xff\xff\xffjunk";
    send_frames(push, junk, sizeof junk, NULL, 0);            /* one frame */
    send_frames(push, junk, sizeof junk, junk, sizeof junk);  /* bad header */
    send_frames(push, hdr.data, hdr.size, junk, sizeof junk); /* batch without a sender */
    /* from here on a header claiming to be worker 1 in another
     * incarnation: worker 0 counts worker 1 afresh twice (here and at
     * worker 1's next batch), and worker 1 must not stall for it */
    gale__wire_header_pack(&hdr, GALE_WIRE_BATCH, 1, 12345);
    send_frames(push, hdr.data, hdr.size, junk, sizeof junk); /* bad body */
    /* a well-formed batch for a task that does not exist */
    gale__batch_encoder_t enc;
    gale__batch_encoder_init(&enc);
    gale__batch_begin(&enc);
    gale_value_t v = gale_int(1);
    gale__wire_tuple_t wt = {.dest_task = 999,
                             .stream = "default",
                             .stream_len = 7,
                             .src_task = 1,
                             .values = &v,
                             .n_values = 1};
    assert_int_equal(gale__batch_add(&enc, &wt), 0);
    gale__batch_end(&enc);
    send_frames(push, hdr.data, hdr.size, enc.sb.data, enc.sb.size);
    msgpack_sbuffer hdr2;
    msgpack_sbuffer_init(&hdr2);
    gale__wire_header_pack(&hdr2, "credit", -1, 0);
    send_frames(push, hdr2.data, hdr2.size, junk, sizeof junk); /* bad credit */
    zmq_close(push);
    gale__batch_encoder_destroy(&enc);
    msgpack_sbuffer_destroy(&hdr);
    msgpack_sbuffer_destroy(&hdr2);
    want = 2000;
    assert_true(wait_until(all_acked, 60));
    /* each bad message was refused and counted: one frame, bad header, no
     * sender, bad batch body, bad credit; the tuple for task 999 was dropped */
    garbage_worker = &rt->workers[0];
    assert_true(wait_until(garbage_counted, 30));
    finish(rt);
    assert_int_equal(acked, 2000);
    assert_int_equal(executed, 2000);
}

/* Review finding: a thread blocked emitting into a full queue must not
 * keep the runtime from stopping. The bolt's own thread floods a sink
 * with a tiny queue; stop must still return (else the test times out). */
typedef struct flood_state {
    gale_collector_t *c;
    pthread_t th;
    atomic_bool stop;
} flood_state_t;
static void *flood_main(void *arg) {
    flood_state_t *f = arg;
    gale_value_t v = gale_int(1);
    while (!atomic_load(&f->stop)) gale_emit_values(f->c, NULL, NULL, &v, 1);
    return NULL;
}
static int flood_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)ctx;
    flood_state_t *f = calloc(1, sizeof(*f));
    f->c = c;
    pthread_create(&f->th, NULL, flood_main, f);
    *st = f;
    return 0;
}
static int flood_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    return 0;
}
static void flood_cleanup(void *st) {
    flood_state_t *f = st;
    atomic_store(&f->stop, true);
    pthread_join(f->th, NULL);
    free(f);
}
const gale_bolt_t t_flood_bolt = {.declare = one_field,
                                  .prepare = flood_prepare,
                                  .execute = flood_execute,
                                  .cleanup = flood_cleanup,
                                  .basic = true};

static void test_stop_with_a_blocked_producer_thread(void **s) {
    (void)s;
    reset(0);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "flood", t_flood_bolt, 1), "spout", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sleepy_bolt, 1), "flood", NULL);
    gale_conf_t *c = conf_with(1, 60);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE, 16);
    gale__rt_t *rt = start(b, c);
    want = 100;
    assert_true(wait_until(all_executed, 30)); /* the sink is busy, its queue full */
    finish(rt);                                /* returns: nothing blocks stop */
    assert_true(executed >= 100);
}

/* Review finding: a tuple the wire cannot carry (nested deeper than the
 * codec allows) is refused at emit, in every mode — it never takes a
 * credit, so later tuples to the same executor still flow. */
static _Atomic int deep_refused;
static void deep_next(void *st, gale_spout_collector_t *c) {
    spout_state_t *s = st;
    if (s->next >= 1100 + 3000) return;
    gale_value_t nest[40];
    nest[0] = gale_int(1);
    for (int i = 1; i < 40; i++) nest[i] = gale_array(&nest[i - 1], 1);
    gale_value_t v = s->next < 1100 ? nest[39] : gale_int(s->next);
    int rc = gale_spout_emit_values(c, NULL, &v, 1);
    if (s->next < 1100 && rc == GALE_ERANGE) atomic_fetch_add(&deep_refused, 1);
    if (s->next >= 1100 && rc != 1) atomic_fetch_add(&deep_refused, 1000000); /* must go */
    s->next++;
}
const gale_spout_t t_deep_spout = {
    .declare = one_field, .open = counting_open, .next_tuple = deep_next, .close = counting_close};

static void test_undeliverable_tuples_keep_credits(void **s) {
    (void)s;
    reset(0);
    deep_refused = 0;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_deep_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_sink_bolt, 1), "spout", NULL);
    gale_conf_t *c = conf_with(2, 60);
    gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 0);
    gale__rt_t *rt = start(b, c);
    assert_ptr_not_equal(rt->execs[0].worker, rt->execs[1].worker);
    want = 3000;
    assert_true(wait_until(all_executed, 30));
    gale__stats_t st;
    gale__rt_stats(rt, "spout", &st);
    finish(rt);
    assert_int_equal(executed, 3000);       /* every int arrived */
    assert_int_equal(deep_refused, 1100);   /* every deep emit failed, naming the limit */
    assert_int_equal(st.errors, 1100);      /* and was counted */
    assert_int_equal(st.transferred, 3000); /* none of them went anywhere */
}

/* Review finding: an emit anchored to more trees than a tuple can carry
 * fails the extra trees at once instead of leaving them to time out. */
typedef struct many_state {
    const gale_tuple_t *held[100];
    int n;
} many_state_t;
static int many_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)ctx;
    (void)c;
    *st = calloc(1, sizeof(many_state_t));
    return 0;
}
static int many_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    many_state_t *m = st;
    m->held[m->n++] = t;
    if (m->n < 100) return 0;
    gale_value_t v = gale_int(0);
    gale_emit_t e = {.values = &v, .n_values = 1, .anchors = m->held, .n_anchors = 100};
    gale_emit(c, &e);
    for (int i = 0; i < 100; i++) gale_ack(c, m->held[i]);
    m->n = 0;
    return 0;
}
const gale_bolt_t t_many_bolt = {.declare = one_field,
                                 .prepare = many_prepare,
                                 .execute = many_execute,
                                 .cleanup = pair_cleanup};

static void test_anchor_limit_fails_extra_trees(void **s) {
    (void)s;
    reset(100);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_counting_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "many", t_many_bolt, 1), "spout", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", t_sink_bolt, 1), "many", NULL);
    gale__rt_t *rt = start(b, conf_with(1, 60));
    want = 100;
    assert_true(wait_until(all_acked_or_failed, 30)); /* well before the 60 s timeout */
    finish(rt);
    assert_int_equal(acked, GALE_WIRE_MAX_IDS);
    assert_int_equal(failed_failed, 100 - GALE_WIRE_MAX_IDS);
    assert_int_equal(failed_timeout, 0);
}

/* Review findings: task ids a custom grouping returns are checked; one
 * that is no task, or more ids than the grouping may return, refuses the
 * emit (GALE_EINVAL), so no tree is acked for tuples that reached nobody. */
static _Atomic int bad_mode, bad_refused, bad_tried;
static size_t bad_choose(void *st, const int *targets, size_t n, const gale_value_t *v, size_t nv,
                         int *out, size_t cap) {
    (void)st;
    (void)v;
    (void)nv;
    if (cap < 2) return 0;
    if (atomic_load(&bad_mode) == 1) return cap + 1000; /* claims more than it wrote */
    out[0] = targets[n - 1];                            /* a real task */
    out[1] = 100000;                                    /* not a task */
    return 2;
}
const gale_grouping_t t_bad_grouping = {.choose = bad_choose};
static void badgroup_next(void *st, gale_spout_collector_t *c) {
    spout_state_t *s = st;
    if (s->next >= 500) return;
    gale_value_t v = gale_int(s->next);
    if (gale_spout_emit_id(c, NULL, &v, 1, (uint64_t)s->next) == GALE_EINVAL)
        atomic_fetch_add(&bad_refused, 1);
    s->next++;
    atomic_fetch_add(&bad_tried, 1);
}
const gale_spout_t t_badgroup_spout = {.declare = one_field,
                                       .open = counting_open,
                                       .next_tuple = badgroup_next,
                                       .ack = counting_ack,
                                       .fail = counting_fail,
                                       .close = counting_close};
static bool all_tried(void) {
    return atomic_load(&bad_tried) >= 500;
}

static void custom_grouping_case(int mode) {
    reset(500);
    bad_mode = mode;
    bad_refused = bad_tried = 0;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_badgroup_spout, 1);
    GALE_CUSTOM_GROUPING(GALE_BOLT(b, "sink", t_sink_bolt, 2), "spout", NULL, t_bad_grouping);
    gale__rt_t *rt = start(b, conf_with(1, 60));
    assert_true(wait_until(all_tried, 30));
    finish(rt);
    assert_int_equal(bad_refused, 500);
    assert_int_equal(executed, 0);
    assert_int_equal(acked, 0);
}

static void test_custom_grouping_ids_are_checked(void **s) {
    (void)s;
    custom_grouping_case(0);
    custom_grouping_case(1);
}

/* Review finding: emitting from open() with several workers is safe. */
static int eager_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    counting_open(st, ctx, c);
    for (int i = 0; i < 300; i++) {
        gale_value_t v = gale_int(i);
        gale_spout_emit_values(c, NULL, &v, 1);
    }
    return 0;
}
static void idle_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
}
const gale_spout_t t_eager_spout = {
    .declare = one_field, .open = eager_open, .next_tuple = idle_next, .close = counting_close};

/* The worker that runs the (first) task of a component. */
static gale__worker_t *worker_of(gale__rt_t *rt, const char *component) {
    for (size_t i = 0; i < rt->n_comps; i++)
        if (strcmp(rt->comps[i].id, component) == 0)
            return rt->execs[rt->task_exec[rt->comps[i].tasks[0]]].worker;
    fail_msg("no component %s", component);
    return NULL;
}

static void test_emit_from_open_across_workers(void **s) {
    (void)s;
    reset(0);
    gale__codec_stats_t before, after;
    gale__codec_stats_get(&before);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", t_eager_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", t_sink_bolt, 1), "spout", NULL);
    gale__rt_t *rt = start(b, conf_with(2, 60));
    assert_ptr_not_equal(worker_of(rt, "spout"), worker_of(rt, "bolt"));
    want = 300;
    assert_true(wait_until(all_executed, 30));
    finish(rt);
    gale__codec_stats_get(&after);
    assert_int_equal(executed, 300);
    /* all 300 went over the wire */
    assert_true(after.tuples_decoded - before.tuples_decoded >= 300);
}

static void test_acker_state_machine(void **s) {
    (void)s;
    gale__pendmap_t m;
    assert_int_equal(gale__pendmap_init(&m, 16), 0);
    int32_t to = 0;
    /* fan-out: spout edges e1, e2; bolt acks e1 (emitting e3), e2, e3 */
    uint64_t r = 0x1234, e1 = 11, e2 = 22, e3 = 33;
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_INIT, r, e1 ^ e2, 5, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, e1 ^ e3, 0, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, e2, 0, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, e3, 0, &to),
                     GALE__SYS_SPOUT_ACK);
    assert_int_equal(to, 5);
    assert_int_equal(m.count, 0);
    /* acks before the init: complete only when the init arrives */
    r = 0x99;
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, e1, 0, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, e2, 0, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_INIT, r, e1 ^ e2, 7, &to),
                     GALE__SYS_SPOUT_ACK);
    assert_int_equal(to, 7);
    /* multi-anchoring: child has edge a^b for one root (two anchors) */
    r = 0x77;
    uint64_t a = 101, bb = 202;
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_INIT, r, e1 ^ e2, 3, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, e1 ^ a, 0, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, e2 ^ bb, 0, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_ACK, r, a ^ bb, 0, &to),
                     GALE__SYS_SPOUT_ACK);
    /* a fail before the init fails the tree when the init arrives */
    r = 0x55;
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_FAIL, r, 0, 0, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_INIT, r, e1, 9, &to),
                     GALE__SYS_SPOUT_FAIL);
    assert_int_equal(to, 9);
    /* reset is forwarded to the spout once the init is known */
    r = 0x66;
    assert_int_equal(gale__acker_apply(&m, 0, GALE__SYS_ACK_INIT, r, e1, 4, &to), -1);
    assert_int_equal(gale__acker_apply(&m, 3, GALE__SYS_ACK_RESET, r, 0, 0, &to),
                     GALE__SYS_SPOUT_RESET);
    assert_int_equal(gale__pendmap_get(&m, r)->gen, 3);
    gale__pendmap_destroy(&m);
}

/* A failed assertion leaves the test's runtime running: stop it here. */
static int teardown(void **s) {
    (void)s;
    if (current_rt) finish(current_rt);
    return 0;
}

int main(void) {
    (void)tag_execute;
    (void)tagger_execute;
    (void)direct_execute;
    (void)dsink_ctx;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_acker_state_machine, teardown),
        cmocka_unit_test_teardown(test_tree_fanout_multi_anchor, teardown),
        cmocka_unit_test_teardown(test_acks_inline_in_one_worker, teardown),
        cmocka_unit_test_teardown(test_explicit_fail_reason, teardown),
        cmocka_unit_test_teardown(test_timeout_between_t_and_2t, teardown),
        cmocka_unit_test_teardown(test_reset_timeout_keeps_tree_alive, teardown),
        cmocka_unit_test_teardown(test_max_spout_pending, teardown),
        cmocka_unit_test_teardown(test_ackers_zero_acks_at_emit, teardown),
        cmocka_unit_test_teardown(test_backpressure_bounds_memory, teardown),
        cmocka_unit_test_teardown(test_stats_sampling_rate, teardown),
        cmocka_unit_test_teardown(test_tick_tuples, teardown),
        cmocka_unit_test_teardown(test_direct_grouping, teardown),
        cmocka_unit_test_teardown(test_two_workers_use_codec, teardown),
        cmocka_unit_test_teardown(test_local_or_shuffle_stays_local, teardown),
        cmocka_unit_test_teardown(test_bolt_collector_from_another_thread, teardown),
        cmocka_unit_test_teardown(test_backpressure_across_workers, teardown),
        cmocka_unit_test_teardown(test_backpressure_across_workers_acking, teardown),
        cmocka_unit_test_teardown(test_garbage_on_the_wire, teardown),
        cmocka_unit_test_teardown(test_stop_with_a_blocked_producer_thread, teardown),
        cmocka_unit_test_teardown(test_undeliverable_tuples_keep_credits, teardown),
        cmocka_unit_test_teardown(test_anchor_limit_fails_extra_trees, teardown),
        cmocka_unit_test_teardown(test_custom_grouping_ids_are_checked, teardown),
        cmocka_unit_test_teardown(test_emit_from_open_across_workers, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
