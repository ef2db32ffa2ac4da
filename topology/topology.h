/*
 * topology.h — the topology model: components, streams, inputs, tasks;
 * the builder's internals; validation; msgpack (de)serialization.
 *
 * The public builder (gale.h) fills a gale__topology_t. At submit,
 * gale__builder_finish() calls each component's declare() to record its
 * streams, then gale__topology_validate() checks the graph (DESIGN §2) and
 * gale__topology_assign_tasks() numbers the tasks: components sorted by
 * id, task ids contiguous from 1 (0 never names a task), as in Storm.
 *
 * A topology is plain data (no pointers to code): implementations are
 * found by symbol name through a resolver, so the same bytes describe
 * the topology in `gale jar`, nimbus and every worker.
 * Not thread-safe; a finished topology is read-only and may be shared.
 */
#ifndef GALE_TOPOLOGY_TOPOLOGY_H
#define GALE_TOPOLOGY_TOPOLOGY_H

#include <msgpack.h>
#include <stdbool.h>

#include "gale/gale.h"

typedef enum gale__grouping {
    GALE_GROUPING_SHUFFLE = 0,
    GALE_GROUPING_FIELDS,
    GALE_GROUPING_ALL,
    GALE_GROUPING_GLOBAL,
    GALE_GROUPING_NONE,
    GALE_GROUPING_DIRECT,
    GALE_GROUPING_LOCAL_OR_SHUFFLE,
    GALE_GROUPING_PARTIAL_KEY,
    GALE_GROUPING_CUSTOM,
    GALE_GROUPING__COUNT
} gale__grouping_t;

/** @brief "shuffle", "fields", ... ("?" when out of range). */
const char *gale__grouping_name(gale__grouping_t g);

typedef struct gale__stream {
    char *id;
    bool direct;
    size_t n_fields;
    char **fields;
} gale__stream_t;

typedef struct gale__input {
    char *source; /* component id */
    char *stream; /* stream id of source */
    gale__grouping_t grouping;
    size_t n_fields; /* FIELDS, PARTIAL_KEY */
    char **fields;
    char *custom_symbol; /* CUSTOM: exported gale_grouping_t */
} gale__input_t;

typedef struct gale__component {
    char *id;
    bool is_spout;
    char *symbol;      /* exported gale_spout_t / gale_bolt_t */
    int parallelism;   /* executors */
    int tasks;         /* >= parallelism */
    gale_conf_t *conf; /* component conf, never NULL */
    size_t n_streams;
    gale__stream_t *streams;
    size_t n_inputs;
    gale__input_t *inputs;
    int first_task; /* set by assign_tasks: tasks are first..first+tasks-1 */
} gale__component_t;

typedef struct gale__topology {
    char *name;
    gale_conf_t *conf; /* topology conf, never NULL */
    size_t n_components;
    gale__component_t *components; /* sorted by id after assign_tasks */
    int n_tasks;                   /* total user tasks after assign_tasks */
} gale__topology_t;

void gale__topology_destroy(gale__topology_t *t);

/* Symbol lookup used by validation and workers: returns the object the
 * exported symbol names, or NULL. */
typedef const void *(*gale__resolve_fn)(void *ud, const char *symbol);

/**
 * @brief Turn a builder into a topology: runs declare() of every component
 * with its conf. Consumes b (destroyed, also on error). Errors remembered
 * while building (duplicate id, bad parallelism, ...) are reported here:
 * GALE_EINVAL and the first one in err. *out is owned by the caller.
 */
int gale__builder_finish(gale_builder_t *b, const char *name, gale_conf_t *conf,
                         gale__topology_t **out, char *err, size_t errlen);
/**
 * @brief gale__builder_finish where declare() sees the same merged conf
 * as prepare()/open() will: defaults < base (gale.yaml) < topology conf <
 * component conf < overrides (-c). base and overrides may be NULL.
 */
int gale__builder_finish_layered(gale_builder_t *b, const char *name, gale_conf_t *conf,
                                 const gale_conf_t *base, const gale_conf_t *overrides,
                                 gale__topology_t **out, char *err, size_t errlen);

/** @brief Remember an error found by a layer that builds into b (the
 * micro-batch compiler): the submit then fails with msg. First one wins. */
void gale__builder_fail(gale_builder_t *b, int code, const char *msg);

/**
 * @brief Check that every component's symbol resolves to the very object
 * it was added with (so workers, which resolve by name, run what was
 * built — and a bolt's symbol can never be run as a spout). A symbol that
 * does not resolve is left to gale__topology_validate. GALE_EINVAL + err.
 */
int gale__builder_check_impls(const gale_builder_t *b, gale__resolve_fn resolve, void *ud,
                              char *err, size_t errlen);

/**
 * @brief Check the graph. One line in err naming the component, stream
 * or field and what to change, e.g.
 *   "component 'count': input from unknown component 'splt' (known: spout, split)"
 *   "component 'count': fields grouping on 'wrd' but stream 'split:default'
 *    declares fields [word] — use one of those"
 * Checks: topology name (non-empty, [A-Za-z0-9._-]), component ids
 * (non-empty, unique, not starting with "__"), parallelism >= 1,
 * tasks >= parallelism, unknown source components and streams,
 * undeclared grouping fields, direct grouping only on direct streams and
 * direct streams only with direct grouping, spouts have no inputs, bolts
 * have at least one input, no cycles, and — when resolve is non-NULL —
 * every component symbol and custom grouping symbol resolves.
 */
int gale__topology_validate(const gale__topology_t *t, gale__resolve_fn resolve, void *ud,
                            char *err, size_t errlen);

/** @brief Sort components by id and number tasks from 1. */
void gale__topology_assign_tasks(gale__topology_t *t);

const gale__component_t *gale__topology_component(const gale__topology_t *t, const char *id);
/* The component id of the acker executors (their tasks follow the user's). */
#define GALE__ACKER_COMPONENT "__acker"

/** @brief The component owning task, or NULL (acker tasks too). */
const gale__component_t *gale__topology_task_component(const gale__topology_t *t, int task);
const gale__stream_t *gale__component_stream(const gale__component_t *c, const char *stream);
/** @brief Index of field in stream, or -1. */
int gale__stream_field_index(const gale__stream_t *s, const char *field);

/* Serialization: a msgpack map; unpack never trusts the input. */
int gale__topology_pack(msgpack_packer *pk, const gale__topology_t *t);
int gale__topology_unpack(const void *buf, size_t len, gale__topology_t **out, char *err,
                          size_t errlen);
/** @brief Deep equality (round-trip tests). */
bool gale__topology_equal(const gale__topology_t *a, const gale__topology_t *b);

#endif
