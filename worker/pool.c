/*
 * pool.c — size-class block pools with a remote free stack; see pool.h.
 */
#include "worker/pool.h"

#include <stdlib.h>

#include "gale/gale.h"

#define CHUNK_BYTES     (64 * 1024)
#define MIN_CLASS_SHIFT 7 /* 128 bytes */

static _Atomic int64_t mem_in_use, mem_peak;

/* Called per pool chunk, large block, queue and map, never per pooled
 * tuple: the peak's compare-and-swap stays off the hot path. */
void gale__mem_add(int64_t bytes) {
    int64_t now = atomic_fetch_add_explicit(&mem_in_use, bytes, memory_order_relaxed) + bytes;
    int64_t peak = atomic_load_explicit(&mem_peak, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &mem_peak, &peak, now, memory_order_relaxed, memory_order_relaxed)) {
    }
}

int64_t gale__mem_peak(void) {
    return atomic_load_explicit(&mem_peak, memory_order_relaxed);
}

int64_t gale_mem_in_use(void) {
    return atomic_load_explicit(&mem_in_use, memory_order_relaxed);
}

void gale__pool_init(gale__pool_t *p) {
    for (int i = 0; i < GALE__POOL_CLASSES; i++) {
        p->local[i] = NULL;
        atomic_init(&p->remote[i], NULL);
    }
    p->chunks = NULL;
}

void gale__pool_destroy(gale__pool_t *p) {
    void *c = p->chunks;
    while (c) {
        void *next = *(void **)c;
        free(c);
        gale__mem_add(-CHUNK_BYTES);
        c = next;
    }
    p->chunks = NULL;
    for (int i = 0; i < GALE__POOL_CLASSES; i++) {
        p->local[i] = NULL;
        atomic_store(&p->remote[i], NULL);
    }
}

static int size_class(size_t size) {
    size_t c = (size_t)1 << MIN_CLASS_SHIFT;
    for (int i = 0; i < GALE__POOL_CLASSES; i++, c <<= 1)
        if (size <= c) return i;
    return -1;
}

/* Carve a new chunk into blocks of class cls. The chunk's first 64 bytes
 * link it into p->chunks. */
static int refill(gale__pool_t *p, int cls) {
    char *chunk = malloc(CHUNK_BYTES);
    if (!chunk) return GALE_ENOMEM;
    gale__mem_add(CHUNK_BYTES);
    *(void **)chunk = p->chunks;
    p->chunks = chunk;
    size_t bs = (size_t)1 << (MIN_CLASS_SHIFT + cls);
    char *b = chunk + 64;
    gale__block_t *head = p->local[cls];
    while (b + bs <= chunk + CHUNK_BYTES) {
        gale__block_t *blk = (gale__block_t *)b;
        blk->next = head;
        head = blk;
        b += bs;
    }
    p->local[cls] = head;
    return 0;
}

void *gale__pool_alloc(gale__pool_t *p, size_t size) {
    int cls = p ? size_class(size) : -1;
    if (cls < 0) {
        gale__alloc_hdr_t *h = malloc(size);
        if (!h) return NULL;
        gale__mem_add((int64_t)size);
        h->pool = NULL;
        h->cls = (uint32_t)size;
        return h;
    }
    gale__block_t *b = p->local[cls];
    if (!b) {
        b = atomic_exchange_explicit(&p->remote[cls], NULL, memory_order_acquire);
        if (!b) {
            if (refill(p, cls)) return NULL;
            b = p->local[cls];
        }
    }
    p->local[cls] = b->next;
    /* The next block was last written by the thread that freed it, on
     * another core: ask for its first lines now (for writing), so the
     * next alloc's b->next read and the copy into it do not stall. */
    if (b->next)
        for (size_t o = 0; o < ((size_t)128 << cls) && o < 256; o += 64)
            __builtin_prefetch((char *)b->next + o, 1, 3);
    gale__alloc_hdr_t *h = (gale__alloc_hdr_t *)b;
    h->pool = p;
    h->cls = (uint32_t)cls;
    return h;
}

void gale__pool_free(void *block) {
    gale__alloc_hdr_t *h = block;
    if (!h) return;
    gale__pool_t *p = h->pool;
    if (!p) {
        gale__mem_add(-(int64_t)h->cls);
        free(h);
        return;
    }
    int cls = (int)h->cls;
    gale__block_t *b = block;
    gale__block_t *top = atomic_load_explicit(&p->remote[cls], memory_order_relaxed);
    do {
        b->next = top;
    } while (!atomic_compare_exchange_weak_explicit(&p->remote[cls], &top, b, memory_order_release,
                                                    memory_order_relaxed));
}
