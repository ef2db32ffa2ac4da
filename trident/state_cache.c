/*
 * state_cache.c — a bounded LRU of state key → stored JSON text
 * (state_cache.h): chained hash buckets plus an intrusive recency list.
 */
#include "trident/state_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gale/gale.h"

typedef struct entry {
    struct entry *hnext;       /* bucket chain */
    struct entry *prev, *next; /* recency: head = most recent */
    uint64_t hash;
    size_t klen, vlen;
    char *val;
    char key[]; /* klen bytes */
} entry_t;

struct gale__state_cache {
    size_t cap, count, nbuckets; /* nbuckets: a power of two */
    entry_t **buckets;
    entry_t *head, *tail;
};

/* FNV-1a: keys are short and not adversarial (the topology makes them) */
static uint64_t hash(const char *k, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h;
}

gale__state_cache_t *gale__state_cache_new(size_t cap) {
    gale__state_cache_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->cap = cap;
    c->nbuckets = 16;
    while (c->nbuckets < cap) c->nbuckets *= 2; /* load factor ≤ 1 */
    if (!(c->buckets = calloc(c->nbuckets, sizeof(*c->buckets)))) {
        free(c);
        return NULL;
    }
    return c;
}

static void unlink_lru(gale__state_cache_t *c, entry_t *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(gale__state_cache_t *c, entry_t *e) {
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static entry_t **find(gale__state_cache_t *c, const char *key, size_t klen, uint64_t h) {
    entry_t **p = &c->buckets[h & (c->nbuckets - 1)];
    while (*p && !((*p)->hash == h && (*p)->klen == klen && !memcmp((*p)->key, key, klen)))
        p = &(*p)->hnext;
    return p;
}

static void remove_entry(gale__state_cache_t *c, entry_t *e) {
    entry_t **p = find(c, e->key, e->klen, e->hash);
    *p = e->hnext;
    unlink_lru(c, e);
    free(e->val);
    free(e);
    c->count--;
}

void gale__state_cache_clear(gale__state_cache_t *c) {
    while (c->head) remove_entry(c, c->head);
}

void gale__state_cache_free(gale__state_cache_t *c) {
    if (!c) return;
    gale__state_cache_clear(c);
    free(c->buckets);
    free(c);
}

size_t gale__state_cache_count(const gale__state_cache_t *c) {
    return c->count;
}

const char *gale__state_cache_get(gale__state_cache_t *c, const char *key, size_t klen,
                                  size_t *vlen) {
    if (!c->count) return NULL;
    entry_t *e = *find(c, key, klen, hash(key, klen));
    if (!e) return NULL;
    unlink_lru(c, e);
    push_front(c, e);
    *vlen = e->vlen;
    return e->val;
}

int gale__state_cache_put(gale__state_cache_t *c, const char *key, size_t klen, const char *val,
                          size_t vlen) {
    if (!c->cap) return 0;
    uint64_t h = hash(key, klen);
    entry_t *e = *find(c, key, klen, h);
    char *v = malloc(vlen + 1);
    if (!v) {
        gale__state_cache_clear(c);
        return GALE_ENOMEM;
    }
    memcpy(v, val, vlen);
    v[vlen] = '\0';
    if (e) {
        free(e->val);
        e->val = v;
        e->vlen = vlen;
        unlink_lru(c, e);
        push_front(c, e);
        return 0;
    }
    if (c->count >= c->cap) remove_entry(c, c->tail);
    if (!(e = malloc(sizeof(*e) + klen))) {
        free(v);
        gale__state_cache_clear(c);
        return GALE_ENOMEM;
    }
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->hash = h;
    e->val = v;
    e->vlen = vlen;
    entry_t **slot = &c->buckets[h & (c->nbuckets - 1)];
    e->hnext = *slot;
    *slot = e;
    push_front(c, e);
    c->count++;
    return 0;
}
