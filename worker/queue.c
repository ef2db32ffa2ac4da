/*
 * queue.c — bounded MPSC ring with range claims; see queue.h.
 *
 * Position p is ready for the consumer when slots[p & mask].seq == p + 1.
 * Producers claim [tail, tail + k) with one CAS, bounded by the published
 * head: the consumer reads slots strictly in order and publishes head
 * (release) only after it has read them, so every claimed slot is free.
 */
#include "worker/queue.h"

#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gale/gale.h"
#include "worker/pool.h"

int gale__queue_init(gale__queue_t *q, size_t capacity) {
    if (capacity < 2 || (capacity & (capacity - 1))) return GALE_EINVAL;
    q->slots = aligned_alloc(64, ((capacity * sizeof(gale__slot_t) + 63) / 64) * 64);
    if (!q->slots) return GALE_ENOMEM;
    for (size_t i = 0; i < capacity; i++) {
        atomic_init(&q->slots[i].seq, i);
        q->slots[i].item = NULL;
    }
    q->mask = capacity - 1;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    atomic_init(&q->sleeping, 0);
    q->wake_word = &q->sleeping;
    q->max_bytes = 0;
    q->unpublished = 0;
    atomic_init(&q->bytes, 0);
    return 0;
}

void gale__queue_destroy(gale__queue_t *q) {
    free(q->slots);
    q->slots = NULL;
}

size_t gale__queue_depth(gale__queue_t *q) {
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    return t > h ? (size_t)(t - h) : 0;
}

/* The wake word: 0 = consumer running, 1 = consumer sleeps (or is about
 * to), 2 = kicked: a wake the consumer has not seen yet (a state change
 * such as stop), so its next wait returns at once instead of sleeping. */
enum { WORD_RUNNING = 0, WORD_SLEEPING = 1, WORD_KICKED = 2 };

void gale__wake_word_wake(_Atomic uint32_t *word) {
    if (atomic_exchange(word, WORD_RUNNING) == WORD_SLEEPING)
        syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void gale__wake_word_kick(_Atomic uint32_t *word) {
    if (atomic_exchange(word, WORD_KICKED) == WORD_SLEEPING)
        syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

bool gale__wake_word_prepare(_Atomic uint32_t *word) {
    uint32_t was = atomic_exchange(word, WORD_SLEEPING);
    atomic_thread_fence(memory_order_seq_cst); /* pairs with the producer's (push) */
    if (was != WORD_KICKED) return true;
    gale__wake_word_cancel(word);
    return false;
}

void gale__wake_word_cancel(_Atomic uint32_t *word) {
    /* Only take back our own announcement: a kick that came meanwhile
     * stays for the next wait. */
    uint32_t v = WORD_SLEEPING;
    atomic_compare_exchange_strong(word, &v, WORD_RUNNING);
}

void gale__wake_word_wait(_Atomic uint32_t *word, int64_t timeout_us) {
    if (timeout_us == 0) {
        gale__wake_word_cancel(word);
        return;
    }
    struct timespec ts = {timeout_us / 1000000, (timeout_us % 1000000) * 1000};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, WORD_SLEEPING,
            timeout_us < 0 ? NULL : &ts, NULL, 0);
    gale__wake_word_cancel(word);
}

bool gale__queue_asleep(const gale__queue_t *q) {
    return atomic_load_explicit(q->wake_word, memory_order_relaxed) == WORD_SLEEPING;
}

void gale__queue_wake(gale__queue_t *q) {
    gale__wake_word_kick(q->wake_word);
}

/* Bytes an item counts against the byte bound. Blocks of the pool's two
 * smallest classes (<= 256 B: most tuples) count nothing: the slot count
 * already bounds them (capacity x 256 B), and not counting them keeps the
 * common push and pop free of the per-item sum and the shared CAS. */
static inline int64_t counted_bytes(const void *item) {
    const gale__alloc_hdr_t *h = item;
    return h->pool && h->cls < GALE__QUEUE_UNCOUNTED_CLASSES ? 0
                                                             : (int64_t)gale__pool_block_size(item);
}

/* Reserve the bytes of the longest prefix of items that fits (at least one
 * when nothing is queued); how many, 0 when none fits. */
static size_t reserve_bytes(gale__queue_t *q, void *const *items, size_t n, int64_t *taken) {
    int64_t cur = atomic_load_explicit(&q->bytes, memory_order_relaxed);
    for (;;) {
        size_t m = 0;
        int64_t want = 0;
        while (m < n) {
            int64_t b = counted_bytes(items[m]);
            if (b && cur + want > 0 && cur + want + b > q->max_bytes) break;
            want += b;
            m++;
        }
        if (m == 0) return 0;
        if (want == 0) return m; /* only uncounted items: no shared write */
        if (atomic_compare_exchange_weak_explicit(&q->bytes, &cur, cur + want, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *taken = want;
            return m;
        }
    }
}

size_t gale__queue_push_quiet(gale__queue_t *q, void *const *items, size_t n) {
    if (n == 0) return 0;
    int64_t reserved = 0;
    if (q->max_bytes && (n = reserve_bytes(q, items, n, &reserved)) == 0) return 0;
    uint64_t cap = q->mask + 1;
    uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint64_t k;
    for (;;) {
        /* The consumer publishes head (release) after freeing the slots
         * below it, so every position < head + cap is free to claim. */
        uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
        if ((int64_t)(pos - head) < 0) { /* stale tail */
            pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
            continue;
        }
        uint64_t room = cap - (pos - head);
        if (room == 0) {
            if (reserved) atomic_fetch_sub_explicit(&q->bytes, reserved, memory_order_relaxed);
            return 0;
        }
        k = n < room ? n : room;
        if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + k, memory_order_relaxed,
                                                  memory_order_relaxed))
            break;
    }
    if (reserved && k < n) { /* give back the bytes of what did not fit */
        int64_t back = 0;
        for (size_t i = (size_t)k; i < n; i++) back += counted_bytes(items[i]);
        atomic_fetch_sub_explicit(&q->bytes, back, memory_order_relaxed);
    }
    for (uint64_t i = 0; i < k; i++) {
        gale__slot_t *s = &q->slots[(pos + i) & q->mask];
        s->item = items[i];
        atomic_store_explicit(&s->seq, pos + i + 1, memory_order_release);
    }
    return (size_t)k;
}

void gale__queue_notify(gale__queue_t *q) {
    /* Eventcount: pairs with the fence in gale__wake_word_prepare. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(q->wake_word, memory_order_relaxed) == WORD_SLEEPING)
        gale__wake_word_wake(q->wake_word);
}

size_t gale__queue_push(gale__queue_t *q, void *const *items, size_t n) {
    size_t k = gale__queue_push_quiet(q, items, n);
    if (k) gale__queue_notify(q);
    return k;
}

size_t gale__queue_pop(gale__queue_t *q, void **out, size_t max) {
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t n = 0;
    while (n < max) {
        gale__slot_t *s = &q->slots[head & q->mask];
        if (atomic_load_explicit(&s->seq, memory_order_acquire) != head + 1) break;
        /* No need to reset seq: next lap waits for head + cap + 1. */
        out[n++] = s->item;
        head++;
    }
    if (n) atomic_store_explicit(&q->head, head, memory_order_release);
    if (q->max_bytes) {
        /* Publishing each pop would bounce the count's cache line with the
         * producers at every batch: publish in bulk, and always once the
         * queue is found empty (the pop ran out, or took the last item
         * exactly at max), so a producer waiting on a stale count goes on
         * even when the consumer pops no more (it pops only when
         * gale__queue_ready). */
        for (size_t i = 0; i < n; i++) q->unpublished += counted_bytes(out[i]);
        if (q->unpublished &&
            (n < max || q->unpublished >= q->max_bytes / 8 || !gale__queue_ready(q))) {
            atomic_fetch_sub_explicit(&q->bytes, q->unpublished, memory_order_relaxed);
            q->unpublished = 0;
        }
    }
    return n;
}

void gale__queue_wait(gale__queue_t *q, int64_t timeout_us) {
    if (timeout_us == 0 || !gale__wake_word_prepare(&q->sleeping)) return;
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (atomic_load_explicit(&q->slots[head & q->mask].seq, memory_order_acquire) == head + 1) {
        gale__wake_word_cancel(&q->sleeping);
        return;
    }
    gale__wake_word_wait(&q->sleeping, timeout_us);
}
