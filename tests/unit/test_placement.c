/*
 * test_placement.c — a cluster worker's reading of its assignment
 * (worker/placement.c): slots numbered, its own slot found and bound on
 * gale.local.hostname, peers reached at their advertised hosts; bad
 * assignments refused; layouts compared for SIGHUP; and the runtime
 * (gale__rt_new_placed) hosting only this worker's executors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "worker/placement.h"
#include "worker/runtime.h"

static gale__ctl_executor_slot_t slots[4];
static gale__ctl_topology_assignment_t asg;

static void make(void) {
    slots[0] = (gale__ctl_executor_slot_t){1, 2, "sup-a", "10.0.0.1", 6700, GALE_CTL_UNSET, NULL};
    slots[1] = (gale__ctl_executor_slot_t){3, 3, "sup-b", "10.0.0.2", 6700, GALE_CTL_UNSET, NULL};
    slots[2] = (gale__ctl_executor_slot_t){4, 5, "sup-a", "10.0.0.1", 6700, GALE_CTL_UNSET, NULL};
    slots[3] = (gale__ctl_executor_slot_t){6, 6, "sup-a", "10.0.0.1", 6701, GALE_CTL_UNSET, NULL};
    asg = (gale__ctl_topology_assignment_t){"t-1-1", "ACTIVE", 3, {slots, 4}};
}

static void test_own_slot_and_peers(void **state) {
    (void)state;
    make();
    gale__rt_place_t p;
    char err[256] = "";
    assert_int_equal(
        gale__place_from_assignment(&asg, "sup-a", 6700, "0.0.0.0", &p, err, sizeof err), 0);
    assert_int_equal(p.n_workers, 3);
    assert_int_equal(p.here, 0);
    assert_string_equal(p.endpoints[0], "tcp://0.0.0.0:6700"); /* binds where told */
    assert_string_equal(p.endpoints[1], "tcp://10.0.0.2:6700");
    assert_string_equal(p.endpoints[2], "tcp://10.0.0.1:6701");
    assert_int_equal(gale__place_worker_of(&p, 4, 5), 0);
    assert_int_equal(gale__place_worker_of(&p, 3, 3), 1);
    assert_int_equal(gale__place_worker_of(&p, 3, 4), -1);
    gale__place_free(&p);
    gale__place_free(&p); /* twice is harmless */
}

static void test_refusals(void **state) {
    (void)state;
    make();
    gale__rt_place_t p;
    char err[256] = "";
    /* the same supervisor, another port; another supervisor, same port */
    assert_int_equal(gale__place_from_assignment(&asg, "sup-a", 6702, NULL, &p, err, sizeof err),
                     GALE_ENOENT);
    assert_non_null(strstr(err, "not (or no longer) assigned"));
    assert_int_equal(gale__place_from_assignment(&asg, "sup-c", 6700, NULL, &p, err, sizeof err),
                     GALE_ENOENT);
    slots[2].start = 2; /* overlaps [1-2] */
    assert_int_equal(gale__place_from_assignment(&asg, "sup-a", 6700, NULL, &p, err, sizeof err),
                     GALE_EINVAL);
    assert_non_null(strstr(err, "overlap"));
}

static void test_same_layout(void **state) {
    (void)state;
    make();
    gale__rt_place_t a, b;
    char err[256];
    assert_int_equal(gale__place_from_assignment(&asg, "sup-a", 6700, NULL, &a, err, sizeof err),
                     0);
    slots[1].host = "10.0.0.9"; /* a peer moved: same layout */
    slots[1].port = 6703;
    slots[1].supervisor = "sup-c";
    assert_int_equal(gale__place_from_assignment(&asg, "sup-a", 6700, NULL, &b, err, sizeof err),
                     0);
    assert_true(gale__place_same_layout(&a, &b));
    assert_string_equal(b.endpoints[1], "tcp://10.0.0.9:6703");
    gale__place_free(&b);
    slots[3].port = 6700; /* [6-6] joins this worker: regrouped */
    assert_int_equal(gale__place_from_assignment(&asg, "sup-a", 6700, NULL, &b, err, sizeof err),
                     0);
    assert_false(gale__place_same_layout(&a, &b));
    gale__place_free(&b);
    gale__place_free(&a);
}

/* ---- the runtime with a placement ---- */

static void noop_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
}
static int noop_exec(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    (void)t;
    (void)c;
    return 0;
}
static void decl(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "x");
}
GALE_EXPORT const gale_spout_t place_spout = {.declare = decl, .next_tuple = noop_next};
GALE_EXPORT const gale_bolt_t place_bolt = {.declare = decl, .execute = noop_exec};

static gale__topology_t *tiny(void) {
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "s", place_spout, 1);
    gale_component_t *x = GALE_BOLT(b, "b", place_bolt, 2);
    gale_shuffle_grouping(x, "s", NULL);
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.workers", 2);
    gale__topology_t *t = NULL;
    char err[256];
    assert_int_equal(gale__builder_finish(b, "tiny", conf, &t, err, sizeof err), 0);
    gale__topology_assign_tasks(t);
    return t;
}

static const void *resolve(void *ud, const char *sym) {
    (void)ud;
    if (strcmp(sym, "place_spout") == 0) return &place_spout;
    if (strcmp(sym, "place_bolt") == 0) return &place_bolt;
    return NULL;
}

static void test_runtime_hosts_only_its_executors(void **state) {
    (void)state;
    /* tasks: b 1-2 (2 executors), s 3, ackers 4-5 */
    gale__ctl_executor_slot_t s[5] = {
        {1, 1, "sup", "127.0.0.1", 7001, GALE_CTL_UNSET, NULL},
        {2, 2, "sup", "127.0.0.1", 7002, GALE_CTL_UNSET, NULL},
        {3, 3, "sup", "127.0.0.1", 7001, GALE_CTL_UNSET, NULL},
        {4, 4, "sup", "127.0.0.1", 7001, GALE_CTL_UNSET, NULL},
        {5, 5, "sup", "127.0.0.1", 7002, GALE_CTL_UNSET, NULL},
    };
    gale__ctl_topology_assignment_t a = {"tiny-1-1", "ACTIVE", 1, {s, 5}};
    gale__rt_place_t p;
    char err[512] = "";
    assert_int_equal(gale__place_from_assignment(&a, "sup", 7002, NULL, &p, err, sizeof err), 0);
    gale__rt_t *rt;
    assert_int_equal(
        gale__rt_new_placed(&rt, tiny(), NULL, NULL, resolve, NULL, &p, err, sizeof err), 0);
    assert_int_equal(rt->n_workers, 2);
    size_t here = 0;
    for (size_t i = 0; i < rt->n_execs; i++) {
        gale__exec_t *e = &rt->execs[i];
        bool mine = e->tasks[0].id == 2 || e->tasks[0].id == 5;
        assert_int_equal(e->worker->local, mine);
        assert_int_equal(e->queue.slots != NULL, mine); /* no queue for another's */
        here += mine;
    }
    assert_int_equal(here, 2);
    gale__rt_destroy(rt);

    /* an assignment missing an executor is refused, naming it */
    gale__place_free(&p);
    a.executors.items = s + 1; /* no [1-1] */
    a.executors.n = 4;
    assert_int_equal(gale__place_from_assignment(&a, "sup", 7002, NULL, &p, err, sizeof err), 0);
    assert_int_equal(
        gale__rt_new_placed(&rt, tiny(), NULL, NULL, resolve, NULL, &p, err, sizeof err),
        GALE_EINVAL);
    assert_non_null(strstr(err, "[1-1]"));
    gale__place_free(&p);
}

/* nimbus decides the ackers (one per worker after a rebalance): the
 * assignment's count wins over topology.workers in the conf */
static void test_runtime_ackers_from_assignment(void **state) {
    (void)state;
    gale__ctl_executor_slot_t s[6] = {
        {1, 1, "sup", "127.0.0.1", 7001, GALE_CTL_UNSET, NULL},
        {2, 2, "sup", "127.0.0.1", 7002, GALE_CTL_UNSET, NULL},
        {3, 3, "sup", "127.0.0.1", 7003, GALE_CTL_UNSET, NULL},
        {4, 4, "sup", "127.0.0.1", 7001, GALE_CTL_UNSET, NULL},
        {5, 5, "sup", "127.0.0.1", 7002, GALE_CTL_UNSET, NULL},
        {6, 6, "sup", "127.0.0.1", 7003, GALE_CTL_UNSET, NULL},
    };
    gale__ctl_topology_assignment_t a = {"tiny-1-1", "ACTIVE", 2, {s, 6}};
    gale__rt_place_t p;
    char err[512] = "";
    assert_int_equal(gale__place_from_assignment(&a, "sup", 7003, NULL, &p, err, sizeof err), 0);
    gale__rt_t *rt;
    assert_int_equal(
        gale__rt_new_placed(&rt, tiny(), NULL, NULL, resolve, NULL, &p, err, sizeof err), 0);
    assert_non_null(rt->acker);
    assert_int_equal(rt->acker->n_tasks, 3); /* the conf says topology.workers = 2 */
    assert_int_equal(rt->n_workers, 3);
    gale__rt_destroy(rt);
    gale__place_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_slot_and_peers),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_same_layout),
        cmocka_unit_test(test_runtime_hosts_only_its_executors),
        cmocka_unit_test(test_runtime_ackers_from_assignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
