/*
 * pendmap.c — open-addressing map from a 64-bit tree root to its pending
 * state (linear probing, backward-shift deletion, no tombstones). Roots
 * are random, so the key itself is the hash. Owned by one executor thread.
 */
#include <stdlib.h>
#include <string.h>

#include "worker/runtime.h"

int gale__pendmap_init(gale__pendmap_t *m, size_t cap) {
    m->slots = calloc(cap, sizeof(*m->slots));
    m->cap = m->slots ? cap : 0;
    m->count = 0;
    if (m->slots) gale__mem_add((int64_t)(cap * sizeof(*m->slots)));
    return m->slots ? 0 : GALE_ENOMEM;
}

void gale__pendmap_destroy(gale__pendmap_t *m) {
    if (m->slots) gale__mem_add(-(int64_t)(m->cap * sizeof(*m->slots)));
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static size_t home(const gale__pendmap_t *m, uint64_t key) {
    return (size_t)(key * 0x9E3779B97F4A7C15ULL >> 17) & (m->cap - 1);
}

gale__pend_t *gale__pendmap_get(gale__pendmap_t *m, uint64_t key) {
    for (size_t i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == key) return &m->slots[i];
        if (m->slots[i].key == 0) return NULL;
    }
}

static int grow(gale__pendmap_t *m) {
    gale__pendmap_t n;
    if (gale__pendmap_init(&n, m->cap * 2)) return GALE_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        size_t j = home(&n, m->slots[i].key);
        while (n.slots[j].key) j = (j + 1) & (n.cap - 1);
        n.slots[j] = m->slots[i];
        n.count++;
    }
    gale__pendmap_destroy(m);
    *m = n;
    return 0;
}

gale__pend_t *gale__pendmap_put(gale__pendmap_t *m, uint64_t key, bool *inserted) {
    if ((m->count + 1) * 2 > m->cap && grow(m)) return NULL;
    size_t i = home(m, key);
    for (; m->slots[i].key; i = (i + 1) & (m->cap - 1))
        if (m->slots[i].key == key) {
            *inserted = false;
            return &m->slots[i];
        }
    memset(&m->slots[i], 0, sizeof(m->slots[i]));
    m->slots[i].key = key;
    m->count++;
    *inserted = true;
    return &m->slots[i];
}

void gale__pendmap_del(gale__pendmap_t *m, gale__pend_t *e) {
    size_t mask = m->cap - 1, i = (size_t)(e - m->slots), j = i;
    m->slots[i].key = 0;
    m->count--;
    /* Backward shift: move later entries of the cluster into the hole
     * when their home position does not lie cyclically in (i, j]. */
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].key) return;
        size_t h = home(m, m->slots[j].key);
        bool in_range = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (in_range) continue;
        m->slots[i] = m->slots[j];
        m->slots[j].key = 0;
        i = j;
    }
}
