/*
 * state_json.h — micro-batch state values as JSON (storm-redis's
 * encoding) and the arena their decoded form lives in.
 *
 * gale_value_t ↔ JSON: nil ↔ null, bool, int ↔ integer, double ↔ real
 * (finite only: JSON has no NaN/Inf), str ↔ string (valid UTF-8; NUL
 * allowed), array ↔ array, map with string keys ↔ object (jansson keeps
 * insertion order). BYTES and maps with non-string keys have no JSON form:
 * encoding refuses them (GALE_ETYPE) rather than store something that
 * would come back as another type.
 *
 * Not thread-safe: an arena belongs to one state handle.
 */
#ifndef GALE_TRIDENT_STATE_JSON_H
#define GALE_TRIDENT_STATE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "gale/gale.h"
#include "gale/trident.h"

/* A bump allocator: everything it gave is freed at once by reset. */
typedef struct gale__arena_chunk gale__arena_chunk_t;
typedef struct gale__arena {
    gale__arena_chunk_t *head;
} gale__arena_t;

/** @brief n bytes (8-aligned) valid until the next reset; NULL on OOM. */
void *gale__arena_alloc(gale__arena_t *a, size_t n);
/** @brief Free all but the newest chunk, which is kept for reuse. */
void gale__arena_reset(gale__arena_t *a);
void gale__arena_free(gale__arena_t *a);

/** @brief A deep copy of v in the arena (for values a callback lent us). */
int gale__arena_value_copy(gale__arena_t *a, const gale_value_t *v, gale_value_t *out);

/** @brief v as a new jansson value (to json_decref), or NULL with err:
 * GALE_ETYPE (bytes, a non-string map key, invalid UTF-8), GALE_ERANGE
 * (NaN/Inf), GALE_ENOMEM. */
json_t *gale__value_to_json(const gale_value_t *v, int *rc, char *err, size_t errlen);

/** @brief j as a value whose memory is in the arena; 0, GALE_ENOMEM or
 * GALE_ERANGE (nested deeper than GALE__VALUE_MAX_DEPTH). */
int gale__value_from_json(gale__arena_t *a, const json_t *j, gale_value_t *out);

/** @brief The compact JSON text of j in the arena (*len bytes, NUL
 * after); NULL on OOM. */
char *gale__json_text(gale__arena_t *a, const json_t *j, size_t *len);

/**
 * @brief Decode a stored record of kind (storm-redis's JSON: transactional
 * [txid, value], opaque [txid, curr, prev], non-transactional value):
 * *txid (-1 for non-transactional), *curr and *prev (opaque only) in the
 * arena, NULL for JSON null (no value: the combiner's zero, as in Storm).
 * 0, GALE_ENOMEM, or GALE_EPROTO with why (what is wrong with the text).
 */
int gale__state_record_decode(gale__arena_t *a, gale_state_kind_t kind, const char *text,
                              size_t len, int64_t *txid, const gale_value_t **curr,
                              const gale_value_t **prev, char *why, size_t whylen);

#endif
