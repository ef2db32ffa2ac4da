/*
 * test_activation.c — gale__rt_set_spouts_active, what a cluster worker
 * does when its topology is deactivated or activated (Storm's
 * `deactivate`/`activate`): a deactivated spout's next_tuple is not
 * called, the acks of its trees in flight still are, activate resumes
 * it, and activate()/deactivate() run once per task per transition on
 * the executor's own thread (the thread that ran open). A runtime
 * switched off before launch starts with its spouts deactivated.
 *
 * Components are defined here and resolved by name (the binary is linked
 * with -rdynamic); observations travel through the globals below, reset
 * by each test. Waits poll a condition with a deadline; "never called"
 * is read after every spout executor turned its loop again (woken by a
 * repeated switch to the same state, which changes nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "topology/topology.h"
#include "worker/runtime.h"
#include "rt_harness.h"

#define TASKS 3 /* spout tasks, over 2 executors */

static gale__rt_t *current_rt;
static _Atomic int64_t next_calls, emitted, acked, failed, opens, activations, deactivations,
    closes, wrong_thread;
static atomic_bool gate_open;

typedef struct {
    pthread_t opener; /* the thread that ran open */
    uint64_t next_id;
} sw_state_t;

/* Every callback after open must run on the thread that ran open. */
static void on_own_thread(const sw_state_t *s) {
    if (!pthread_equal(s->opener, pthread_self())) atomic_fetch_add(&wrong_thread, 1);
}

static void sw_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}
static int sw_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    sw_state_t *s = calloc(1, sizeof *s);
    s->opener = pthread_self();
    *st = s;
    atomic_fetch_add(&opens, 1);
    return 0;
}
static void sw_activate(void *st) {
    on_own_thread(st);
    atomic_fetch_add(&activations, 1);
}
static void sw_deactivate(void *st) {
    on_own_thread(st);
    atomic_fetch_add(&deactivations, 1);
}
/* Never ends: one reliable tuple per call. */
static void sw_next(void *st, gale_spout_collector_t *c) {
    sw_state_t *s = st;
    on_own_thread(s);
    atomic_fetch_add(&next_calls, 1);
    gale_value_t v = gale_int((int64_t)s->next_id);
    if (gale_spout_emit_id(c, NULL, &v, 1, ++s->next_id) >= 0) atomic_fetch_add(&emitted, 1);
}
static void sw_ack(void *st, uint64_t id) {
    (void)id;
    on_own_thread(st);
    atomic_fetch_add(&acked, 1);
}
static void sw_fail(void *st, uint64_t id, gale_fail_reason_t why) {
    (void)id;
    (void)why;
    on_own_thread(st);
    atomic_fetch_add(&failed, 1);
}
static void sw_close(void *st) {
    on_own_thread(st);
    atomic_fetch_add(&closes, 1);
    free(st);
}
const gale_spout_t a_switch_spout = {.declare = sw_declare,
                                     .open = sw_open,
                                     .next_tuple = sw_next,
                                     .ack = sw_ack,
                                     .fail = sw_fail,
                                     .activate = sw_activate,
                                     .deactivate = sw_deactivate,
                                     .close = sw_close};

/* Holds each tuple until the gate opens, so trees stay in flight. */
static int gate_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    while (!atomic_load(&gate_open)) usleep(500);
    return 0;
}
const gale_bolt_t a_gate_bolt = {.execute = gate_execute, .basic = true};

static void reset(void) {
    next_calls = emitted = acked = failed = opens = activations = deactivations = closes =
        wrong_thread = 0;
    gate_open = true;
}

/* spout (TASKS tasks, 2 executors) -> gate, one acker, at most 2 trees
 * in flight per task. Built, not launched. */
static gale__rt_t *build(void) {
    gale_builder_t *b = gale_builder_new();
    gale_component_t *sp = GALE_SPOUT(b, "switch", a_switch_spout, 2);
    gale_component_set_tasks(sp, TASKS);
    gale_shuffle_grouping(GALE_BOLT(b, "gate", a_gate_bolt, 1), "switch", NULL);
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, 1);
    gale_conf_set_int(conf, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, 2);
    gale__topology_t *t = NULL;
    char err[512] = "";
    int rc = gale__builder_finish(b, "activation", conf, &t, err, sizeof err);
    if (!rc) rc = gale__topology_validate(t, resolve, NULL, err, sizeof err);
    if (rc) fprintf(stderr, "topology: %s\n", err);
    assert_int_equal(rc, 0);
    gale__topology_assign_tasks(t);
    gale__rt_t *rt = NULL;
    rc = gale__rt_new(&rt, t, NULL, NULL, resolve, NULL, err, sizeof err);
    if (rc) fprintf(stderr, "rt_new: %s\n", err);
    assert_int_equal(rc, 0);
    current_rt = rt;
    return rt;
}

static void launch(gale__rt_t *rt) {
    char err[512] = "";
    int rc = gale__rt_start(rt, err, sizeof err);
    if (rc) fprintf(stderr, "start: %s\n", err);
    assert_int_equal(rc, 0);
}

static uint64_t spout_turns(void) {
    uint64_t n = 0;
    for (size_t i = 0; i < current_rt->n_execs; i++)
        if (current_rt->execs[i].comp->is_spout)
            n += atomic_load_explicit(&current_rt->execs[i].loop_turns, memory_order_relaxed);
    return n;
}

/* Every spout executor turns its loop a few more times: the switch is
 * set again to what it is (no transition) only to wake them. */
static uint64_t turns_mark;
static bool spouts_turned(void) {
    gale__rt_set_spouts_active(current_rt, atomic_load(&current_rt->spouts_on));
    return spout_turns() >= turns_mark + 8;
}
static void let_spouts_turn(void) {
    turns_mark = spout_turns();
    assert_true(wait_until(spouts_turned, 10));
}

static bool all_opened(void) {
    return atomic_load(&opens) == TASKS;
}
static bool all_activated(void) {
    return atomic_load(&activations) == TASKS;
}
static bool all_deactivated_once(void) {
    return atomic_load(&deactivations) == TASKS;
}
static bool all_reactivated(void) {
    return atomic_load(&activations) == 2 * TASKS;
}
static bool in_flight_full(void) {
    return atomic_load(&emitted) == 2 * TASKS; /* max.spout.pending per task */
}
static bool every_tree_acked(void) {
    return atomic_load(&acked) == atomic_load(&emitted);
}
static int64_t calls_mark;
static bool next_called_again(void) {
    return atomic_load(&next_calls) > calls_mark && atomic_load(&emitted) > 2 * TASKS;
}

static void finish(gale__rt_t *rt) {
    atomic_store(&gate_open, true);
    assert_int_equal(gale__rt_stop(rt, 10000), 0);
    gale__rt_destroy(rt);
    current_rt = NULL;
}

/* deactivate: no next_tuple while the acks of the trees in flight still
 * arrive; activate: it resumes; each callback once per transition. */
static void test_deactivate_then_activate(void **s) {
    (void)s;
    reset();
    atomic_store(&gate_open, false); /* trees stay in flight */
    gale__rt_t *rt = build();
    launch(rt);
    assert_true(wait_until(in_flight_full, 10));
    assert_int_equal(atomic_load(&activations), TASKS);

    gale__rt_set_spouts_active(rt, false);
    gale__rt_set_spouts_active(rt, false); /* the same state again: no second call */
    assert_true(wait_until(all_deactivated_once, 10));
    int64_t calls = atomic_load(&next_calls);

    /* the acks of what was in flight reach the deactivated spout, and
     * with room under max.spout.pending again next_tuple is still not
     * called */
    atomic_store(&gate_open, true);
    assert_true(wait_until(every_tree_acked, 10));
    let_spouts_turn();
    assert_int_equal(atomic_load(&next_calls), calls);
    assert_int_equal(atomic_load(&emitted), 2 * TASKS);
    assert_int_equal(atomic_load(&deactivations), TASKS);
    assert_int_equal(atomic_load(&activations), TASKS);

    gale__rt_set_spouts_active(rt, true);
    gale__rt_set_spouts_active(rt, true);
    assert_true(wait_until(all_reactivated, 10));
    calls_mark = calls;
    assert_true(wait_until(next_called_again, 10));
    assert_int_equal(atomic_load(&deactivations), TASKS);

    finish(rt);
    /* the stop deactivates once more: one call per transition, no more */
    assert_int_equal(atomic_load(&activations), 2 * TASKS);
    assert_int_equal(atomic_load(&deactivations), 2 * TASKS);
    assert_int_equal(atomic_load(&closes), TASKS);
    assert_int_equal(atomic_load(&failed), 0);
    assert_int_equal(atomic_load(&wrong_thread), 0);
}

/* Switched off before launch: open runs, activate() and next_tuple do
 * not until the switch is turned on. */
static void test_starts_deactivated(void **s) {
    (void)s;
    reset();
    gale__rt_t *rt = build();
    gale__rt_set_spouts_active(rt, false);
    launch(rt);
    assert_true(wait_until(all_opened, 10));
    let_spouts_turn();
    assert_int_equal(atomic_load(&next_calls), 0);
    assert_int_equal(atomic_load(&activations), 0);

    gale__rt_set_spouts_active(rt, true);
    calls_mark = 0;
    assert_true(wait_until(next_called_again, 10));
    assert_int_equal(atomic_load(&activations), TASKS);
    finish(rt);
    assert_int_equal(atomic_load(&deactivations), TASKS);
    assert_int_equal(atomic_load(&wrong_thread), 0);
}

/* A stop while deactivated calls deactivate() no second time. */
static void test_stop_while_deactivated(void **s) {
    (void)s;
    reset();
    gale__rt_t *rt = build();
    launch(rt);
    assert_true(wait_until(all_activated, 10));
    gale__rt_set_spouts_active(rt, false);
    assert_true(wait_until(all_deactivated_once, 10));
    finish(rt);
    assert_int_equal(atomic_load(&activations), TASKS);
    assert_int_equal(atomic_load(&deactivations), TASKS);
    assert_int_equal(atomic_load(&closes), TASKS);
    assert_int_equal(atomic_load(&wrong_thread), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deactivate_then_activate),
        cmocka_unit_test(test_starts_deactivated),
        cmocka_unit_test(test_stop_while_deactivated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
