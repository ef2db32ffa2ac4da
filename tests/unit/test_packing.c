/*
 * test_packing.c — the packer (worker/packing.c): its decision on each
 * look, fed made-up loads so no figure depends on this machine; moving
 * threads between masks, leaving alone a thread whose mask someone else
 * set; one packer per process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "worker/packing.h"

#define S(x) ((int64_t)(x)*1000000000) /* seconds in ns */

static void test_packs_after_two_low_looks(void **s) {
    (void)s;
    gale__pack_state_t st = {0};
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.1, S(1)), 0);
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.1, S(2)), 1);
    assert_true(st.packed);
}

static void test_a_busy_look_restarts_the_count(void **s) {
    (void)s;
    gale__pack_state_t st = {0};
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.1, S(1)), 0);
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.6, 0.1, S(2)), 0); /* above the limit */
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.1, S(3)), 0);
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.1, S(4)), 1);
}

static void test_no_packing_onto_a_busy_cpu(void **s) {
    (void)s;
    gale__pack_state_t st = {0};
    /* the process is quiet but the best CPU is 80 % busy: together full */
    for (int i = 1; i <= 5; i++) assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.8, S(i)), 0);
    assert_false(st.packed);
    /* a limit of 0 never packs */
    gale__pack_state_t off = {0};
    for (int i = 1; i <= 5; i++) assert_int_equal(gale__pack_decide(&off, 0, 0, 0, S(i)), 0);
}

static void test_spreads_when_the_cpu_fills(void **s) {
    (void)s;
    gale__pack_state_t st = {.packed = true};
    /* packed, the process may use more than the limit: its CPU is not full */
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.8, 0.8, S(1)), 0);
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.2, 0.9, S(2)), -1); /* another process */
    assert_false(st.packed);
    gale__pack_state_t grew = {.packed = true};
    assert_int_equal(gale__pack_decide(&grew, 0.5, 0.9, 0.0, S(1)), -1); /* our own load */
}

static void test_waits_after_a_spread(void **s) {
    (void)s;
    gale__pack_state_t st = {.packed = true};
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.9, 0.9, S(100)), -1);
    for (int i = 101; i < 110; i++)
        assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.1, S(i)), 0);
    assert_int_equal(gale__pack_decide(&st, 0.5, 0.1, 0.1, S(110)), 1);
}

/* ---------- moving threads ---------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool release;

static void *parked(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!release) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void assert_mask(pthread_t t, const cpu_set_t *want) {
    cpu_set_t got;
    assert_int_equal(pthread_getaffinity_np(t, sizeof got, &got), 0);
    assert_true(CPU_EQUAL(&got, want));
}

static void test_retarget_moves_only_the_process_mask(void **s) {
    (void)s;
    cpu_set_t all, home, own;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    if (CPU_COUNT(&all) < 2) skip(); /* nothing to pack onto */
    int first = -1, last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) {
            if (first < 0) first = c;
            last = c;
        }
    CPU_ZERO(&home);
    CPU_SET(first, &home);
    CPU_ZERO(&own);
    CPU_SET(last, &own);

    release = false;
    pthread_t t[3];
    for (int i = 0; i < 3; i++) assert_int_equal(pthread_create(&t[i], NULL, parked, NULL), 0);
    /* t[2]'s mask is its owner's choice: neither the process's nor home */
    assert_int_equal(pthread_setaffinity_np(t[2], sizeof own, &own), 0);

    /* t[0], t[1] and this thread (and a sanitizer's own thread, if any) */
    assert_true(gale__pack_retarget(&all, &home) >= 3);
    assert_mask(t[0], &home);
    assert_mask(t[1], &home);
    assert_mask(pthread_self(), &home);
    assert_mask(t[2], &own);

    assert_true(gale__pack_retarget(&home, &all) >= 3);
    assert_mask(t[0], &all);
    assert_mask(t[1], &all);
    assert_mask(pthread_self(), &all);
    assert_mask(t[2], &own);

    pthread_mutex_lock(&lock);
    release = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
}

static void test_one_packer_per_process(void **s) {
    (void)s;
    cpu_set_t all;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    assert_null(gale__packer_start(0, "off"));
    gale__packer_stop(NULL);
    assert_false(gale__packer_packed(NULL));
    if (CPU_COUNT(&all) < 2) {
        assert_null(gale__packer_start(0.5, "one cpu"));
        return;
    }
    gale__packer_t *p = gale__packer_start(0.5, "first");
    assert_non_null(p);
    assert_null(gale__packer_start(0.5, "second")); /* it would fight the first */
    gale__packer_stop(p);                           /* returns without waiting a look */
    p = gale__packer_start(0.5, "again");
    assert_non_null(p);
    gale__packer_stop(p);
    assert_mask(pthread_self(), &all);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packs_after_two_low_looks),
        cmocka_unit_test(test_a_busy_look_restarts_the_count),
        cmocka_unit_test(test_no_packing_onto_a_busy_cpu),
        cmocka_unit_test(test_spreads_when_the_cpu_fills),
        cmocka_unit_test(test_waits_after_a_spread),
        cmocka_unit_test(test_retarget_moves_only_the_process_mask),
        cmocka_unit_test(test_one_packer_per_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
