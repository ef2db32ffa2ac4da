/*
 * gale.h — the one header a topology author includes.
 *
 * A topology is a graph of spouts (sources) and bolts (processing steps)
 * built with the builder below inside an entry function that lives in a
 * shared library (the topology's "jar"):
 *
 *     int WordCount(gale_submit_t *s, int argc, char **argv) {
 *         gale_builder_t *b = gale_builder_new();
 *         GALE_SPOUT(b, "spout", gale_random_sentence_spout, 5);
 *         gale_component_t *split = GALE_BOLT(b, "split", split_bolt, 8);
 *         gale_shuffle_grouping(split, "spout", NULL);
 *         ...
 *         return gale_submit(s, "word-count", gale_conf_new(), b);
 *     }
 *
 * `gale local topo.so WordCount` and (later) `gale jar topo.so WordCount`
 * call the entry. Workers find each component's implementation by the
 * symbol name the GALE_SPOUT/GALE_BOLT macros record, so implementations
 * must be non-static globals.
 *
 * Ownership: every function says who frees what. Objects are destroyed
 * with gale_<noun>_destroy(), which accepts NULL.
 */
#ifndef GALE_GALE_H
#define GALE_GALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GALE_EXPORT __attribute__((visibility("default")))

#define GALE_VERSION_STR "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

/* One list drives the enum and gale_strerror() so they never drift. */
#define GALE_ERRNO_MAP(X)                                                                          \
    X(INVAL, "invalid argument")                                                                   \
    X(NOMEM, "out of memory")                                                                      \
    X(NOENT, "no such file or entry")                                                              \
    X(EXIST, "already exists")                                                                     \
    X(PROTO, "malformed or unsupported message")                                                   \
    X(RANGE, "value out of range")                                                                 \
    X(TYPE, "wrong type")                                                                          \
    X(FULL, "queue full")                                                                          \
    X(IO, "input/output error")                                                                    \
    X(STATE, "not allowed in this state")

typedef enum gale_err {
    GALE_OK = 0,
#define GALE__ERR_ENUM(name, text) GALE__ERRBASE_##name,
    GALE__ERRBASE_ = 0,
    GALE_ERRNO_MAP(GALE__ERR_ENUM)
#undef GALE__ERR_ENUM
} gale_err_t;

/* Negative codes: GALE_EINVAL == -1, ... */
#define GALE_EINVAL (-GALE__ERRBASE_INVAL)
#define GALE_ENOMEM (-GALE__ERRBASE_NOMEM)
#define GALE_ENOENT (-GALE__ERRBASE_NOENT)
#define GALE_EEXIST (-GALE__ERRBASE_EXIST)
#define GALE_EPROTO (-GALE__ERRBASE_PROTO)
#define GALE_ERANGE (-GALE__ERRBASE_RANGE)
#define GALE_ETYPE  (-GALE__ERRBASE_TYPE)
#define GALE_EFULL  (-GALE__ERRBASE_FULL)
#define GALE_EIO    (-GALE__ERRBASE_IO)
#define GALE_ESTATE (-GALE__ERRBASE_STATE)

/** @brief Text for a GALE_E* code (or 0). Never NULL; static storage. */
GALE_EXPORT const char *gale_strerror(int err);

/**
 * @brief path made absolute against the current directory, written to buf
 * (size bytes); path itself when it is absolute, NULL or would not fit.
 * For entry functions that pass file names to components: under `gale
 * jar` the workers that open them run in their supervisor's directory.
 */
GALE_EXPORT const char *gale_path_absolute(const char *path, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Values: exactly msgpack's types                                      */
/* ------------------------------------------------------------------ */

typedef enum gale_type {
    GALE_T_NIL = 0,
    GALE_T_BOOL,
    GALE_T_INT,
    GALE_T_DOUBLE,
    GALE_T_STR,
    GALE_T_BYTES,
    GALE_T_ARRAY,
    GALE_T_MAP
} gale_type_t;

/*
 * A value is a small tagged view: strings, bytes, arrays and maps point at
 * memory owned by someone else (the tuple, the conf, or the caller while
 * emitting). Maps are `len` key/value pairs laid out as 2*len values.
 * Strings are not NUL-terminated in general: use len.
 */
typedef struct gale_value {
    uint8_t type; /* gale_type_t */
    uint32_t len; /* str/bytes: bytes; array: items; map: pairs */
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;              /* STR and BYTES */
        const struct gale_value *a; /* ARRAY items, MAP k0,v0,k1,v1... */
    } u;
} gale_value_t;

static inline gale_value_t gale_nil(void) {
    gale_value_t v = {GALE_T_NIL, 0, {0}};
    return v;
}
static inline gale_value_t gale_bool(bool b) {
    gale_value_t v = {GALE_T_BOOL, 0, {0}};
    v.u.b = b;
    return v;
}
static inline gale_value_t gale_int(int64_t i) {
    gale_value_t v = {GALE_T_INT, 0, {0}};
    v.u.i = i;
    return v;
}
static inline gale_value_t gale_double(double d) {
    gale_value_t v = {GALE_T_DOUBLE, 0, {0}};
    v.u.d = d;
    return v;
}
static inline gale_value_t gale_strn(const char *s, size_t n) {
    gale_value_t v = {GALE_T_STR, (uint32_t)n, {0}};
    v.u.s = s;
    return v;
}
static inline gale_value_t gale_str(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return gale_strn(s, n);
}
static inline gale_value_t gale_bytes(const void *p, size_t n) {
    gale_value_t v = {GALE_T_BYTES, (uint32_t)n, {0}};
    v.u.s = (const char *)p;
    return v;
}
static inline gale_value_t gale_array(const gale_value_t *items, size_t n) {
    gale_value_t v = {GALE_T_ARRAY, (uint32_t)n, {0}};
    v.u.a = items;
    return v;
}
/* kv holds 2*npairs values: key0, val0, key1, val1, ... */
static inline gale_value_t gale_map(const gale_value_t *kv, size_t npairs) {
    gale_value_t v = {GALE_T_MAP, (uint32_t)npairs, {0}};
    v.u.a = kv;
    return v;
}

/** @brief Deep equality (same type and contents; no int/double mixing). */
GALE_EXPORT bool gale_value_equal(const gale_value_t *a, const gale_value_t *b);

/* ------------------------------------------------------------------ */
/* Configuration maps                                                    */
/* ------------------------------------------------------------------ */

/*
 * A conf is a map from string keys to values, used for the topology conf
 * and for per-component conf. Keys Gale knows (see CONFIGURATION.md) are
 * validated at submit; other keys are passed through to components.
 */
typedef struct gale_conf gale_conf_t;

/** @brief New empty conf. Free with gale_conf_destroy(). */
GALE_EXPORT gale_conf_t *gale_conf_new(void);
GALE_EXPORT void gale_conf_destroy(gale_conf_t *c);
/** @brief Deep copy; NULL on out of memory. */
GALE_EXPORT gale_conf_t *gale_conf_dup(const gale_conf_t *c);
/** @brief Set key to a deep copy of v (replacing). 0 or GALE_E*. */
GALE_EXPORT int gale_conf_set(gale_conf_t *c, const char *key, gale_value_t v);
GALE_EXPORT int gale_conf_set_int(gale_conf_t *c, const char *key, int64_t v);
GALE_EXPORT int gale_conf_set_str(gale_conf_t *c, const char *key, const char *v);
GALE_EXPORT int gale_conf_set_bool(gale_conf_t *c, const char *key, bool v);
GALE_EXPORT int gale_conf_set_double(gale_conf_t *c, const char *key, double v);
/** @brief Remove key; 0, or GALE_ENOENT when absent. */
GALE_EXPORT int gale_conf_unset(gale_conf_t *c, const char *key);
/** @brief The value of key, owned by the conf, or NULL when unset. */
GALE_EXPORT const gale_value_t *gale_conf_get(const gale_conf_t *c, const char *key);
/* Typed getters return def when the key is unset or of another type. */
GALE_EXPORT int64_t gale_conf_get_int(const gale_conf_t *c, const char *key, int64_t def);
GALE_EXPORT double gale_conf_get_double(const gale_conf_t *c, const char *key, double def);
GALE_EXPORT bool gale_conf_get_bool(const gale_conf_t *c, const char *key, bool def);
/* The returned string is NUL-terminated and owned by the conf. */
GALE_EXPORT const char *gale_conf_get_str(const gale_conf_t *c, const char *key, const char *def);
/** @brief Number of keys; keys are kept in insertion order. */
GALE_EXPORT size_t gale_conf_count(const gale_conf_t *c);
/** @brief The i-th key and value (i < count), owned by the conf. */
GALE_EXPORT const char *gale_conf_key_at(const gale_conf_t *c, size_t i, const gale_value_t **v);

/* ------------------------------------------------------------------ */
/* Tuples                                                               */
/* ------------------------------------------------------------------ */

/*
 * A tuple handed to a bolt's execute stays valid until the bolt acks or
 * fails it (a basic bolt does both automatically on return). The bolt
 * must ack or fail every tuple it receives, once, as in Storm. Tick
 * tuples are the exception: they belong to the runtime, are valid only
 * during execute, and acking them is optional (a no-op).
 *
 * After gale_ack/gale_fail a tuple may still be read until the callback
 * that released it returns (from another thread: until the bolt's
 * executor takes its next turn). Releasing it again, or emitting anchored
 * to it, in that time is detected: ignored (an emit returns GALE_ESTATE)
 * and logged as an error of the component. Later uses of a released
 * tuple are undefined, as for any freed object.
 */
typedef struct gale_tuple gale_tuple_t;

GALE_EXPORT size_t gale_tuple_size(const gale_tuple_t *t);
/** @brief The i-th value, or NULL when i is out of range. */
GALE_EXPORT const gale_value_t *gale_tuple_value(const gale_tuple_t *t, size_t i);
/** @brief Index of a declared field of the tuple's stream, or -1. */
GALE_EXPORT int gale_tuple_field_index(const gale_tuple_t *t, const char *field);
/** @brief The value of a declared field, or NULL. */
GALE_EXPORT const gale_value_t *gale_tuple_field(const gale_tuple_t *t, const char *field);
/* Typed accessors: def / NULL when out of range or of another type (no
 * conversion: an int is not a double). */
GALE_EXPORT int64_t gale_tuple_int(const gale_tuple_t *t, size_t i, int64_t def);
GALE_EXPORT double gale_tuple_double(const gale_tuple_t *t, size_t i, double def);
GALE_EXPORT bool gale_tuple_bool(const gale_tuple_t *t, size_t i, bool def);
GALE_EXPORT const char *gale_tuple_str(const gale_tuple_t *t, size_t i, size_t *len);
GALE_EXPORT const char *gale_tuple_source_component(const gale_tuple_t *t);
GALE_EXPORT const char *gale_tuple_stream(const gale_tuple_t *t);
/** @brief Emitting task id (>= 1), or -1 for system tuples (ticks). */
GALE_EXPORT int gale_tuple_source_task(const gale_tuple_t *t);
/** @brief True for tick tuples (component "__system", stream "__tick"). */
GALE_EXPORT bool gale_tuple_is_tick(const gale_tuple_t *t);

/* Longest topology name and component id, in bytes. */
#define GALE_NAME_MAX 128

#define GALE_DEFAULT_STREAM   "default"
#define GALE_TICK_STREAM      "__tick"
#define GALE_SYSTEM_COMPONENT "__system"

/* ------------------------------------------------------------------ */
/* Topology context                                                     */
/* ------------------------------------------------------------------ */

typedef struct gale_context gale_context_t;

GALE_EXPORT int gale_context_task_id(const gale_context_t *ctx);
/** @brief 0-based index of this task among its component's tasks. */
GALE_EXPORT int gale_context_task_index(const gale_context_t *ctx);
GALE_EXPORT const char *gale_context_component_id(const gale_context_t *ctx);
/** @brief Sorted task ids of a component; count, or 0 if unknown. */
GALE_EXPORT size_t gale_context_component_tasks(const gale_context_t *ctx, const char *component,
                                                const int **tasks);
/** @brief Merged conf: defaults < gale.yaml < topology < component < -c. */
GALE_EXPORT const gale_conf_t *gale_context_conf(const gale_context_t *ctx);
GALE_EXPORT const char *gale_context_topology_name(const gale_context_t *ctx);

typedef enum gale_log_level {
    GALE_LOG_DEBUG = 0,
    GALE_LOG_INFO,
    GALE_LOG_WARN,
    GALE_LOG_ERROR
} gale_log_level_t;

/**
 * @brief Log one line as this task: `<time> <LEVEL> <process>[pid]
 * <component>:<task> <message>`. Cheap when the level is disabled.
 */
GALE_EXPORT void gale_log(const gale_context_t *ctx, gale_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ */
/* Emitting                                                             */
/* ------------------------------------------------------------------ */

typedef struct gale_spout_collector gale_spout_collector_t;
typedef struct gale_collector gale_collector_t; /* a bolt's */

typedef struct gale_emit {
    const char *stream;         /* NULL: "default" */
    const gale_value_t *values; /* copied during the call */
    size_t n_values;
    const gale_tuple_t *const *anchors; /* bolts: inputs to anchor to */
    size_t n_anchors;
    const uint64_t *msg_id; /* spouts: NULL = unreliable */
    int direct_task;        /* >0: emit_direct to this task */
    int *tasks_out;         /* optional: target task ids */
    size_t tasks_cap;
} gale_emit_t;

/**
 * @brief Emit from a spout. Only from the spout's own thread.
 * @returns the number of target tasks (their ids in e->tasks_out, up to
 *          tasks_cap), or GALE_E* (unknown stream, wrong arity, direct
 *          emit on a non-direct stream or to a task not subscribed;
 *          GALE_ERANGE for a value nesting more than 28 arrays/maps or
 *          over 2 GiB of strings, GALE_EINVAL for a NULL string or array
 *          pointer with a length: what cannot cross workers is refused in
 *          every mode, before anything is sent).
 */
GALE_EXPORT int gale_spout_emit(gale_spout_collector_t *c, const gale_emit_t *e);
/** @brief Emit from a bolt; any thread. Same returns as gale_spout_emit. */
GALE_EXPORT int gale_emit(gale_collector_t *c, const gale_emit_t *e);
/** @brief Ack an input; the tuple is released (see "Tuples"). Any thread. */
GALE_EXPORT void gale_ack(gale_collector_t *c, const gale_tuple_t *t);
/** @brief Fail an input's tree (reason "failed"); the tuple is released. */
GALE_EXPORT void gale_fail(gale_collector_t *c, const gale_tuple_t *t);
/** @brief Restart the message timeout of the input's tree(s). */
GALE_EXPORT void gale_reset_timeout(gale_collector_t *c, const gale_tuple_t *t);
/** @brief Log an error for this task and count it (errors= in the
 * summary). Rate-limited per task: the first ten are logged, then one in
 * 10000 with the number suppressed since. */
GALE_EXPORT void gale_report_error(gale_collector_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
GALE_EXPORT void gale_spout_report_error(gale_spout_collector_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Shorthands. */
static inline int gale_spout_emit_id(gale_spout_collector_t *c, const char *stream,
                                     const gale_value_t *v, size_t n, uint64_t msg_id) {
    gale_emit_t e = {stream, v, n, NULL, 0, &msg_id, 0, NULL, 0};
    return gale_spout_emit(c, &e);
}
static inline int gale_spout_emit_values(gale_spout_collector_t *c, const char *stream,
                                         const gale_value_t *v, size_t n) {
    gale_emit_t e = {stream, v, n, NULL, 0, NULL, 0, NULL, 0};
    return gale_spout_emit(c, &e);
}
/* anchor may be NULL (unanchored). */
static inline int gale_emit_values(gale_collector_t *c, const char *stream,
                                   const gale_tuple_t *anchor, const gale_value_t *v, size_t n) {
    gale_emit_t e = {stream, v, n, anchor ? &anchor : NULL, anchor ? 1u : 0u, NULL, 0, NULL, 0};
    return gale_emit(c, &e);
}

#define GALE_NVALS(arr) (sizeof(arr) / sizeof((arr)[0]))

/* ------------------------------------------------------------------ */
/* Components                                                           */
/* ------------------------------------------------------------------ */

typedef struct gale_declarer gale_declarer_t;

/**
 * @brief Declare an output stream with comma-separated field names, e.g.
 * gale_declare_stream(d, "default", "word,count", false). A direct stream
 * only takes emit_direct. 0 or GALE_E* (duplicate stream, bad name).
 */
GALE_EXPORT int gale_declare_stream(gale_declarer_t *d, const char *stream, const char *fields,
                                    bool direct);
/** @brief Shorthand: the default stream, not direct. */
GALE_EXPORT int gale_declare(gale_declarer_t *d, const char *fields);

typedef enum gale_fail_reason {
    GALE_FAIL_TIMEOUT = 0, /* "timeout": the tree did not complete in time */
    GALE_FAIL_FAILED = 1   /* "failed": a bolt failed a tuple of the tree */
} gale_fail_reason_t;

/** @brief "timeout" or "failed". */
GALE_EXPORT const char *gale_fail_reason_str(gale_fail_reason_t r);

/*
 * A spout. All callbacks run on the spout's executor thread; any may be
 * NULL except next_tuple. `state` is what open stored. Each task sees
 * open, activate, then next_tuple/ack/fail, then deactivate (when the
 * topology stops; acks and fails of trees in flight may still come) and
 * close, each once. A bolt task sees prepare, execute, then cleanup once
 * every queued tuple was processed (or the stop's drain time ran out).
 */
typedef struct gale_spout {
    /* declare the output streams; conf is the merged conf open() sees
     * (defaults < gale.yaml < topology < component < -c) */
    void (*declare)(gale_declarer_t *d, const gale_conf_t *conf);
    int (*open)(void **state, const gale_context_t *ctx, gale_spout_collector_t *c);
    /* emit zero or more tuples and return; should not block for long */
    void (*next_tuple)(void *state, gale_spout_collector_t *c);
    void (*ack)(void *state, uint64_t msg_id);
    void (*fail)(void *state, uint64_t msg_id, gale_fail_reason_t why);
    void (*activate)(void *state);
    void (*deactivate)(void *state);
    void (*close)(void *state);
    /* finite spouts: true once everything the spout read was acked; the
     * topology is "done" (gale local --until-done) when all such spouts
     * say so. NULL for infinite spouts. */
    bool (*done)(void *state);
} gale_spout_t;

/*
 * A bolt. prepare/execute/cleanup run on the bolt's executor thread.
 * A basic bolt (basic = true) anchors every emit made during execute to
 * the input, acks the input when execute returns 0 and fails it otherwise
 * (Storm's FailedException: the bolt's failed count shows it, and no error
 * is reported unless the bolt calls gale_report_error; if it acks or fails
 * its input itself, that decides, and the runtime does not release it
 * again).
 * A plain bolt's execute result is ignored except for logging.
 */
typedef struct gale_bolt {
    void (*declare)(gale_declarer_t *d, const gale_conf_t *conf);
    int (*prepare)(void **state, const gale_context_t *ctx, gale_collector_t *c);
    int (*execute)(void *state, const gale_tuple_t *t, gale_collector_t *c);
    void (*cleanup)(void *state);
    bool basic;
} gale_bolt_t;

/*
 * A custom grouping: choose target tasks among `targets` (sorted task ids
 * of the subscribing component) for each tuple.
 */
typedef struct gale_grouping {
    /* returns how many task ids it wrote to out (at most cap) */
    size_t (*choose)(void *state, const int *targets, size_t n_targets, const gale_value_t *values,
                     size_t n_values, int *out, size_t cap);
    int (*prepare)(void **state, const int *targets, size_t n_targets);
    void (*cleanup)(void *state);
} gale_grouping_t;

/* ------------------------------------------------------------------ */
/* Building a topology                                                  */
/* ------------------------------------------------------------------ */

typedef struct gale_builder gale_builder_t;
typedef struct gale_component gale_component_t; /* owned by the builder */

/** @brief New builder; freed by gale_builder_destroy() or gale_submit(). */
GALE_EXPORT gale_builder_t *gale_builder_new(void);
GALE_EXPORT void gale_builder_destroy(gale_builder_t *b);

/*
 * Add a spout/bolt. `symbol` is the exported name of impl; use the
 * GALE_SPOUT/GALE_BOLT macros, which record it for you. Errors (duplicate
 * id, parallelism <= 0, ...) are remembered and reported by validation at
 * submit, so building code needs no error checks; the returned handle is
 * never NULL except on out of memory.
 */
GALE_EXPORT gale_component_t *gale_builder_spout(gale_builder_t *b, const char *id,
                                                 const gale_spout_t *impl, const char *symbol,
                                                 int parallelism);
GALE_EXPORT gale_component_t *gale_builder_bolt(gale_builder_t *b, const char *id,
                                                const gale_bolt_t *impl, const char *symbol,
                                                int parallelism);
#define GALE_SPOUT(b, id, impl, par) gale_builder_spout((b), (id), &(impl), #impl, (par))
#define GALE_BOLT(b, id, impl, par)  gale_builder_bolt((b), (id), &(impl), #impl, (par))

/** @brief Fixed task count (>= parallelism; default = parallelism). */
GALE_EXPORT void gale_component_set_tasks(gale_component_t *c, int tasks);
/** @brief Per-component conf (copied into the component's own conf). */
GALE_EXPORT int gale_component_conf_set(gale_component_t *c, const char *key, gale_value_t v);
GALE_EXPORT int gale_component_conf_set_str(gale_component_t *c, const char *key, const char *v);
GALE_EXPORT int gale_component_conf_set_int(gale_component_t *c, const char *key, int64_t v);
GALE_EXPORT int gale_component_conf_set_bool(gale_component_t *c, const char *key, bool v);
GALE_EXPORT int gale_component_conf_set_double(gale_component_t *c, const char *key, double v);

/* Subscribe c to stream (NULL: "default") of component src. */
GALE_EXPORT void gale_shuffle_grouping(gale_component_t *c, const char *src, const char *stream);
/* fields: comma-separated field names of the source stream */
GALE_EXPORT void gale_fields_grouping(gale_component_t *c, const char *src, const char *stream,
                                      const char *fields);
GALE_EXPORT void gale_all_grouping(gale_component_t *c, const char *src, const char *stream);
GALE_EXPORT void gale_global_grouping(gale_component_t *c, const char *src, const char *stream);
GALE_EXPORT void gale_none_grouping(gale_component_t *c, const char *src, const char *stream);
GALE_EXPORT void gale_direct_grouping(gale_component_t *c, const char *src, const char *stream);
GALE_EXPORT void gale_local_or_shuffle_grouping(gale_component_t *c, const char *src,
                                                const char *stream);
GALE_EXPORT void gale_partial_key_grouping(gale_component_t *c, const char *src, const char *stream,
                                           const char *fields);
GALE_EXPORT void gale_custom_grouping(gale_component_t *c, const char *src, const char *stream,
                                      const gale_grouping_t *impl, const char *symbol);
#define GALE_CUSTOM_GROUPING(c, src, stream, impl)                                                 \
    gale_custom_grouping((c), (src), (stream), &(impl), #impl)

/* ------------------------------------------------------------------ */
/* Entry functions                                                      */
/* ------------------------------------------------------------------ */

typedef struct gale_submit gale_submit_t;

/*
 * The entry function a topology library exports, named on the command
 * line (`gale local topo.so Entry args...`). It receives the arguments
 * after the entry name (Gale's own options removed) and must call
 * gale_submit exactly once. Returns 0, or nonzero to abort (nothing
 * runs; print why first). An entry that calls gale_submit twice runs
 * nothing either. Export it as a function (extern "C" in C++; GALE_EXPORT
 * when building with -fvisibility=hidden).
 */
typedef int (*gale_entry_fn)(gale_submit_t *s, int argc, char **argv);

/**
 * @brief Submit the topology. Takes ownership of conf (may be NULL) and b,
 * also on error. @returns 0, or GALE_E* with the reason already logged.
 */
GALE_EXPORT int gale_submit(gale_submit_t *s, const char *name, gale_conf_t *conf,
                            gale_builder_t *b);

/* ------------------------------------------------------------------ */
/* Built-in components (resolved by name like user components)          */
/* ------------------------------------------------------------------ */

/* Storm's RandomSentenceSpout: one of five sentences per 100 ms per task;
 * stream "default", fields "sentence". Unreliable. */
GALE_EXPORT extern const gale_spout_t gale_random_sentence_spout;
/* Storm's TestWordSpout: one of five names per 100 ms; field "word". */
GALE_EXPORT extern const gale_spout_t gale_test_word_spout;
/* Reliable file spout. Conf "file.path" (required). Emits
 * [line_no, line] (fields "line_no,line", line_no from 1) with message id
 * line_no, replays failed lines, done() once every line was acked.
 * Lines end with "\n" or "\r\n"; a line longer than
 * gale.file.max.line.bytes (default 1 MiB) stops the run with an error
 * naming the file and line. How the tasks split the lines: each task
 * reads the whole file and emits the lines whose (line_no - 1) % tasks
 * equals its task index. Anything but a regular file (a pipe, a FIFO,
 * /dev/stdin) can be read only once: the first task reads all of it and
 * the others have no lines. */
GALE_EXPORT extern const gale_spout_t gale_file_lines_spout;
/* Logs every tuple at INFO. */
GALE_EXPORT extern const gale_bolt_t gale_printer_bolt;
/* Word count: input field "word"; emits [word, count] (fields "word,count").
 * Use with a fields grouping on "word". With tick tuples each task logs its
 * top words; at the end each task logs its final top words and the
 * end-of-run summary shows the top words of all tasks merged. */
GALE_EXPORT extern const gale_bolt_t gale_counter_bolt;
/* Appends one line per tuple (values separated by a space) to conf
 * "file.path"; acks each input only after write(2) returned. */
GALE_EXPORT extern const gale_bolt_t gale_file_sink_bolt;
/* Storm's DRPCSpout. Conf "drpc.function" (required): the function it
 * serves. Polls every host of "drpc.servers" on "drpc.invocations.port"
 * (a `gale drpc-server`, or the one `gale local` starts) and emits
 * [args, return-info] (fields "args,return-info") with a message id;
 * args is the request's text, return-info a map {id, host, port} to
 * hand on unchanged to gale_drpc_return_results_bolt. A failed tree tells
 * the server at once, so its client gets an error instead of waiting for
 * drpc.request.timeout.secs. Idle, it polls a few times a second. */
GALE_EXPORT extern const gale_spout_t gale_drpc_spout;
/* Storm's ReturnResults: input [result, return-info] by position;
 * sends the result (a string as is, other values as text) to the DRPC
 * server named in return-info and acks the input once the server took it
 * (fails it when the server cannot be reached). Declares no streams. */
GALE_EXPORT extern const gale_bolt_t gale_drpc_return_results_bolt;

/* ------------------------------------------------------------------ */
/* Runtime introspection (tests, tools)                                 */
/* ------------------------------------------------------------------ */

/** @brief Bytes the runtime holds for tuples and queues, process-wide. */
GALE_EXPORT int64_t gale_mem_in_use(void);

#ifdef __cplusplus
}
#endif
#endif /* GALE_GALE_H */
