/*
 * vmap.h — a batch's aggregation table: group key (n values) → value,
 * both deep-copied (the tuples they came from are released meanwhile).
 * Open addressing on gale__values_hash. One thread.
 */
#ifndef GALE_TRIDENT_VMAP_H
#define GALE_TRIDENT_VMAP_H

#include "gale/gale.h"

typedef struct gale__ventry {
    uint64_t hash;
    gale_value_t *key; /* n_key values, one block with their payloads */
    gale_value_t val;
    void *val_mem; /* the value's own block, NULL for scalars */
    bool used;
} gale__ventry_t;

typedef struct gale__vmap {
    size_t n_key;
    gale__ventry_t *slots;
    size_t cap, n;
} gale__vmap_t;

void gale__vmap_init(gale__vmap_t *m, size_t n_key);
void gale__vmap_clear(gale__vmap_t *m);
/** @brief The entry of key, added (used, val nil) when absent: *added
 * says so. NULL on out of memory. Entries move on insert. */
gale__ventry_t *gale__vmap_get(gale__vmap_t *m, const gale_value_t *key, bool *added);
/** @brief Store a deep copy of v as e's value. 0 or GALE_ENOMEM. */
int gale__vmap_set(gale__ventry_t *e, const gale_value_t *v);

#endif
