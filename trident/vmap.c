/*
 * vmap.c — see vmap.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/value.h"
#include "trident/vmap.h"

void gale__vmap_init(gale__vmap_t *m, size_t n_key) {
    memset(m, 0, sizeof *m);
    m->n_key = n_key;
}

void gale__vmap_clear(gale__vmap_t *m) {
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used) {
            free(m->slots[i].key);
            free(m->slots[i].val_mem);
        }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

/* n values and their payloads in one block. */
static gale_value_t *copy_values(const gale_value_t *v, size_t n) {
    size_t extra = 0;
    for (size_t i = 0; i < n; i++) extra += gale__value_extra_size(&v[i]);
    size_t head = (n * sizeof *v + 7) & ~(size_t)7;
    gale_value_t *out = malloc(head + extra + 1);
    if (!out) return NULL;
    char *cur = (char *)out + head;
    for (size_t i = 0; i < n; i++) gale__value_copy(&out[i], &v[i], &cur);
    return out;
}

static bool key_eq(const gale_value_t *a, const gale_value_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!gale_value_equal(&a[i], &b[i])) return false;
    return true;
}

static int grow(gale__vmap_t *m) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    gale__ventry_t *s = calloc(cap, sizeof *s);
    if (!s) return GALE_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].used) continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (s[j].used) j = (j + 1) & (cap - 1);
        s[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

gale__ventry_t *gale__vmap_get(gale__vmap_t *m, const gale_value_t *key, bool *added) {
    *added = false;
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m)) return NULL;
    uint64_t h = gale__values_hash(key, m->n_key);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].used) {
        if (m->slots[j].hash == h && key_eq(m->slots[j].key, key, m->n_key)) return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    gale_value_t *k = copy_values(key, m->n_key);
    if (!k) return NULL;
    gale__ventry_t *e = &m->slots[j];
    memset(e, 0, sizeof *e);
    e->used = true;
    e->hash = h;
    e->key = k;
    e->val = gale_nil();
    m->n++;
    *added = true;
    return e;
}

int gale__vmap_set(gale__ventry_t *e, const gale_value_t *v) {
    if (gale__value_extra_size(v) == 0) {
        free(e->val_mem); /* v is a scalar: it cannot point into the old block */
        e->val_mem = NULL;
        e->val = *v;
        return 0;
    }
    gale_value_t *c = copy_values(v, 1); /* before freeing: v may point into the old value */
    if (!c) return GALE_ENOMEM;
    free(e->val_mem);
    e->val_mem = c;
    e->val = *c;
    return 0;
}
