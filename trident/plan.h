/*
 * plan.h — what a compiled micro-batch component runs: the contract
 * between the stream builder (trident/api.c) and the runtime components
 * (coordinator.c, spout_exec.c, bolt.c).
 *
 * The builder writes a plan into each component's conf under
 * GALE__TRIDENT_PLAN_KEY as a gale value (so it travels with the topology
 * like any component conf); the component decodes it in declare/prepare,
 * checking every type (plan_decode.c), and resolves its symbols there.
 *
 * Plan of a bolt (b-N) or of the spout executor (spout0), an array:
 *   [1, txid_name, inputs, ops, outputs, spout]
 *   inputs:  [[source component, data stream, entry op], ...]
 *   ops:     [[kind, parent op (-1: an input's entry), symbol|nil,
 *              [input field indexes], n_out_fields, group field
 *              indexes, state spec|nil, output index(, flags)], ...]
 *            flags (optional, default 0): GALE__TOP_F_PARTIAL_* (partial
 *            aggregation, set by the compile, never by users)
 *   outputs: [[data stream, [subscriber component, ...], [fields...]], ...]
 *   spout:   nil, or [symbol, n_fields] for spout0 (its entry feeds op 0..)
 * State spec: [kind, key_prefix|nil, hash_key|nil, key_fn_symbol|nil].
 * A DRPC_RETURN op is the entry of two inputs: output index holds which
 * one carries the DRPC spout's [args, return info]; the other's tuples
 * are the result.
 * Plan of the coordinator: [1, txid_name, spout component, [committers]].
 *
 * Data stream tuples are [txid, attempt, user values...]; each data
 * stream S has a direct count stream "$coord-S" [txid, attempt, count].
 */
#ifndef GALE_TRIDENT_PLAN_H
#define GALE_TRIDENT_PLAN_H

#include <stdint.h>

#include "gale/trident.h"

#define GALE__TRIDENT_PLAN_KEY         "trident.plan"
#define GALE__TRIDENT_COORD            "$mastercoord-bg0" /* the first stream's */
#define GALE__TRIDENT_COORD_PREFIX     "$mastercoord-bg"
#define GALE__TRIDENT_DRPC_TXID_PREFIX "$drpc-" /* a DRPC stream's txid name */
#define GALE__TRIDENT_BATCH_STREAM     "$batch"
#define GALE__TRIDENT_COMMIT_STREAM    "$commit"
#define GALE__TRIDENT_COUNT_PREFIX     "$coord-"
#define GALE__TRIDENT_TX_FIELDS        "$txid,$attempt"
#define GALE__TRIDENT_MAX_FIELDS       64

typedef enum gale__top_kind {
    GALE__TOP_PASS = 0, /* identity (repartitions, group_by) */
    GALE__TOP_EACH,
    GALE__TOP_MAP,
    GALE__TOP_FLAT_MAP,
    GALE__TOP_FILTER,
    GALE__TOP_PROJECT,
    GALE__TOP_AGG_COMBINE, /* per batch and group, emitted at the batch end */
    GALE__TOP_AGG_REDUCE,
    GALE__TOP_PERSIST,     /* combiner per group, written at $commit */
    GALE__TOP_OUT,         /* emit on outputs[out] */
    GALE__TOP_QUERY,       /* state query: spec, key = input fields; emits like each */
    GALE__TOP_DRPC_RETURN, /* collects the batch's tuples; out = the input
                              index carrying the DRPC return info */
    GALE__TOP__COUNT
} gale__top_kind_t;

/* Partial aggregation (Storm's combiner aggregators before a
 * repartition): PARTIAL_OUT marks the upstream AGG_COMBINE that combines
 * its task's part of a batch per group and emits [group..., partial] at
 * the batch end (none for an empty partition: no zero); PARTIAL_IN marks
 * the aggregation downstream (AGG_COMBINE, PERSIST) whose one input is
 * such a partial: it combines it (no init). */
#define GALE__TOP_F_PARTIAL_OUT 1
#define GALE__TOP_F_PARTIAL_IN  2

typedef struct gale__pspec {
    int kind;
    char *key_prefix, *hash_key, *key_fn_symbol;
} gale__pspec_t;

typedef struct gale__pop {
    int kind;
    int parent;
    char *symbol;
    size_t n_in;
    int in[GALE__TRIDENT_MAX_FIELDS];
    size_t n_out; /* fields the op adds (each) or produces (map, ...) */
    size_t n_group;
    int group[GALE__TRIDENT_MAX_FIELDS];
    bool has_spec;
    gale__pspec_t spec;
    int out;   /* OUT: output index */
    int flags; /* GALE__TOP_F_* */
} gale__pop_t;

typedef struct gale__pinput {
    char *source, *stream;
    int entry;
} gale__pinput_t;

typedef struct gale__poutput {
    char *stream;
    size_t n_subs;
    char **subs;
    size_t n_fields;
    char **fields; /* user fields (without the batch id) */
} gale__poutput_t;

typedef struct gale__plan {
    char *txid_name;
    size_t n_inputs, n_ops, n_outputs;
    gale__pinput_t *inputs;
    gale__pop_t *ops;
    gale__poutput_t *outputs;
    char *spout_symbol; /* spout0 only */
    size_t spout_fields;
    /* coordinator plan */
    char *spout_comp;
    size_t n_committers;
    char **committers;
} gale__plan_t;

/** @brief Decode the plan in conf (bolt/spout0: coord=false). 0, or
 * GALE_EPROTO with one line in err. *out to gale__plan_free. */
int gale__plan_decode(const gale_conf_t *conf, bool coord, gale__plan_t **out, char *err,
                      size_t errlen);
void gale__plan_free(gale__plan_t *p);

/** @brief Redis key "gale:trident:<topology>:<txid_name>:<what>" into buf. */
const char *gale__trident_key(char *buf, size_t cap, const char *topology, const char *txid_name,
                              const char *what);

#endif
