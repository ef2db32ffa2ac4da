/*
 * pool.h — tuple memory without malloc on the hot path.
 *
 * Each thread that creates tuples (an executor, a receive thread) owns a
 * pool of fixed-size blocks in a few size classes. Allocation pops the
 * owner's local free list; a block freed by another thread is pushed on
 * the owner's lock-free "remote" stack (CAS push), which the owner takes
 * whole with one exchange when its local list runs dry. The owner never
 * pops single nodes from the remote stack, so there is no ABA problem.
 * Blocks larger than the biggest class use malloc.
 *
 * Memory is taken in chunks and returned only at gale__pool_destroy (after
 * every thread using the pool stopped), so gale_mem_in_use() — chunk bytes
 * plus large blocks — is the runtime's real footprint, bounded by the peak
 * number of tuples alive.
 *
 * Threads: alloc only on the owner thread; free from any thread.
 */
#ifndef GALE_WORKER_POOL_H
#define GALE_WORKER_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define GALE__POOL_CLASSES 6 /* 128, 256, 512, 1024, 2048, 4096 bytes */

typedef struct gale__block {
    struct gale__block *next; /* overlays gale__alloc_hdr_t.pool only */
} gale__block_t;

typedef struct gale__pool {
    gale__block_t *local[GALE__POOL_CLASSES];
    _Alignas(64) _Atomic(gale__block_t *) remote[GALE__POOL_CLASSES];
    _Alignas(64) void *chunks; /* list of chunks, freed at destroy */
} gale__pool_t;

/* Every block starts with this header (the tuple puts its own after).
 * A free block's free-list link overlays `pool` only: `state` belongs to
 * the block's user and the pool never writes it, so a stale pointer to a
 * freed block still reads the state its user left there (tuple.c). */
typedef struct gale__alloc_hdr {
    gale__pool_t *pool;     /* NULL: malloc'ed */
    uint32_t cls;           /* size class, or the malloc size when pool == NULL */
    _Atomic uint32_t state; /* the user's (tuples: GALE__TUPLE_*) */
} gale__alloc_hdr_t;

void gale__pool_init(gale__pool_t *p);
/** @brief Frees every chunk: all blocks become invalid. */
void gale__pool_destroy(gale__pool_t *p);

/** @brief A block of at least size bytes, starting with a filled header. */
void *gale__pool_alloc(gale__pool_t *p, size_t size);
/** @brief Free a block from any thread. */
void gale__pool_free(void *block);

/** @brief Bytes a live block takes (its class, or its malloc size). */
static inline size_t gale__pool_block_size(const void *block) {
    const gale__alloc_hdr_t *h = block;
    return h->pool ? (size_t)128 << h->cls : h->cls;
}

/** @brief Add to the process-wide byte counter (gale_mem_in_use). */
void gale__mem_add(int64_t bytes);
/** @brief The highest gale_mem_in_use() has been in this process. */
int64_t gale__mem_peak(void);

#endif
