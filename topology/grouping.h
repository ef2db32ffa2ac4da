/*
 * grouping.h — choosing target tasks for one emitted tuple.
 *
 * Each (emitting task, subscription) pair owns one gale__grouper_t, so its
 * state (round-robin position, partial-key load counts) needs no locking.
 * Targets are the subscribing component's task ids, sorted ascending.
 *
 * Rules:
 *  - shuffle/none: round-robin over a per-emitter random permutation.
 *  - fields: FNV-1a 64 of the canonical msgpack encoding of the grouping
 *    fields' values (gale__values_hash), mod n, into the sorted targets.
 *  - all: every target. global: the lowest task id.
 *  - direct: none chosen here (the emitter names the task).
 *  - local-or-shuffle: shuffle among targets in this worker when there is
 *    any, otherwise among all.
 *  - partial-key: two candidates from two fixed hashes of the key; the one
 *    this emitter has sent fewer tuples to (ties: the first).
 *  - custom: the user's choose().
 * Thread: the emitting task's thread only.
 */
#ifndef GALE_TOPOLOGY_GROUPING_H
#define GALE_TOPOLOGY_GROUPING_H

#include "topology/topology.h"

typedef struct gale__grouper {
    gale__grouping_t kind;
    int *targets; /* sorted, owned */
    size_t n_targets;
    int *local; /* LOCAL_OR_SHUFFLE: targets in this worker, owned */
    size_t n_local;
    int *perm; /* shuffle permutation of indexes into the active list */
    size_t perm_len, pos;
    uint64_t rng;
    size_t *field_idx; /* FIELDS, PARTIAL_KEY: indexes into the values */
    size_t n_field_idx;
    uint64_t *sent; /* PARTIAL_KEY: tuples sent per target */
    const gale_grouping_t *custom;
    void *custom_state;
} gale__grouper_t;

/**
 * @brief Prepare a grouper. in: the subscription; src: the source stream
 * (for field indexes); targets: sorted task ids (copied); local: those of
 * them in the emitter's worker (copied; may be NULL/0); seed: per-emitter
 * (e.g. the emitting task id); custom: resolved for CUSTOM, else NULL.
 * 0 or GALE_E*.
 */
int gale__grouper_init(gale__grouper_t *g, const gale__input_t *in, const gale__stream_t *src,
                       const int *targets, size_t n_targets, const int *local, size_t n_local,
                       uint64_t seed, const gale_grouping_t *custom);
void gale__grouper_destroy(gale__grouper_t *g);

/**
 * @brief Choose targets for a tuple's values. Writes up to cap task ids to
 * out; returns how many targets there are (may exceed cap only for ALL
 * and CUSTOM, the caller then sizes out to n_targets).
 */
size_t gale__grouper_choose(gale__grouper_t *g, const gale_value_t *vals, size_t n, int *out,
                            size_t cap);

#endif
