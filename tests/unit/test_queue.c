/*
 * test_queue.c — the bounded MPSC ring and the tuple pool: capacity is a
 * hard bound, order per producer is kept, nothing is lost or duplicated
 * with concurrent producers, blocks freed from other threads return
 * to their pool (memory stays bounded), and a quiet push wakes a sleeping
 * consumer only at its notify, which always wakes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "gale/gale.h"
#include "worker/pool.h"
#include "worker/queue.h"

static void test_capacity_is_a_hard_bound(void **s) {
    (void)s;
    gale__queue_t q;
    assert_int_equal(gale__queue_init(&q, 8), 0);
    void *items[10];
    for (uintptr_t i = 0; i < 10; i++) items[i] = (void *)(i + 1);
    assert_int_equal(gale__queue_push(&q, items, 10), 8); /* partial */
    assert_int_equal(gale__queue_push(&q, items, 1), 0);  /* full */
    assert_int_equal(gale__queue_depth(&q), 8);
    void *out[16];
    assert_int_equal(gale__queue_pop(&q, out, 3), 3);
    assert_ptr_equal(out[0], (void *)1);
    assert_ptr_equal(out[2], (void *)3);
    assert_int_equal(gale__queue_push(&q, items + 8, 2), 2); /* wraps */
    assert_int_equal(gale__queue_pop(&q, out, 16), 7);
    assert_ptr_equal(out[4], (void *)8);
    assert_ptr_equal(out[6], (void *)10);
    assert_int_equal(gale__queue_pop(&q, out, 16), 0);
    assert_int_not_equal(gale__queue_init(&q, 6), 0); /* not a power of two */
    gale__queue_destroy(&q);
}

#define PRODUCERS    3
#define PER_PRODUCER 200000
static gale__queue_t shared;

static void *producer(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    void *batch[16];
    for (uintptr_t i = 0; i < PER_PRODUCER;) {
        size_t n = 0;
        for (; n < 16 && i + n < PER_PRODUCER; n++) batch[n] = (void *)((id << 32) | (i + n + 1));
        size_t off = 0;
        while (off < n) off += gale__queue_push(&shared, batch + off, n - off);
        i += n;
    }
    return NULL;
}

static void test_concurrent_producers_keep_order(void **s) {
    (void)s;
    assert_int_equal(gale__queue_init(&shared, 1024), 0);
    pthread_t th[PRODUCERS];
    for (uintptr_t p = 0; p < PRODUCERS; p++) pthread_create(&th[p], NULL, producer, (void *)p);
    uint64_t last[PRODUCERS] = {0};
    size_t got = 0;
    void *out[256];
    while (got < (size_t)PRODUCERS * PER_PRODUCER) {
        size_t n = gale__queue_pop(&shared, out, 256);
        if (!n) gale__queue_wait(&shared, 1000);
        for (size_t i = 0; i < n; i++) {
            uint64_t v = (uint64_t)(uintptr_t)out[i];
            uint64_t p = v >> 32, seq = v & 0xffffffffu;
            assert_true(p < PRODUCERS);
            assert_int_equal(seq, last[p] + 1); /* in order, none lost or doubled */
            last[p] = seq;
        }
        got += n;
        assert_true(gale__queue_depth(&shared) <= 1024);
    }
    for (int p = 0; p < PRODUCERS; p++) pthread_join(th[p], NULL);
    gale__queue_destroy(&shared);
}

static gale__pool_t pool;
static gale__queue_t to_free;
static void *freer(void *arg) {
    (void)arg;
    void *out[64];
    size_t done = 0;
    while (done < 100000) {
        size_t n = gale__queue_pop(&to_free, out, 64);
        if (!n) gale__queue_wait(&to_free, 1000);
        for (size_t i = 0; i < n; i++) gale__pool_free(out[i]);
        done += n;
    }
    return NULL;
}

static void test_pool_remote_free_recycles(void **s) {
    (void)s;
    gale__pool_init(&pool);
    assert_int_equal(gale__queue_init(&to_free, 256), 0);
    int64_t before = gale_mem_in_use();
    pthread_t th;
    pthread_create(&th, NULL, freer, NULL);
    for (int i = 0; i < 100000; i++) {
        void *b = gale__pool_alloc(&pool, 100);
        assert_non_null(b);
        while (!gale__queue_push(&to_free, &b, 1)) {
        }
    }
    pthread_join(th, NULL);
    /* at most queue capacity + a few blocks were ever alive: a few chunks */
    assert_true(gale_mem_in_use() - before <= 4 * 64 * 1024);
    void *big = gale__pool_alloc(&pool, 100000); /* above the classes: malloc */
    assert_non_null(big);
    assert_true(gale_mem_in_use() - before >= 100000);
    gale__pool_free(big);
    gale__pool_destroy(&pool);
    assert_int_equal(gale_mem_in_use(), before);
    gale__queue_destroy(&to_free);
}

/* ---------- quiet push, then notify ---------- */

static gale__queue_t waked;
static _Atomic int consumer_got;

static void *sleepy_consumer(void *arg) {
    (void)arg;
    void *out[4];
    for (;;) {
        gale__queue_wait(&waked, -1); /* no timeout: only a wake ends it */
        if (gale__queue_pop(&waked, out, 4)) break;
    }
    atomic_store(&consumer_got, 1);
    return NULL;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_quiet_push_wakes_at_notify(void **s) {
    (void)s;
    assert_int_equal(gale__queue_init(&waked, 8), 0);
    void *item = (void *)1, *out[4];
    /* the consumer announced its sleep: a quiet push leaves it asleep,
     * the notify wakes it (the word goes back to running) */
    assert_true(gale__wake_word_prepare(&waked.sleeping));
    assert_int_equal(gale__queue_push_quiet(&waked, &item, 1), 1);
    assert_int_equal(atomic_load(&waked.sleeping), 1);
    gale__queue_notify(&waked);
    assert_int_equal(atomic_load(&waked.sleeping), 0);
    assert_int_equal(gale__queue_pop(&waked, out, 4), 1);
    /* a plain push wakes at once */
    assert_true(gale__wake_word_prepare(&waked.sleeping));
    assert_int_equal(gale__queue_push(&waked, &item, 1), 1);
    assert_int_equal(atomic_load(&waked.sleeping), 0);
    assert_int_equal(gale__queue_pop(&waked, out, 4), 1);

    /* a consumer really asleep on the futex (no timeout) gets the item */
    pthread_t th;
    pthread_create(&th, NULL, sleepy_consumer, NULL);
    int64_t deadline = mono_ms() + 10000;
    while (atomic_load(&waked.sleeping) != 1 && mono_ms() < deadline) sched_yield();
    assert_int_equal(atomic_load(&waked.sleeping), 1);
    assert_int_equal(gale__queue_push_quiet(&waked, &item, 1), 1);
    gale__queue_notify(&waked);
    while (!atomic_load(&consumer_got) && mono_ms() < deadline) sched_yield();
    assert_int_equal(atomic_load(&consumer_got), 1); /* not lost */
    pthread_join(th, NULL);
    gale__queue_destroy(&waked);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_is_a_hard_bound),
        cmocka_unit_test(test_concurrent_producers_keep_order),
        cmocka_unit_test(test_pool_remote_free_recycles),
        cmocka_unit_test(test_quiet_push_wakes_at_notify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
