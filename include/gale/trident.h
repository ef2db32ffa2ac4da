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

/* ------------------------------------------------------------------ */
/* Micro-batch streams (Storm's TridentTopology)                        */
/* ------------------------------------------------------------------ */

/*
 * A micro-batch topology is built into an ordinary gale_builder_t:
 *
 *     gale_trident_t *t = gale_trident_new(b);
 *     gale_tstream_t *s = GALE_TRIDENT_STREAM(t, "sentences", gale_file_batch_spout);
 *     s = GALE_EACH(s, "sentence", split_fn, "word");
 *     s = gale_tstream_group_by(s, "word");
 *     GALE_PERSISTENT_AGGREGATE(s, &spec, gale_count_agg, "count");
 *     gale_trident_build(t, err, sizeof err);   // adds the components to b
 *     return gale_submit(sub, "twc", conf, b);
 *
 * Components (Storm's names), per stream started from a spout (a batch
 * group, numbered k = 0, 1, ... in creation order): "$mastercoord-bg<k>"
 * (its batch coordinator, a spout, one task), "spout<k>" (the batch
 * spout's executor, a bolt, one
 * task per spout partition), and "b-0", "b-1", ... one bolt per chain of
 * operations between repartitions. Every user function is given with its
 * exported symbol name (the macros stringify it), as workers resolve it.
 *
 * Handles (gale_trident_t, gale_tstream_t, gale_tstate_t) are owned by the
 * gale_trident_t and freed by gale_trident_build (also on error) or
 * gale_trident_destroy. Operations never fail at the call: an error (an
 * unknown field, a NULL function) is remembered and gale_trident_build
 * returns it, one line naming the operation and the field.
 *
 * Fields: every operation names fields as comma-separated lists. Inside
 * a batch a tuple's first two values are the batch id (txid, attempt),
 * hidden from user functions; field names starting with '$' are reserved.
 */
typedef struct gale_trident gale_trident_t;
typedef struct gale_tstream gale_tstream_t;
typedef struct gale_tstate gale_tstate_t;

/* Emitting from a function (each/map/flat_map/state_query) or a batch
 * spout: values are copied during the call. 0 or GALE_E*. */
typedef struct gale_trident_collector gale_trident_collector_t;
GALE_EXPORT int gale_trident_emit(gale_trident_collector_t *c, const gale_value_t *v, size_t n);
/** @brief Fail the current batch (Storm's FailedException): it is
 * replayed with a new attempt. why is logged. */
GALE_EXPORT void gale_trident_fail(gale_trident_collector_t *c, const char *why);
/** @brief The current batch's txid (from 1) and attempt (from 0). */
GALE_EXPORT uint64_t gale_trident_txid(const gale_trident_collector_t *c);
GALE_EXPORT uint32_t gale_trident_attempt(const gale_trident_collector_t *c);

/*
 * A function (Storm's Function, MapFunction, FlatMapFunction): execute
 * gets the operation's input fields (in[0..n)) and emits zero or more
 * tuples. each: every emitted tuple is the input tuple followed by the
 * emitted values (the declared output fields). map: emits exactly one
 * tuple that replaces the input; flat_map: zero or more replacements.
 * prepare/cleanup may be NULL; state is the function's per-task state.
 */
typedef struct gale_trident_function {
    int (*prepare)(void **state, const gale_context_t *ctx);
    void (*execute)(void *state, const gale_value_t *in, size_t n, gale_trident_collector_t *c);
    void (*cleanup)(void *state);
} gale_trident_function_t;

/* A filter (Storm's Filter): keep the tuple when keep returns true. */
typedef struct gale_trident_filter {
    int (*prepare)(void **state, const gale_context_t *ctx);
    bool (*keep)(void *state, const gale_value_t *in, size_t n);
    void (*cleanup)(void *state);
} gale_trident_filter_t;

/*
 * A combiner aggregator (Storm's CombinerAggregator): init maps one
 * tuple's input fields to a value, combine merges two values, zero is the
 * value of an empty group. *out may point into the inputs or at static
 * memory: the runtime copies it before the next call. 0 or GALE_E* (the
 * batch fails and is replayed).
 */
typedef struct gale_combiner {
    int (*init)(const gale_value_t *in, size_t n, gale_value_t *out);
    int (*combine)(const gale_value_t *a, const gale_value_t *b, gale_value_t *out);
    gale_value_t (*zero)(void);
} gale_combiner_t;

/* A reducer aggregator (Storm's ReducerAggregator): start with init(),
 * then acc = reduce(acc, tuple) for each tuple. Same memory rule. Usable
 * with aggregate/partition_aggregate (not with persistent_aggregate). */
typedef struct gale_reducer {
    int (*init)(gale_value_t *out);
    int (*reduce)(const gale_value_t *acc, const gale_value_t *in, size_t n, gale_value_t *out);
} gale_reducer_t;

/* Built-in combiners: Storm's Count (of tuples), Sum, Min, Max (of the
 * one input field; ints stay ints, a double makes the result a double;
 * min/max compare numbers, and strings bytewise). */
GALE_EXPORT extern const gale_combiner_t gale_count_agg;
GALE_EXPORT extern const gale_combiner_t gale_sum_agg;
GALE_EXPORT extern const gale_combiner_t gale_min_agg;
GALE_EXPORT extern const gale_combiner_t gale_max_agg;

/* How a batch spout replays (Storm's three spout kinds). */
typedef enum gale_batch_spout_kind {
    /* the same tuples for the same txid on every replay: each partition's
     * batch boundaries are recorded in Redis before the batch is emitted */
    GALE_BATCH_TRANSACTIONAL = 0,
    /* a replay re-reads from the previous batch's recorded end (it may
     * hold other tuples); pair with GALE_STATE_OPAQUE */
    GALE_BATCH_OPAQUE,
    /* nothing recorded: a replay emits whatever comes next */
    GALE_BATCH_NON_TRANSACTIONAL
} gale_batch_spout_kind_t;

/*
 * A partitioned batch spout. One task per partition (the stream's
 * parallelism). For each batch, the executor first asks plan for the
 * batch's metadata (e.g. [start, end) offsets) from the previous batch's
 * metadata of this partition (NULL: the first batch), records it
 * (transactional, opaque), then calls emit with it. A transactional replay
 * skips plan and emits the recorded metadata again.
 *  - plan: writes *meta (copied by the runtime, may point into state);
 *    returns 0, 1 when the input is consumed (the batch is empty and the
 *    spout has nothing more: a finite stream is done once every partition
 *    said so and those batches committed), or GALE_E* (the batch fails).
 *  - emit: emits the batch's tuples (gale_trident_emit, the spout's fields).
 */
typedef struct gale_batch_spout {
    const char *fields; /* output fields, comma-separated */
    gale_batch_spout_kind_t kind;
    int (*open)(void **state, const gale_context_t *ctx, int partition, int n_partitions);
    int (*plan)(void *state, uint64_t txid, const gale_value_t *prev, gale_value_t *meta);
    int (*emit)(void *state, uint64_t txid, const gale_value_t *meta, gale_trident_collector_t *c);
    void (*close)(void *state);
} gale_batch_spout_t;

/* Built-in batch spout: the lines of the file in component conf
 * "file.path" (set with gale_tstream_conf_set_str on the stream), field
 * "line"; transactional; metadata [start, end) byte offsets. The file is
 * cut into one byte range per partition at line starts; each batch holds
 * up to gale.trident.file.batch.lines (default 1000) lines. Finite: done once
 * the file is consumed and committed. */
GALE_EXPORT extern const gale_batch_spout_t gale_file_batch_spout;
/* The same, opaque (the metadata of the batch before is replayed from). */
GALE_EXPORT extern const gale_batch_spout_t gale_file_opaque_batch_spout;

/** @brief A new micro-batch layer over b (b keeps its ownership).
 * Free with gale_trident_build or gale_trident_destroy. */
GALE_EXPORT gale_trident_t *gale_trident_new(gale_builder_t *b);
GALE_EXPORT void gale_trident_destroy(gale_trident_t *t);
/**
 * @brief Add the components to the builder. Consumes t (also on error).
 * 0, or GALE_EINVAL with one line in err (e.g. "trident each(split): no
 * field 'sentense' in [line] — use one of those").
 */
GALE_EXPORT int gale_trident_build(gale_trident_t *t, char *err, size_t errlen);

/** @brief A stream from a batch spout. txid_name names the coordinator's
 * keys in Redis (gale:trident:<topology>:<txid_name>:...); the spout's
 * executor is named "spout<k>" (k: the streams started before it).
 * Streams of different spouts are batched independently: they cannot be
 * merged, but one may query the other's state. */
GALE_EXPORT gale_tstream_t *gale_trident_new_stream(gale_trident_t *t, const char *txid_name,
                                                    const gale_batch_spout_t *spout,
                                                    const char *symbol);
#define GALE_TRIDENT_STREAM(t, txid, impl) gale_trident_new_stream((t), (txid), &(impl), #impl)

/* Stream operations: each returns the new stream. in/out are
 * comma-separated field lists. */
GALE_EXPORT gale_tstream_t *gale_tstream_each(gale_tstream_t *s, const char *in,
                                              const gale_trident_function_t *fn, const char *symbol,
                                              const char *out);
GALE_EXPORT gale_tstream_t *gale_tstream_map(gale_tstream_t *s, const char *in,
                                             const gale_trident_function_t *fn, const char *symbol,
                                             const char *out);
GALE_EXPORT gale_tstream_t *gale_tstream_flat_map(gale_tstream_t *s, const char *in,
                                                  const gale_trident_function_t *fn,
                                                  const char *symbol, const char *out);
GALE_EXPORT gale_tstream_t *gale_tstream_filter(gale_tstream_t *s, const char *in,
                                                const gale_trident_filter_t *f, const char *symbol);
#define GALE_EACH(s, in, fn, out)     gale_tstream_each((s), (in), &(fn), #fn, (out))
#define GALE_MAP(s, in, fn, out)      gale_tstream_map((s), (in), &(fn), #fn, (out))
#define GALE_FLAT_MAP(s, in, fn, out) gale_tstream_flat_map((s), (in), &(fn), #fn, (out))
#define GALE_FILTER(s, in, f)         gale_tstream_filter((s), (in), &(f), #f)
/** @brief Keep only these fields, in this order. */
GALE_EXPORT gale_tstream_t *gale_tstream_project(gale_tstream_t *s, const char *fields);

/* Repartitions: each starts a new bolt (b-N). */
GALE_EXPORT gale_tstream_t *gale_tstream_partition_by(gale_tstream_t *s, const char *fields);
GALE_EXPORT gale_tstream_t *gale_tstream_shuffle(gale_tstream_t *s);
GALE_EXPORT gale_tstream_t *gale_tstream_global(gale_tstream_t *s);
GALE_EXPORT gale_tstream_t *gale_tstream_broadcast(gale_tstream_t *s);
/** @brief Group by fields: the next aggregation (aggregate,
 * persistent_aggregate) repartitions by them and aggregates per group;
 * partition_aggregate aggregates per group inside each partition. */
GALE_EXPORT gale_tstream_t *gale_tstream_group_by(gale_tstream_t *s, const char *fields);

/**
 * @brief Aggregate each batch into state (Storm's persistentAggregate):
 * grouped: per group, keyed by the group fields; ungrouped: one global
 * value (key "$global"). The state's value is out_field. in: the
 * combiner's input fields (NULL: none, e.g. count). The spec's strings
 * are copied. Returns the state, for state_query.
 */
GALE_EXPORT gale_tstate_t *
gale_tstream_persistent_aggregate(gale_tstream_t *s, const gale_state_spec_t *spec, const char *in,
                                  const gale_combiner_t *agg, const char *symbol,
                                  const char *out_field);
#define GALE_PERSISTENT_AGGREGATE(s, spec, in, agg, out)                                           \
    gale_tstream_persistent_aggregate((s), (spec), (in), &(agg), #agg, (out))

/**
 * @brief Persist each batch into state without repartitioning (Storm's
 * partitionPersist with a map state): every partition writes its own
 * tuples at the batch's commit, keyed by the key fields (comma-separated;
 * NULL or "": one global value). Per key the batch's values (the
 * combiner's init of the in fields) are combined, then combined with the
 * stored value; gale_last_agg stores the batch's last value for the key
 * (Storm's MapState put). Give keys that each partition owns (e.g. after
 * partition_by on them): two partitions writing one key each combine
 * into it, in commit order. Returns the state, for state_query.
 */
GALE_EXPORT gale_tstate_t *
gale_tstream_partition_persist(gale_tstream_t *s, const gale_state_spec_t *spec, const char *keys,
                               const char *in, const gale_combiner_t *agg, const char *symbol);
#define GALE_PARTITION_PERSIST(s, spec, keys, in, agg)                                             \
    gale_tstream_partition_persist((s), (spec), (keys), (in), &(agg), #agg)

/*
 * A state query (Storm's QueryFunction): for each tuple, the state's
 * current value for the key made of the query's input fields (in[0..n),
 * as many as the state has key fields; none for a global state) is read
 * from Redis (nil when absent), then execute emits zero or more tuples
 * with gale_trident_emit; each is the input tuple followed by the
 * emitted values (the declared output fields), as with each. value lives
 * until execute returns. prepare/cleanup may be NULL.
 */
typedef struct gale_trident_query {
    int (*prepare)(void **state, const gale_context_t *ctx);
    void (*execute)(void *state, const gale_value_t *in, size_t n, const gale_value_t *value,
                    gale_trident_collector_t *c);
    void (*cleanup)(void *state);
} gale_trident_query_t;

/* Storm's MapGet: emits the value (nil when the key has none). */
GALE_EXPORT extern const gale_trident_query_t gale_map_get_query;
/* Storm's FilterNull: keeps tuples whose input fields are all non-nil. */
GALE_EXPORT extern const gale_trident_filter_t gale_filter_null;
/* A combiner whose combine keeps the newer value (a put, for
 * partition_persist); zero nil. */
GALE_EXPORT extern const gale_combiner_t gale_last_agg;

/**
 * @brief Query a state (Storm's stateQuery). st is a state of this
 * layer (persistent_aggregate, partition_persist), of any stream of t.
 * After a group_by the stream is repartitioned by the group fields
 * first; else the query runs in the stream's bolt. in: the key fields
 * (as many as the state's key fields); out: the query's output fields.
 * The query reads what is committed in Redis (not its own batch).
 */
GALE_EXPORT gale_tstream_t *gale_tstream_state_query(gale_tstream_t *s, gale_tstate_t *st,
                                                     const char *in, const gale_trident_query_t *q,
                                                     const char *symbol, const char *out);
#define GALE_STATE_QUERY(s, st, in, q, out)                                                        \
    gale_tstream_state_query((s), (st), (in), &(q), #q, (out))

/**
 * @brief A stream of DRPC requests for function (Storm's newDRPCStream):
 * each request is a batch of its own holding one tuple, field "args"
 * (the request's argument text). When the batch completes, the tuples of
 * the pipeline's last stream (the stream last built from this one) for
 * that batch are returned to the DRPC server as Storm does: a JSON array
 * of the tuples, each an array of its values (e.g. [[7]]). The stream has
 * its own coordinator ("$mastercoord-bgN", txid name "$drpc-<function>")
 * and spout executor ("spoutN"); servers come from drpc.servers and
 * drpc.invocations.port (gale local serves DRPC in-process). A failed
 * batch is replayed with the same request; a request whose batch never
 * completes gets the server's timeout error.
 */
GALE_EXPORT gale_tstream_t *gale_trident_new_drpc_stream(gale_trident_t *t, const char *function);

/* The DRPC stream's batch spout (new_drpc_stream uses it; fields
 * "args,$drpc-return", non-transactional; component conf drpc.function). */
GALE_EXPORT extern const gale_batch_spout_t gale_trident_drpc_batch_spout;

/** @brief Aggregate each batch's partition (per group when grouped):
 * the stream becomes [group fields..., out_field] per group at the batch
 * end. Exactly one of comb/red is non-NULL. */
GALE_EXPORT gale_tstream_t *gale_tstream_partition_aggregate(gale_tstream_t *s, const char *in,
                                                             const gale_combiner_t *comb,
                                                             const gale_reducer_t *red,
                                                             const char *symbol,
                                                             const char *out_field);
/** @brief Aggregate the whole batch (global repartition; per group with
 * a group_by before, repartitioned by the group fields). */
GALE_EXPORT gale_tstream_t *gale_tstream_aggregate(gale_tstream_t *s, const char *in,
                                                   const gale_combiner_t *comb,
                                                   const gale_reducer_t *red, const char *symbol,
                                                   const char *out_field);
#define GALE_AGGREGATE(s, in, agg, out) gale_tstream_aggregate((s), (in), &(agg), NULL, #agg, (out))
#define GALE_PARTITION_AGGREGATE(s, in, agg, out)                                                  \
    gale_tstream_partition_aggregate((s), (in), &(agg), NULL, #agg, (out))

/** @brief Merge streams with the same number of fields (Storm's merge:
 * the first stream's field names win). A new bolt. */
GALE_EXPORT gale_tstream_t *gale_trident_merge(gale_trident_t *t, gale_tstream_t *const *streams,
                                               size_t n);

/** @brief Parallelism of the bolt this stream's operation runs in (the
 * largest hint of its operations wins; default 1). Returns s. */
GALE_EXPORT gale_tstream_t *gale_tstream_parallelism_hint(gale_tstream_t *s, int n);
/** @brief Parallelism of the bolt holding the state (its partitions). */
GALE_EXPORT gale_tstate_t *gale_tstate_parallelism_hint(gale_tstate_t *st, int n);
/** @brief Name shown in logs for the operation (Storm's name()). */
GALE_EXPORT gale_tstream_t *gale_tstream_name(gale_tstream_t *s, const char *name);
/** @brief Component conf for the bolt (or spout executor) this stream's
 * operation runs in, e.g. "file.path" of a file batch spout. */
GALE_EXPORT gale_tstream_t *gale_tstream_conf_set_str(gale_tstream_t *s, const char *key,
                                                      const char *v);
GALE_EXPORT gale_tstream_t *gale_tstream_conf_set_int(gale_tstream_t *s, const char *key,
                                                      int64_t v);

/* The compiled components' implementations (libgale; resolved by name). */
GALE_EXPORT extern const gale_spout_t gale_trident_coordinator_spout;
GALE_EXPORT extern const gale_bolt_t gale_trident_spout_bolt;
GALE_EXPORT extern const gale_bolt_t gale_trident_bolt;
/* spout0's engine for a DRPC stream (gale local looks for it to serve DRPC) */
GALE_EXPORT extern const gale_bolt_t gale_trident_drpc_spout_bolt;

#ifdef __cplusplus
}
#endif
#endif /* GALE_TRIDENT_H */
