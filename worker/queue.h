/*
 * queue.h — the bounded multi-producer single-consumer ring that carries
 * tuple pointers into an executor (and into a worker's per-destination
 * transfer lanes).
 *
 * Vyukov's bounded queue, specialised: each slot has a sequence number;
 * a producer claims a contiguous range of slots with one CAS on the tail
 * (so a batch of n tuples costs one atomic claim), writes them and
 * publishes each slot with a release store. The single consumer reads in
 * order without atomics read-modify-write. Never allocates after init.
 *
 * Waiting: a consumer with nothing to do sleeps on a futex (eventcount);
 * producers wake it only when it announced it sleeps, so the busy path
 * costs one relaxed load per batch.
 *
 * Threads: push from any thread; pop/wait only from the consumer thread.
 */
#ifndef GALE_WORKER_QUEUE_H
#define GALE_WORKER_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gale__slot {
    _Atomic uint64_t seq;
    void *item;
} gale__slot_t;

/* Blocks of the pool's classes below this (128 and 256 bytes) are bounded
 * by the slot count, not by the byte bound (queue.c counted_bytes). */
#define GALE__QUEUE_UNCOUNTED_CLASSES 2
#define GALE__QUEUE_UNCOUNTED_BYTES   256

typedef struct gale__queue {
    _Alignas(64) _Atomic uint64_t tail;     /* producers */
    _Alignas(64) _Atomic uint64_t head;     /* consumer; read by producers for space */
    int64_t unpublished;                    /* consumer: bytes popped, not yet taken off */
    _Alignas(64) _Atomic uint32_t sleeping; /* futex word: consumer waits */
    _Atomic uint32_t *wake_word;            /* &sleeping, or a word shared by queues */
    uint64_t mask;
    gale__slot_t *slots;
    int64_t max_bytes;                  /* 0: bounded by count only */
    _Alignas(64) _Atomic int64_t bytes; /* block bytes of the items queued */
} gale__queue_t;

/** @brief capacity must be a power of two >= 2. 0 or GALE_ENOMEM. */
int gale__queue_init(gale__queue_t *q, size_t capacity);

/**
 * @brief Bound the queue by bytes as well (before any push): items are
 * then pool blocks (worker/pool.h) and a push takes items only while their
 * block bytes fit in max_bytes — always one into an empty queue, so one
 * tuple larger than the bound still goes. Blocks of the pool's smallest
 * classes (<= GALE__QUEUE_UNCOUNTED_BYTES) count nothing: the capacity
 * bounds them. Costs one CAS per push holding a counted block; the
 * consumer takes popped bytes off in bulk (an eighth of the bound, or
 * whenever it finds the queue empty), so the count only ever runs high.
 * 0: count only.
 */
static inline void gale__queue_limit_bytes(gale__queue_t *q, int64_t max_bytes) {
    q->max_bytes = max_bytes;
}

/** @brief Block bytes queued now (0 without a byte bound). */
static inline int64_t gale__queue_bytes(gale__queue_t *q) {
    return atomic_load_explicit(&q->bytes, memory_order_relaxed);
}
void gale__queue_destroy(gale__queue_t *q);

static inline size_t gale__queue_capacity(const gale__queue_t *q) {
    return (size_t)q->mask + 1;
}

/** @brief Items in the queue now (approximate under concurrency). */
size_t gale__queue_depth(gale__queue_t *q);

/**
 * @brief Push up to n items in order; returns how many were pushed (0 when
 * full). Never blocks. Wakes a sleeping consumer.
 */
size_t gale__queue_push(gale__queue_t *q, void *const *items, size_t n);

/**
 * @brief gale__queue_push without the wake: the caller calls
 * gale__queue_notify after it (before it waits for anything), so a
 * producer filling several queues wakes their consumers only once all
 * are filled.
 */
size_t gale__queue_push_quiet(gale__queue_t *q, void *const *items, size_t n);

/** @brief Wake the consumer if it sleeps (after gale__queue_push_quiet). */
void gale__queue_notify(gale__queue_t *q);

/** @brief Pop up to max items in order; returns how many. Consumer only. */
size_t gale__queue_pop(gale__queue_t *q, void **out, size_t max);

/** @brief Consumer only: true when the next pop returns an item. */
static inline bool gale__queue_ready(gale__queue_t *q) {
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    return atomic_load_explicit(&q->slots[head & q->mask].seq, memory_order_acquire) == head + 1;
}

/**
 * @brief Consumer: sleep until an item arrives, a wake, or timeout_us
 * passes (may return early; < 0: no timeout). Returns at once if the
 * queue is non-empty or a gale__queue_wake came since the last wait.
 */
void gale__queue_wait(gale__queue_t *q, int64_t timeout_us);

/** @brief Any thread: true while the consumer sleeps (or is about to), so
 * that a push would cost a wake. A hint: it may change at once. */
bool gale__queue_asleep(const gale__queue_t *q);

/** @brief Wake the consumer for a state change (e.g. stop): also when it
 * is not asleep yet, its next wait returns at once. Any thread. */
void gale__queue_wake(gale__queue_t *q);

/* One consumer draining several queues (a transfer thread) sleeps on one
 * shared word: producers of every queue wake it. */
static inline void gale__queue_share_wake(gale__queue_t *q, _Atomic uint32_t *word) {
    q->wake_word = word;
}
/*
 * Sleeping on a wake word, by its one consumer: announce with
 * gale__wake_word_prepare (false: a kick is pending, do not sleep), then
 * re-check for work and either gale__wake_word_cancel or
 * gale__wake_word_wait until woken or timeout_us (< 0: no timeout).
 * Producers call gale__wake_word_wake after publishing work (a syscall
 * only when the consumer sleeps); gale__wake_word_kick is for state
 * changes the consumer must not sleep through.
 */
bool gale__wake_word_prepare(_Atomic uint32_t *word);
void gale__wake_word_cancel(_Atomic uint32_t *word);
void gale__wake_word_wait(_Atomic uint32_t *word, int64_t timeout_us);
void gale__wake_word_wake(_Atomic uint32_t *word);
void gale__wake_word_kick(_Atomic uint32_t *word);

#endif
