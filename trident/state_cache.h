/*
 * state_cache.h — a bounded LRU map from a state key (its Redis key or
 * hash field) to the JSON text stored there, for one state partition.
 *
 * Safe for exactly-once only because one partition alone writes its keys:
 * the state fills it after a committed write (the texts it wrote, or read
 * and left as they were) and clears it on any error or refusal.
 *
 * Not thread-safe: one cache per state handle.
 */
#ifndef GALE_TRIDENT_STATE_CACHE_H
#define GALE_TRIDENT_STATE_CACHE_H

#include <stddef.h>

typedef struct gale__state_cache gale__state_cache_t;

/** @brief At most cap entries (0: a cache that keeps nothing); NULL on OOM. */
gale__state_cache_t *gale__state_cache_new(size_t cap);
void gale__state_cache_free(gale__state_cache_t *c);

/** @brief The text cached for key (marked most recently used), or NULL.
 * Valid until the next put or clear. */
const char *gale__state_cache_get(gale__state_cache_t *c, const char *key, size_t klen,
                                  size_t *vlen);
/** @brief Cache key → val (copies both), dropping the least recently used
 * entry when full. 0 or GALE_ENOMEM (the cache is then cleared). */
int gale__state_cache_put(gale__state_cache_t *c, const char *key, size_t klen, const char *val,
                          size_t vlen);
void gale__state_cache_clear(gale__state_cache_t *c);
size_t gale__state_cache_count(const gale__state_cache_t *c);

#endif
