/*
 * test_packing.c — the packer (worker/packing.c): its decision on each
 * look, fed made-up loads so no figure depends on this machine; moving
 * threads onto one CPU and back (worker/pack_moves.c), leaving alone a
 * thread whose mask someone else set, giving the whole mask to threads
 * and child processes started while packed; one packer per process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

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

static void test_unknown_load_never_packs(void **s) {
    (void)s;
    gale__pack_state_t st = {0};
    /* no per-CPU figures: it could not see another process take the CPU */
    for (int i = 1; i <= 5; i++) assert_int_equal(gale__pack_decide(&st, 0.5, 0.0, -1, S(i)), 0);
    gale__pack_state_t packed = {.packed = true};
    assert_int_equal(gale__pack_decide(&packed, 0.5, 0.1, -1, S(1)), -1);
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

static void release_all(void) {
    pthread_mutex_lock(&lock);
    release = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

/* The process's mask, and two one-CPU masks in it: home and another. */
static bool masks(cpu_set_t *all, cpu_set_t *home, cpu_set_t *other) {
    assert_int_equal(sched_getaffinity(0, sizeof *all, all), 0);
    if (CPU_COUNT(all) < 2) return false; /* nothing to pack onto */
    int first = -1, last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, all)) {
            if (first < 0) first = c;
            last = c;
        }
    CPU_ZERO(home);
    CPU_SET(first, home);
    CPU_ZERO(other);
    CPU_SET(last, other);
    return true;
}

static void test_moves_only_what_it_may(void **s) {
    (void)s;
    gale__pack_set_t set = {0};
    cpu_set_t other;
    if (!masks(&set.all, &set.home, &other)) skip();
    release = false;
    pthread_t t[5];
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, parked, NULL), 0);
    /* pinned by their owners: t[2] elsewhere, t[3] onto the very CPU */
    assert_int_equal(pthread_setaffinity_np(t[2], sizeof other, &other), 0);
    assert_int_equal(pthread_setaffinity_np(t[3], sizeof set.home, &set.home), 0);

    /* t[0], t[1] and this thread (and a sanitizer's own thread, if any) */
    assert_true(gale__pack_move(&set) >= 3);
    assert_mask(t[0], &set.home);
    assert_mask(t[1], &set.home);
    assert_mask(pthread_self(), &set.home);
    assert_mask(t[2], &other);
    /* created while packed: it inherits the one CPU from this thread */
    assert_int_equal(pthread_create(&t[4], NULL, parked, NULL), 0);
    assert_mask(t[4], &set.home);

    assert_true(gale__pack_restore(&set) >= 4);
    assert_mask(t[0], &set.all);
    assert_mask(t[1], &set.all);
    assert_mask(pthread_self(), &set.all);
    assert_mask(t[4], &set.all);
    assert_mask(t[2], &other);    /* left alone both ways */
    assert_mask(t[3], &set.home); /* its owner's pin, though it is home */

    release_all();
    for (int i = 0; i < 5; i++) pthread_join(t[i], NULL);
    gale__pack_set_free(&set);
}

/* A child that waits until the parent closes the pipe's write end. */
static pid_t waiting_child(int go[2]) {
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char c;
        close(go[1]);
        while (read(go[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    return child;
}

static bool child_mask_is(pid_t child, const cpu_set_t *want) {
    cpu_set_t got;
    return sched_getaffinity(child, sizeof got, &got) == 0 && CPU_EQUAL(&got, want);
}

/* A process started while packed (a bolt running a command) inherits the
 * one CPU; a spread gives it the whole mask. One its owner pinned onto
 * that CPU before the pack keeps its pin. */
static void test_restore_reaches_child_processes(void **s) {
    (void)s;
    gale__pack_set_t set = {0};
    cpu_set_t other;
    if (!masks(&set.all, &set.home, &other)) skip();
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pinned = waiting_child(go);
    assert_int_equal(sched_setaffinity(pinned, sizeof set.home, &set.home), 0);
    assert_true(gale__pack_move(&set) >= 1);
    pid_t child = waiting_child(go);
    bool inherited = child_mask_is(child, &set.home);
    gale__pack_restore(&set);
    bool whole = child_mask_is(child, &set.all), kept = child_mask_is(pinned, &set.home);
    close(go[0]);
    close(go[1]);
    int st;
    waitpid(child, &st, 0);
    waitpid(pinned, &st, 0);
    assert_true(inherited);
    assert_true(whole);
    assert_true(kept);
    assert_mask(pthread_self(), &set.all);
    gale__pack_set_free(&set);
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
        cmocka_unit_test(test_unknown_load_never_packs),
        cmocka_unit_test(test_moves_only_what_it_may),
        cmocka_unit_test(test_restore_reaches_child_processes),
        cmocka_unit_test(test_one_packer_per_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
