/*
 * state.h — a keyed state in Redis, updated once per batch and partition
 * (the contract between the micro-batch bolts and trident/redis_state.c).
 *
 * Storm's update rules (trident.h, gale_state_kind_t), per key, for
 * batch txid with delta d (the batch's combined aggregate for the key):
 *   transactional [t, v]:   t == txid → unchanged (already applied);
 *                           t < txid or absent → [txid, combine(v, d)];
 *                           t > txid → error (the state is ahead: refuse).
 *   opaque [t, curr, prev]: t == txid → [txid, combine(prev, d), prev];
 *                           t < txid or absent → [txid, combine(curr, d), curr];
 *                           t > txid → error.
 *   non-transactional v:    combine(v, d).
 * An absent key combines from NULL (the combiner's zero).
 *
 * One update is one read round trip (MGET / HMGET of the keys) and one
 * atomic write (a Lua script by EVALSHA, or MULTI/EXEC), so a crash never
 * leaves half a batch. The write first checks the coordinator's epoch: a
 * writer whose epoch is not the one in Redis (an orphaned worker after a
 * move) is refused with GALE_ESTATE and nothing is written.
 *
 * Not thread-safe: one state handle per executor thread.
 */
#ifndef GALE_TRIDENT_STATE_H
#define GALE_TRIDENT_STATE_H

#include <stdint.h>

#include "gale/trident.h"
#include "trident/redis.h"

typedef struct gale__map_state gale__map_state_t;

/* The coordinator's fencing token: key holds the epoch (an integer the
 * coordinator INCRs when it starts); a write is applied only if
 * GET key == value. */
typedef struct gale__epoch {
    const char *key;
    int64_t value;
} gale__epoch_t;

/* combine(old, delta) → *out; old NULL when there is none. out's memory
 * must stay valid until the update returns (e.g. in ud's arena). 0 or a
 * GALE_E* code (the update fails, nothing is written). */
typedef int (*gale__combine_fn)(void *ud, const gale_value_t *old, const gale_value_t *delta,
                                gale_value_t *out);

/** @brief 0, or GALE_EINVAL with one line in err: a kind that is none of
 * the three, an empty hash_key, a key_prefix with hash_key (check specs at
 * submit with this). */
int gale__map_state_spec_check(const gale_state_spec_t *spec, char *err, size_t errlen);

/** @brief A state handle (no connection yet); the spec's strings are
 * copied; conf gives redis.* and topology.trident.state.cache.size. NULL
 * on out of memory or a spec gale__map_state_spec_check refuses. */
gale__map_state_t *gale__map_state_open(const gale_conf_t *conf, const gale_state_spec_t *spec,
                                        const char *who, int task);
void gale__map_state_close(gale__map_state_t *s);

/** @brief Its connection (gale__redis_ensure before an update). */
gale__redis_t *gale__map_state_redis(gale__map_state_t *s);

/**
 * @brief Current values of n keys (each n_fields group-by values), for
 * state_query: out[i] the value (transactional: v, opaque: curr), nil
 * when absent. The values point into the handle and stay valid until its
 * next call. 0, or GALE_E* with err naming the key when a stored value
 * does not decode.
 */
int gale__map_state_get(gale__map_state_t *s, size_t n, const gale_value_t *const *keys,
                        size_t n_fields, gale_value_t *out, char *err, size_t errlen);

/**
 * @brief Apply one batch (the rules above) atomically. new_out (n
 * values, may be NULL) gets each key's new value, valid until the next
 * call. Returns 0; GALE_ESTATE (stale epoch, or a stored txid greater
 * than txid: err says which key); GALE_EPROTO (a stored value does not
 * decode: err names the key); GALE_EIO (Redis unreachable: retry the
 * batch later). On any error nothing was written.
 */
int gale__map_state_update(gale__map_state_t *s, uint64_t txid, const gale__epoch_t *epoch,
                           size_t n, const gale_value_t *const *keys, size_t n_fields,
                           const gale_value_t *deltas, gale__combine_fn combine, void *ud,
                           gale_value_t *new_out, char *err, size_t errlen);

#endif
