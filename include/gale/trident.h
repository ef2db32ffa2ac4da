/*
 * trident.h — Gale's micro-batch layer (Storm's Trident): streams cut into
 * transactional batches whose state updates reach Redis exactly once.
 * Include after gale/gale.h. See README "Micro-batches".
 *
 * (The stream-building API is added here by the micro-batch work; this
 * part is the state, shared by the state implementation and the layer.)
 */
#ifndef GALE_TRIDENT_H
#define GALE_TRIDENT_H

#include "gale/gale.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a keyed state applies a batch (Storm's three MapState kinds). */
typedef enum gale_state_kind {
    /* value only: a replayed batch applies again (at least once) */
    GALE_STATE_NON_TRANSACTIONAL = 0,
    /* [txid, value]: a replayed txid is not applied twice; needs a
     * transactional spout (the same tuples for the same txid) */
    GALE_STATE_TRANSACTIONAL,
    /* [txid, curr, prev]: a replayed txid recomputes from prev; exact with
     * opaque spouts too (a replay may hold other tuples) */
    GALE_STATE_OPAQUE
} gale_state_kind_t;

/*
 * A key function: writes the Redis key text for a group-by key (n values)
 * into out (at most cap bytes, no NUL needed) and returns its length, or
 * a length > cap to ask for more room. Resolved by symbol in workers, like
 * components: use GALE_STATE_KEY_FN to fill both fields.
 */
typedef size_t (*gale_state_key_fn)(const gale_value_t *key, size_t n, char *out, size_t cap);

/*
 * Where and how a keyed state lives in Redis. Storm's storm-redis layout:
 * STRING (default): one key per group, key = key_prefix + key text, value
 * JSON (transactional [txid, value], opaque [txid, curr, prev],
 * non-transactional value). HASH (hash_key set): one hash, field = key
 * text. Connection settings come from the topology conf (redis.*).
 * Values are JSON: nil, bools, ints, finite doubles, UTF-8 strings,
 * arrays and maps with string keys; bytes (and NaN, non-string map keys)
 * have no JSON form and fail the batch. A stored JSON null reads as no
 * value (the combiner starts from its zero), as in Storm.
 */
typedef struct gale_state_spec {
    gale_state_kind_t kind;
    const char *key_prefix;    /* STRING layout; NULL = "" */
    const char *hash_key;      /* non-NULL: HASH layout in this hash */
    gale_state_key_fn key_fn;  /* NULL: the values' text joined by ':'
                                  (strings as they are, numbers and bools
                                  as text, nil "null", arrays and maps as
                                  JSON); no group-by fields (a global
                                  aggregate): GALE_STATE_GLOBAL_KEY */
    const char *key_fn_symbol; /* its exported name (workers resolve it) */
} gale_state_spec_t;

/* The key text of a global aggregate (storm-redis's default globalKey). */
#define GALE_STATE_GLOBAL_KEY "$REDIS-MAP-STATE-GLOBAL"

#define GALE_STATE_KEY_FN(spec, fn) ((spec)->key_fn = (fn), (spec)->key_fn_symbol = #fn)

#ifdef __cplusplus
}
#endif
#endif /* GALE_TRIDENT_H */
