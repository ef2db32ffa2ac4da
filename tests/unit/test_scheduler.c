/*
 * test_scheduler.c — the even scheduler (nimbus/scheduler.c): workers
 * spread over supervisors first, executors round-robin over the slots,
 * live workers keep their slots (a nimbus restart moves nothing), a lost
 * supervisor's executors move, too few slots are used and reported, and
 * malformed input is refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nimbus/scheduler.h"

static bool contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) {
        print_error("expected '%s' in '%s'\n", needle, hay);
        return false;
    }
    return true;
}

static const int PORTS4[] = {6703, 6701, 6700, 6702}; /* any order in */
static const int PORT1[] = {6700};

/* n executors of one task each: [1,1], [2,2], ... */
static gale__sched_executor_t *executors(size_t n) {
    gale__sched_executor_t *e = calloc(n, sizeof(*e));
    assert_non_null(e);
    for (size_t i = 0; i < n; i++) e[i] = (gale__sched_executor_t){(int32_t)i + 1, (int32_t)i + 1};
    return e;
}

static void expect_place(const gale__sched_result_t *r, size_t i, const char *sup, int port) {
    if (strcmp(r->places[i].supervisor, sup) != 0 || r->places[i].port != port)
        print_error("executor %zu: %s:%d, expected %s:%d\n", i, r->places[i].supervisor,
                    r->places[i].port, sup, port);
    assert_string_equal(r->places[i].supervisor, sup);
    assert_int_equal(r->places[i].port, port);
}

static void schedule_ok(const gale__sched_input_t *in, gale__sched_result_t *r) {
    char err[256] = "";
    int rc = gale__schedule(in, r, err, sizeof err);
    if (rc) print_error("schedule: %s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(r->n_places, in->n_executors);
    for (size_t i = 0; i < r->n_places; i++) {
        assert_int_equal(r->places[i].start, in->executors[i].start);
        assert_int_equal(r->places[i].end, in->executors[i].end);
    }
}

static void test_spread_over_supervisors_first(void **state) {
    (void)state;
    gale__sched_executor_t *ex = executors(8);
    gale__sched_supervisor_t sups[2] = {{"sup-b", "127.0.0.3", PORTS4, 4},
                                        {"sup-a", "127.0.0.2", PORTS4, 4}};
    gale__sched_input_t in = {ex, 8, 3, sups, 2, NULL, 0, 0};
    gale__sched_result_t r;
    schedule_ok(&in, &r);
    /* Equal free slots: by id; A:6700, B:6700, A:6701, then round-robin. */
    expect_place(&r, 0, "sup-a", 6700);
    expect_place(&r, 1, "sup-b", 6700);
    expect_place(&r, 2, "sup-a", 6701);
    expect_place(&r, 3, "sup-a", 6700);
    expect_place(&r, 4, "sup-b", 6700);
    expect_place(&r, 5, "sup-a", 6701);
    expect_place(&r, 7, "sup-b", 6700);
    assert_string_equal(r.places[1].host, "127.0.0.3");
    assert_int_equal(r.workers, 3);
    assert_true(r.changed);
    assert_int_equal(r.version, 1);
    assert_string_equal(r.note, "");
    gale__sched_result_free(&r);

    /* The supervisor with more free slots comes first, whatever its id. */
    sups[1].ports = PORT1;
    sups[1].n_ports = 1;
    in.workers = 3;
    schedule_ok(&in, &r);
    expect_place(&r, 0, "sup-b", 6700);
    expect_place(&r, 1, "sup-a", 6700);
    expect_place(&r, 2, "sup-b", 6701);
    gale__sched_result_free(&r);
    sups[0].ports = PORT1;
    sups[0].n_ports = 1;
    sups[1].ports = PORTS4;
    sups[1].n_ports = 4;
    schedule_ok(&in, &r);
    expect_place(&r, 0, "sup-a", 6700);
    expect_place(&r, 1, "sup-b", 6700);
    expect_place(&r, 2, "sup-a", 6701);
    gale__sched_result_free(&r);
    gale__sched_result_free(NULL);
    free(ex);
}

static void test_round_robin_over_slots(void **state) {
    (void)state;
    gale__sched_executor_t ex[6] = {{1, 2}, {3, 4}, {5, 5}, {6, 6}, {7, 9}, {10, 10}};
    gale__sched_supervisor_t sup = {"s", "h", PORTS4, 4};
    gale__sched_input_t in = {ex, 6, 2, &sup, 1, NULL, 0, 0};
    gale__sched_result_t r;
    schedule_ok(&in, &r);
    for (size_t i = 0; i < 6; i++) expect_place(&r, i, "s", i % 2 ? 6701 : 6700);
    assert_int_equal(r.workers, 2);
    gale__sched_result_free(&r);

    /* More workers than executors: no slot gets nothing to run, and three
     * free slots are enough for three executors (no note). */
    static const int three[] = {6700, 6701, 6702};
    sup.ports = three;
    sup.n_ports = 3;
    in.n_executors = 3;
    in.workers = 4;
    schedule_ok(&in, &r);
    assert_int_equal(r.workers, 3);
    assert_string_equal(r.note, "");
    gale__sched_result_free(&r);
}

static void test_keep_live_workers(void **state) {
    (void)state;
    gale__sched_executor_t *ex = executors(6);
    gale__sched_supervisor_t sups[2] = {{"sup-a", "127.0.0.2", PORTS4, 4},
                                        {"sup-b", "127.0.0.3", PORTS4, 4}};
    gale__sched_input_t in = {ex, 6, 3, sups, 2, NULL, 0, 0};
    gale__sched_result_t first, again;
    schedule_ok(&in, &first);

    /* A restarted nimbus passes back the assignment of the live workers:
     * nothing moves and the version stays, so no supervisor restarts a
     * worker. The input's order of supervisors does not matter. */
    gale__sched_supervisor_t swapped[2] = {sups[1], sups[0]};
    in.supervisors = swapped;
    in.keep = first.places;
    in.n_keep = first.n_places;
    in.version = first.version;
    schedule_ok(&in, &again);
    for (size_t i = 0; i < 6; i++)
        expect_place(&again, i, first.places[i].supervisor, first.places[i].port);
    assert_false(again.changed);
    assert_int_equal(again.version, first.version);
    assert_int_equal(again.workers, 3);
    gale__sched_result_free(&again);

    /* One worker (sup-b:6700) stopped heartbeating: its executors move to a
     * free slot, the others stay. */
    gale__sched_place_t live[6];
    size_t n_live = 0;
    for (size_t i = 0; i < 6; i++)
        if (!(strcmp(first.places[i].supervisor, "sup-b") == 0 && first.places[i].port == 6700))
            live[n_live++] = first.places[i];
    assert_int_equal(n_live, 4);
    in.keep = live;
    in.n_keep = n_live;
    schedule_ok(&in, &again);
    for (size_t i = 0; i < 6; i++) {
        bool was_dead =
            strcmp(first.places[i].supervisor, "sup-b") == 0 && first.places[i].port == 6700;
        if (was_dead) /* the most free slots are now on sup-b: 6700 again */
            expect_place(&again, i, "sup-b", 6700);
        else
            expect_place(&again, i, first.places[i].supervisor, first.places[i].port);
    }
    assert_true(again.changed);
    assert_int_equal(again.version, first.version + 1);
    gale__sched_result_free(&again);

    /* A kept entry for a task range that is no longer an executor (the
     * caller passed a stale assignment) is dropped. */
    gale__sched_place_t stale[7];
    memcpy(stale, first.places, 6 * sizeof(*stale));
    stale[6] = (gale__sched_place_t){40, 41, "sup-a", NULL, 6700};
    in.keep = stale;
    in.n_keep = 7;
    schedule_ok(&in, &again);
    for (size_t i = 0; i < 6; i++)
        expect_place(&again, i, first.places[i].supervisor, first.places[i].port);
    assert_true(again.changed); /* the stored assignment had an extra entry */
    gale__sched_result_free(&again);

    /* A rebalance to fewer workers than are kept starts from scratch. */
    in.keep = first.places;
    in.n_keep = 6;
    in.workers = 2;
    schedule_ok(&in, &again);
    assert_int_equal(again.workers, 2);
    assert_true(again.changed);
    gale__sched_result_free(&again);
    gale__sched_result_free(&first);
    free(ex);
}

static void test_supervisor_lost(void **state) {
    (void)state;
    gale__sched_executor_t *ex = executors(4);
    gale__sched_supervisor_t sups[2] = {{"sup-a", "127.0.0.2", PORTS4, 4},
                                        {"sup-b", "127.0.0.3", PORTS4, 4}};
    gale__sched_input_t in = {ex, 4, 2, sups, 2, NULL, 0, 0};
    gale__sched_result_t first, after;
    schedule_ok(&in, &first);
    expect_place(&first, 0, "sup-a", 6700);
    expect_place(&first, 1, "sup-b", 6700);
    expect_place(&first, 2, "sup-a", 6700);
    expect_place(&first, 3, "sup-b", 6700);

    /* sup-b stops heartbeating: nimbus passes the whole old assignment;
     * sup-b's entries are dropped and its executors get a new slot on
     * sup-a, beside (not inside) the worker that still runs there. */
    in.supervisors = sups;
    in.n_supervisors = 1;
    in.keep = first.places;
    in.n_keep = 4;
    in.version = first.version;
    schedule_ok(&in, &after);
    expect_place(&after, 0, "sup-a", 6700);
    expect_place(&after, 1, "sup-a", 6701);
    expect_place(&after, 2, "sup-a", 6700);
    expect_place(&after, 3, "sup-a", 6701);
    assert_int_equal(after.workers, 2);
    assert_true(after.changed);
    assert_int_equal(after.version, first.version + 1);
    gale__sched_result_free(&after);

    /* A port another topology took meanwhile counts as lost too. */
    static const int b_ports[] = {6701, 6702, 6703};
    gale__sched_supervisor_t narrowed[2] = {{"sup-a", "127.0.0.2", PORTS4, 4},
                                            {"sup-b", "127.0.0.3", b_ports, 3}};
    in.supervisors = narrowed;
    in.n_supervisors = 2;
    schedule_ok(&in, &after);
    expect_place(&after, 0, "sup-a", 6700);
    expect_place(&after, 2, "sup-a", 6700);
    /* three free slots on each: the tie goes by id, as in Storm */
    expect_place(&after, 1, "sup-a", 6701);
    expect_place(&after, 3, "sup-a", 6701);
    gale__sched_result_free(&after);

    /* When no slot is new, the lost executors join the kept workers. */
    gale__sched_supervisor_t full = {"sup-a", "127.0.0.2", PORT1, 1};
    in.supervisors = &full;
    in.n_supervisors = 1;
    schedule_ok(&in, &after);
    for (size_t i = 0; i < 4; i++) expect_place(&after, i, "sup-a", 6700);
    assert_int_equal(after.workers, 1);
    assert_true(contains(after.note, "wants 2 workers but only 1 slot is free: running 1"));
    gale__sched_result_free(&after);
    gale__sched_result_free(&first);
    free(ex);
}

static void test_not_enough_slots(void **state) {
    (void)state;
    gale__sched_executor_t *ex = executors(8);
    static const int two[] = {6700, 6701};
    gale__sched_supervisor_t sup = {"sup-a", "h", two, 2};
    gale__sched_input_t in = {ex, 8, 4, &sup, 1, NULL, 0, 0};
    gale__sched_result_t r;
    schedule_ok(&in, &r);
    assert_int_equal(r.workers, 2);
    assert_string_equal(r.note, "wants 4 workers but only 2 slots are free: running 2");
    gale__sched_result_free(&r);

    char err[256] = "";
    in.n_supervisors = 0;
    assert_int_equal(gale__schedule(&in, &r, err, sizeof err), GALE_ENOENT);
    assert_true(contains(err, "no free worker slots"));
    assert_null(r.places);
    sup.n_ports = 0; /* a supervisor whose slots are all taken */
    in.n_supervisors = 1;
    assert_int_equal(gale__schedule(&in, &r, err, sizeof err), GALE_ENOENT);
    assert_true(contains(err, "start a supervisor or kill a topology"));
    free(ex);
}

static void test_bad_input(void **state) {
    (void)state;
    gale__sched_executor_t ex[3] = {{1, 1}, {2, 3}, {4, 4}};
    gale__sched_supervisor_t sups[2] = {{"a", "h", PORTS4, 4}, {"b", "h", PORTS4, 4}};
    gale__sched_input_t good = {ex, 3, 2, sups, 2, NULL, 0, 0};
    gale__sched_result_t r;
    char err[256];
    gale__sched_input_t in;

#define REFUSED(reason)                                                                            \
    do {                                                                                           \
        err[0] = '\0';                                                                             \
        assert_int_equal(gale__schedule(&in, &r, err, sizeof err), GALE_EINVAL);                   \
        assert_true(contains(err, reason));                                                        \
        assert_null(r.places);                                                                     \
    } while (0)

    in = good;
    in.n_executors = 0;
    REFUSED("the topology has no executors");
    in = good;
    in.workers = 0;
    REFUSED("0 workers requested");
    in = good;
    gale__sched_executor_t backwards[1] = {{5, 4}};
    in.executors = backwards;
    in.n_executors = 1;
    REFUSED("executor 0 has task range [5, 4]");
    in = good;
    gale__sched_executor_t overlap[2] = {{1, 3}, {3, 4}};
    in.executors = overlap;
    in.n_executors = 2;
    REFUSED("executors [1, 3] and [3, 4] share tasks");
    in = good;
    gale__sched_supervisor_t twice[2] = {{"a", "h", PORTS4, 4}, {"a", "h", PORTS4, 4}};
    in.supervisors = twice;
    REFUSED("supervisor 'a' is listed twice");
    in = good;
    static const int dup_ports[] = {6700, 6700};
    gale__sched_supervisor_t dup = {"a", "h", dup_ports, 2};
    in.supervisors = &dup;
    in.n_supervisors = 1;
    REFUSED("supervisor 'a' offers port 6700 twice");
    static const int zero[] = {0};
    dup.ports = zero;
    dup.n_ports = 1;
    REFUSED("supervisor 'a' offers port 0");
    dup.id = NULL;
    REFUSED("has no id, host or ports");
    assert_int_equal(gale__schedule(NULL, &r, err, sizeof err), GALE_EINVAL);
#undef REFUSED
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_over_supervisors_first),
        cmocka_unit_test(test_round_robin_over_slots),
        cmocka_unit_test(test_keep_live_workers),
        cmocka_unit_test(test_supervisor_lost),
        cmocka_unit_test(test_not_enough_slots),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
