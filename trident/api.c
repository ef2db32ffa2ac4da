/*
 * api.c — the micro-batch stream builder (gale/trident.h): records the
 * operations as a graph of nodes, then compiles it into ordinary
 * components of a gale_builder_t (plan.h says what each one runs).
 *
 * Compilation: every node belongs to a group = one bolt. A node starts a
 * new group when it repartitions (partition_by, shuffle, global,
 * broadcast, merge, aggregate, persistent_aggregate) or follows the
 * spout directly (local-or-shuffle from spout0, as Storm puts the chain
 * after a spout in b-0); otherwise it runs in its parent's group. Groups
 * are named b-0, b-1, ... in creation order. A node whose output crosses
 * into another group gets an OUT op and a data stream "s<node id>".
 * An aggregate or persistent_aggregate with a combiner first gets a
 * partial aggregation in its parent's group (see compile): one tuple per
 * batch, group and task crosses instead of one per input tuple. A
 * crossing carries only the fields read downstream (project_boundaries).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gale/trident.h"
#include "topology/topology.h"
#include "trident/plan.h"

enum nkind {
    N_SPOUT,
    N_EACH,
    N_MAP,
    N_FLAT_MAP,
    N_FILTER,
    N_PROJECT,
    N_PART, /* repartition: grouping in `grouping` */
    N_GROUP_BY,
    N_PAGG, /* partition_aggregate: same group */
    N_AGG,  /* aggregate: repartitions */
    N_PERSIST,
    N_MERGE,
    N_PPERSIST, /* partition_persist: same group, a committer */
    N_QUERY,    /* state_query: repartitions after a group_by */
    N_DRPC_RET  /* added at build: returns a DRPC stream's results */
};

typedef struct field_list {
    size_t n;
    char *f[GALE__TRIDENT_MAX_FIELDS];
} field_list_t;

struct gale_tstream {
    gale_trident_t *t;
    int id;
    enum nkind kind;
    const char *opname; /* for messages */
    size_t n_parents;
    gale_tstream_t *parents[8];
    field_list_t fields; /* output fields */
    field_list_t in;     /* input field names (resolved against the parent) */
    field_list_t group;  /* grouped aggregations: the group fields */
    char *symbol;
    bool reducer;
    gale__grouping_t grouping; /* N_PART */
    gale_state_spec_t spec;
    char *spec_strs[3];
    int hint;
    char *name;
    gale_conf_t *conf;
    int bg;            /* batch group: the index of the spout it descends from */
    char *txid;        /* N_SPOUT: its txid name */
    char *drpc_fn;     /* N_SPOUT of a DRPC stream: its function */
    size_t state_keys; /* N_QUERY: the state's number of key fields */
    int partial;       /* GALE__TOP_F_PARTIAL_*: set at compile (partial aggregation) */
    size_t n_added;    /* N_EACH, N_QUERY: the output fields it appends */
    bool starts;       /* compile: starts a group (starts_group, before projections) */
    bool boundary;     /* compile: a projection at a repartition (in its parent's group) */
    /* compile */
    int grp;
    int op;      /* index in its group's ops */
    int out_idx; /* -1, or its output index in its group */
};

struct gale_tstate {
    gale_tstream_t *node;
};

struct gale_trident {
    gale_builder_t *b;
    gale_tstream_t **nodes;
    size_t n, cap;
    gale_tstate_t **states;
    size_t n_states;
    char err[400];
    bool failed;
    int n_spouts;
};

static void tfail(gale_trident_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tfail(gale_trident_t *t, const char *fmt, ...) {
    if (t->failed) return; /* the first error is the useful one */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    t->failed = true;
}

static void fl_free(field_list_t *l) {
    for (size_t i = 0; i < l->n; i++) free(l->f[i]);
    l->n = 0;
}

/* Split "a, b,c" into l; false (error remembered) on too many, empty or
 * reserved names. NULL or "" is the empty list. */
static bool fl_parse(gale_trident_t *t, const char *op, const char *s, field_list_t *l) {
    l->n = 0;
    if (!s) return true;
    const char *p = s;
    while (*p) {
        while (*p == ' ') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *end = e;
        while (end > p && end[-1] == ' ') end--;
        if (end == p) {
            if (!*e && l->n == 0) return true;
            tfail(t, "trident %s: empty field name in '%s': separate names with single commas", op,
                  s);
            return false;
        }
        if (*p == '$') {
            tfail(
                t,
                "trident %s: field '%.*s' starts with '$', which the batch id reserves: rename it",
                op, (int)(end - p), p);
            return false;
        }
        if (l->n == GALE__TRIDENT_MAX_FIELDS) {
            tfail(t, "trident %s: more than %d fields in '%s'", op, GALE__TRIDENT_MAX_FIELDS, s);
            return false;
        }
        l->f[l->n++] = strndup(p, (size_t)(end - p));
        p = *e ? e + 1 : e;
    }
    return true;
}

static void fl_copy(field_list_t *dst, const field_list_t *src) {
    dst->n = src->n;
    for (size_t i = 0; i < src->n; i++) dst->f[i] = strdup(src->f[i]);
}

static int fl_index(const field_list_t *l, const char *f) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->f[i], f) == 0) return (int)i;
    return -1;
}

static void fl_join(const field_list_t *l, char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < l->n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "", l->f[i]);
}

/* Every name of want must be a field of have. */
static bool fl_check(gale_trident_t *t, const char *op, const field_list_t *want,
                     const field_list_t *have) {
    for (size_t i = 0; i < want->n; i++)
        if (fl_index(have, want->f[i]) < 0) {
            char known[300];
            fl_join(have, known, sizeof known);
            tfail(t, "trident %s: no field '%s' in [%s] — use one of those", op, want->f[i], known);
            return false;
        }
    return true;
}

static gale_tstream_t *node_new(gale_trident_t *t, enum nkind kind, const char *opname,
                                gale_tstream_t *parent) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        gale_tstream_t **n = realloc(t->nodes, cap * sizeof *n);
        if (!n) return NULL;
        t->nodes = n;
        t->cap = cap;
    }
    gale_tstream_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->t = t;
    s->id = (int)t->n;
    s->kind = kind;
    s->opname = opname;
    s->hint = 0;
    s->out_idx = -1;
    s->grp = -1;
    if (parent) {
        s->parents[s->n_parents++] = parent;
        s->bg = parent->bg;
    }
    t->nodes[t->n++] = s;
    return s;
}

gale_trident_t *gale_trident_new(gale_builder_t *b) {
    gale_trident_t *t = calloc(1, sizeof *t);
    if (t) t->b = b;
    return t;
}

void gale_trident_destroy(gale_trident_t *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        gale_tstream_t *s = t->nodes[i];
        fl_free(&s->fields);
        fl_free(&s->in);
        fl_free(&s->group);
        free(s->symbol);
        free(s->name);
        free(s->txid);
        free(s->drpc_fn);
        for (int k = 0; k < 3; k++) free(s->spec_strs[k]);
        gale_conf_destroy(s->conf);
        free(s);
    }
    for (size_t i = 0; i < t->n_states; i++) free(t->states[i]);
    free(t->states);
    free(t->nodes);
    free(t);
}

/* A usable parent: non-NULL, of this layer; NULL (error remembered) else. */
static gale_trident_t *parent_ok(gale_tstream_t *s, const char *op) {
    if (!s) return NULL;
    if (s->kind == N_PERSIST || s->kind == N_PPERSIST) {
        tfail(s->t, "trident %s: a persistent_aggregate's result is a state, not a stream", op);
        return NULL;
    }
    return s->t;
}

gale_tstream_t *gale_trident_new_stream(gale_trident_t *t, const char *txid_name,
                                        const gale_batch_spout_t *spout, const char *symbol) {
    if (!t) return NULL;
    gale_tstream_t *s = node_new(t, N_SPOUT, "new_stream", NULL);
    if (!s) return NULL;
    if (!spout || !symbol || !spout->plan || !spout->emit) {
        tfail(t, "trident new_stream: the batch spout or its plan/emit callback is NULL: pass an "
                 "exported gale_batch_spout_t with GALE_TRIDENT_STREAM");
        return s;
    }
    if (!txid_name || !*txid_name || strchr(txid_name, ':') ||
        (*txid_name == '$' && spout != &gale_trident_drpc_batch_spout)) {
        tfail(t, "trident new_stream: the txid name must be a non-empty string without ':', not "
                 "starting with '$' (it names the coordinator's Redis keys; '$' ones are the "
                 "layer's)");
        return s;
    }
    for (size_t i = 0; i + 1 < t->n; i++)
        if (t->nodes[i]->kind == N_SPOUT && t->nodes[i]->txid &&
            strcmp(t->nodes[i]->txid, txid_name) == 0) {
            tfail(t,
                  "trident new_stream(%s): another stream uses this txid name: give each stream "
                  "its own (it names the coordinator's Redis keys)",
                  txid_name);
            return s;
        }
    s->bg = t->n_spouts++;
    s->txid = strdup(txid_name);
    s->symbol = strdup(symbol);
    if (spout == &gale_trident_drpc_batch_spout) {
        /* its hidden return-info field is reserved from users, not from us */
        s->fields.f[s->fields.n++] = strdup("args");
        s->fields.f[s->fields.n++] = strdup("$drpc-return");
    } else {
        fl_parse(t, "new_stream", spout->fields, &s->fields);
    }
    return s;
}

/* each/map/flat_map/filter */
static gale_tstream_t *fn_op(gale_tstream_t *p, enum nkind kind, const char *opname, const char *in,
                             const void *fn, const char *symbol, const char *out) {
    gale_trident_t *t = parent_ok(p, opname);
    if (!t) return p;
    gale_tstream_t *s = node_new(t, kind, opname, p);
    if (!s) return p;
    char op[200];
    snprintf(op, sizeof op, "%s(%s)", opname, symbol ? symbol : "?");
    if (!fn || !symbol) {
        tfail(t, "trident %s: the function is NULL: pass an exported object (use the GALE_ macros)",
              opname);
        return s;
    }
    s->symbol = strdup(symbol);
    if (!fl_parse(t, op, in, &s->in) || !fl_check(t, op, &s->in, &p->fields)) return s;
    field_list_t outl = {0};
    if (!fl_parse(t, op, out, &outl)) return s;
    if (kind == N_EACH || kind == N_QUERY) {
        fl_copy(&s->fields, &p->fields);
        for (size_t i = 0; i < outl.n; i++) {
            if (fl_index(&s->fields, outl.f[i]) >= 0) {
                tfail(t,
                      "trident %s: output field '%s' is already a field of the stream: name it "
                      "differently",
                      op, outl.f[i]);
                fl_free(&outl);
                return s;
            }
            if (s->fields.n == GALE__TRIDENT_MAX_FIELDS) {
                tfail(t, "trident %s: more than %d fields", op, GALE__TRIDENT_MAX_FIELDS);
                fl_free(&outl);
                return s;
            }
            s->fields.f[s->fields.n++] = outl.f[i];
        }
        s->n_added = outl.n;
        outl.n = 0;
    } else if (kind == N_FILTER) {
        fl_copy(&s->fields, &p->fields);
    } else {
        s->fields = outl;
        outl.n = 0;
    }
    fl_free(&outl);
    return s;
}

gale_tstream_t *gale_tstream_each(gale_tstream_t *s, const char *in,
                                  const gale_trident_function_t *fn, const char *symbol,
                                  const char *out) {
    if (fn && !fn->execute) fn = NULL;
    return fn_op(s, N_EACH, "each", in, fn, symbol, out);
}
gale_tstream_t *gale_tstream_map(gale_tstream_t *s, const char *in,
                                 const gale_trident_function_t *fn, const char *symbol,
                                 const char *out) {
    if (fn && !fn->execute) fn = NULL;
    return fn_op(s, N_MAP, "map", in, fn, symbol, out);
}
gale_tstream_t *gale_tstream_flat_map(gale_tstream_t *s, const char *in,
                                      const gale_trident_function_t *fn, const char *symbol,
                                      const char *out) {
    if (fn && !fn->execute) fn = NULL;
    return fn_op(s, N_FLAT_MAP, "flat_map", in, fn, symbol, out);
}
gale_tstream_t *gale_tstream_filter(gale_tstream_t *s, const char *in,
                                    const gale_trident_filter_t *f, const char *symbol) {
    if (f && !f->keep) f = NULL;
    return fn_op(s, N_FILTER, "filter", in, f, symbol, NULL);
}

gale_tstream_t *gale_tstream_project(gale_tstream_t *p, const char *fields) {
    gale_trident_t *t = parent_ok(p, "project");
    if (!t) return p;
    gale_tstream_t *s = node_new(t, N_PROJECT, "project", p);
    if (!s) return p;
    if (fl_parse(t, "project", fields, &s->in) && fl_check(t, "project", &s->in, &p->fields))
        fl_copy(&s->fields, &s->in);
    return s;
}

static gale_tstream_t *part_op(gale_tstream_t *p, const char *opname, gale__grouping_t g,
                               const char *fields) {
    gale_trident_t *t = parent_ok(p, opname);
    if (!t) return p;
    gale_tstream_t *s = node_new(t, N_PART, opname, p);
    if (!s) return p;
    s->grouping = g;
    fl_copy(&s->fields, &p->fields);
    if (g == GALE_GROUPING_FIELDS) {
        if (!fl_parse(t, opname, fields, &s->group) || !fl_check(t, opname, &s->group, &p->fields))
            return s;
        if (s->group.n == 0) tfail(t, "trident %s: name at least one field", opname);
    }
    return s;
}

gale_tstream_t *gale_tstream_partition_by(gale_tstream_t *s, const char *fields) {
    return part_op(s, "partition_by", GALE_GROUPING_FIELDS, fields);
}
gale_tstream_t *gale_tstream_shuffle(gale_tstream_t *s) {
    return part_op(s, "shuffle", GALE_GROUPING_SHUFFLE, NULL);
}
gale_tstream_t *gale_tstream_global(gale_tstream_t *s) {
    return part_op(s, "global", GALE_GROUPING_GLOBAL, NULL);
}
gale_tstream_t *gale_tstream_broadcast(gale_tstream_t *s) {
    return part_op(s, "broadcast", GALE_GROUPING_ALL, NULL);
}

gale_tstream_t *gale_tstream_group_by(gale_tstream_t *p, const char *fields) {
    gale_trident_t *t = parent_ok(p, "group_by");
    if (!t) return p;
    gale_tstream_t *s = node_new(t, N_GROUP_BY, "group_by", p);
    if (!s) return p;
    fl_copy(&s->fields, &p->fields);
    if (fl_parse(t, "group_by", fields, &s->group) &&
        fl_check(t, "group_by", &s->group, &p->fields) && s->group.n == 0)
        tfail(t, "trident group_by: name at least one field");
    return s;
}

/* The aggregations: p may be a group_by. */
static gale_tstream_t *agg_op(gale_tstream_t *p, enum nkind kind, const char *opname,
                              const char *in, const void *agg, bool reducer, const char *symbol,
                              const char *out_field) {
    gale_trident_t *t = parent_ok(p, opname);
    if (!t) return p;
    gale_tstream_t *s = node_new(t, kind, opname, p);
    if (!s) return p;
    char op[200];
    snprintf(op, sizeof op, "%s(%s)", opname, symbol ? symbol : "?");
    if (!agg || !symbol) {
        tfail(t,
              "trident %s: the aggregator is NULL (give exactly one of a combiner or a reducer, "
              "with its exported name)",
              opname);
        return s;
    }
    s->symbol = strdup(symbol);
    s->reducer = reducer;
    if (!fl_parse(t, op, in, &s->in) || !fl_check(t, op, &s->in, &p->fields)) return s;
    if (p->kind == N_GROUP_BY) fl_copy(&s->group, &p->group);
    field_list_t o = {0};
    if (!fl_parse(t, op, out_field, &o)) return s;
    if (o.n != 1) {
        tfail(t, "trident %s: name exactly one output field (got '%s')", op,
              out_field ? out_field : "");
        fl_free(&o);
        return s;
    }
    if (fl_index(&s->group, o.f[0]) >= 0) {
        tfail(t, "trident %s: output field '%s' is also a group field: name it differently", op,
              o.f[0]);
        fl_free(&o);
        return s;
    }
    fl_copy(&s->fields, &s->group);
    s->fields.f[s->fields.n++] = o.f[0];
    return s;
}

/* Record s's state spec (strings copied) and return its state handle. */
static gale_tstate_t *add_state(gale_trident_t *t, gale_tstream_t *s, const gale_state_spec_t *spec,
                                const char *opname, const char *symbol) {
    if (!spec) {
        tfail(t, "trident %s(%s): the state spec is NULL", opname, symbol);
    } else {
        s->spec = *spec;
        if (spec->key_fn && !spec->key_fn_symbol)
            tfail(t,
                  "trident %s(%s): the state's key_fn has no symbol: set it with "
                  "GALE_STATE_KEY_FN",
                  opname, symbol);
        s->spec_strs[0] = spec->key_prefix ? strdup(spec->key_prefix) : NULL;
        s->spec_strs[1] = spec->hash_key ? strdup(spec->hash_key) : NULL;
        s->spec_strs[2] = spec->key_fn_symbol ? strdup(spec->key_fn_symbol) : NULL;
    }
    gale_tstate_t *st = calloc(1, sizeof *st);
    gale_tstate_t **n = realloc(t->states, (t->n_states + 1) * sizeof *n);
    if (!st || !n) {
        free(st);
        if (n) t->states = n;
        return NULL;
    }
    t->states = n;
    st->node = s;
    t->states[t->n_states++] = st;
    return st;
}

gale_tstate_t *gale_tstream_persistent_aggregate(gale_tstream_t *p, const gale_state_spec_t *spec,
                                                 const char *in, const gale_combiner_t *agg,
                                                 const char *symbol, const char *out_field) {
    if (agg && (!agg->init || !agg->combine || !agg->zero)) agg = NULL;
    gale_tstream_t *s =
        agg_op(p, N_PERSIST, "persistent_aggregate", in, agg, false, symbol, out_field);
    if (!s || s == p) return NULL;
    return add_state(s->t, s, spec, "persistent_aggregate", symbol);
}

gale_tstate_t *gale_tstream_partition_persist(gale_tstream_t *p, const gale_state_spec_t *spec,
                                              const char *keys, const char *in,
                                              const gale_combiner_t *agg, const char *symbol) {
    gale_trident_t *t = parent_ok(p, "partition_persist");
    if (!t) return NULL;
    gale_tstream_t *s = node_new(t, N_PPERSIST, "partition_persist", p);
    if (!s) return NULL;
    char op[200];
    snprintf(op, sizeof op, "partition_persist(%s)", symbol ? symbol : "?");
    if (!agg || !symbol || !agg->init || !agg->combine || !agg->zero) {
        tfail(t,
              "trident %s: the combiner is NULL: pass an exported gale_combiner_t with "
              "GALE_PARTITION_PERSIST",
              op);
        return NULL;
    }
    s->symbol = strdup(symbol);
    if (!fl_parse(t, op, in, &s->in) || !fl_check(t, op, &s->in, &p->fields) ||
        !fl_parse(t, op, keys, &s->group) || !fl_check(t, op, &s->group, &p->fields))
        return NULL;
    return add_state(t, s, spec, "partition_persist", symbol);
}

gale_tstream_t *gale_tstream_state_query(gale_tstream_t *p, gale_tstate_t *st, const char *in,
                                         const gale_trident_query_t *q, const char *symbol,
                                         const char *out) {
    gale_trident_t *t = parent_ok(p, "state_query");
    if (!t) return p;
    if (q && !q->execute) q = NULL;
    gale_tstream_t *s = fn_op(p, N_QUERY, "state_query", in, q, symbol, out);
    if (s == p || t->failed) return s;
    if (!st || !st->node || st->node->t != t) {
        tfail(t,
              "trident state_query(%s): the state is NULL or of another layer: pass what "
              "persistent_aggregate or partition_persist returned",
              symbol);
        return s;
    }
    const gale_tstream_t *sn = st->node;
    if (s->in.n != sn->group.n) {
        tfail(t,
              "trident state_query(%s): the state has %zu key field(s), the query's input %zu: "
              "give the key fields as its input",
              symbol, sn->group.n, s->in.n);
        return s;
    }
    s->spec = sn->spec;
    for (int k = 0; k < 3; k++)
        s->spec_strs[k] = sn->spec_strs[k] ? strdup(sn->spec_strs[k]) : NULL;
    s->spec.key_prefix = s->spec_strs[0];
    s->spec.hash_key = s->spec_strs[1];
    s->spec.key_fn_symbol = s->spec_strs[2];
    s->state_keys = sn->group.n;
    /* Storm repartitions a grouped stream's query by the group fields */
    if (p->kind == N_GROUP_BY) fl_copy(&s->group, &p->group);
    return s;
}

gale_tstream_t *gale_trident_new_drpc_stream(gale_trident_t *t, const char *function) {
    if (!t) return NULL;
    if (!function || !*function || strlen(function) > 128 || strchr(function, ':')) {
        gale_tstream_t *s = node_new(t, N_SPOUT, "new_drpc_stream", NULL);
        tfail(t, "trident new_drpc_stream: the function name must be 1..128 bytes without ':'");
        return s;
    }
    char txid[160];
    snprintf(txid, sizeof txid, GALE__TRIDENT_DRPC_TXID_PREFIX "%s", function);
    gale_tstream_t *d = gale_trident_new_stream(t, txid, &gale_trident_drpc_batch_spout,
                                                "gale_trident_drpc_batch_spout");
    if (!d || d->kind != N_SPOUT) return d;
    d->opname = "new_drpc_stream";
    d->drpc_fn = strdup(function);
    gale_tstream_conf_set_str(d, "drpc.function", function);
    /* the spout's fields are args and the hidden return info; users see args */
    return gale_tstream_project(d, "args");
}

gale_tstream_t *gale_tstream_partition_aggregate(gale_tstream_t *s, const char *in,
                                                 const gale_combiner_t *comb,
                                                 const gale_reducer_t *red, const char *symbol,
                                                 const char *out_field) {
    const void *agg = (comb && !red)   ? (const void *)comb
                      : (!comb && red) ? (const void *)red
                                       : NULL;
    return agg_op(s, N_PAGG, "partition_aggregate", in, agg, red != NULL, symbol, out_field);
}

gale_tstream_t *gale_tstream_aggregate(gale_tstream_t *s, const char *in,
                                       const gale_combiner_t *comb, const gale_reducer_t *red,
                                       const char *symbol, const char *out_field) {
    const void *agg = (comb && !red)   ? (const void *)comb
                      : (!comb && red) ? (const void *)red
                                       : NULL;
    return agg_op(s, N_AGG, "aggregate", in, agg, red != NULL, symbol, out_field);
}

gale_tstream_t *gale_trident_merge(gale_trident_t *t, gale_tstream_t *const *streams, size_t n) {
    if (!t) return NULL;
    if (!streams || n == 0 || n > 8) {
        tfail(t, "trident merge: give 1 to 8 streams");
        return n && streams ? streams[0] : NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!parent_ok(streams[i], "merge")) return streams[0];
    gale_tstream_t *s = node_new(t, N_MERGE, "merge", NULL);
    if (!s) return streams[0];
    for (size_t i = 0; i < n; i++) {
        if (streams[i]->fields.n != streams[0]->fields.n) {
            tfail(t,
                  "trident merge: stream %zu has %zu fields, the first %zu: project them to the "
                  "same number first",
                  i, streams[i]->fields.n, streams[0]->fields.n);
            return s;
        }
        if (streams[i]->bg != streams[0]->bg) {
            tfail(t,
                  "trident merge: stream %zu comes from another spout than the first: streams "
                  "of different spouts are batched apart and cannot be merged",
                  i);
            return s;
        }
        s->parents[s->n_parents++] = streams[i];
    }
    s->bg = streams[0]->bg;
    fl_copy(&s->fields, &streams[0]->fields);
    return s;
}

gale_tstream_t *gale_tstream_parallelism_hint(gale_tstream_t *s, int n) {
    if (!s) return s;
    if (n < 1) tfail(s->t, "trident parallelism_hint(%d): give at least 1", n);
    s->hint = n;
    return s;
}

gale_tstate_t *gale_tstate_parallelism_hint(gale_tstate_t *st, int n) {
    if (st) gale_tstream_parallelism_hint(st->node, n);
    return st;
}

gale_tstream_t *gale_tstream_name(gale_tstream_t *s, const char *name) {
    if (!s || !name) return s;
    free(s->name);
    s->name = strdup(name);
    return s;
}

static gale_conf_t *node_conf(gale_tstream_t *s) {
    if (!s->conf) s->conf = gale_conf_new();
    return s->conf;
}
gale_tstream_t *gale_tstream_conf_set_str(gale_tstream_t *s, const char *key, const char *v) {
    if (s && node_conf(s)) gale_conf_set_str(s->conf, key, v);
    return s;
}
gale_tstream_t *gale_tstream_conf_set_int(gale_tstream_t *s, const char *key, int64_t v) {
    if (s && node_conf(s)) gale_conf_set_int(s->conf, key, v);
    return s;
}

/* ------------------------------------------------------------------ */
/* Compilation                                                          */
/* ------------------------------------------------------------------ */

#define MAX_GROUPS 256
#define MAX_ITEMS  4096

/* A bump arena of values for the plan (freed after gale_conf_set copied it). */
typedef struct varena {
    gale_value_t v[MAX_ITEMS];
    size_t n;
    bool full;
} varena_t;

static gale_value_t *va(varena_t *a, size_t n) {
    if (a->n + n > MAX_ITEMS) {
        a->full = true;
        static gale_value_t dummy[GALE__TRIDENT_MAX_FIELDS * 2 + 16];
        return dummy;
    }
    gale_value_t *v = a->v + a->n;
    a->n += n;
    return v;
}

static gale_value_t vstr_or_nil(const char *s) {
    return s ? gale_str(s) : gale_nil();
}

static gale_value_t int_list(varena_t *a, const int *idx, size_t n) {
    gale_value_t *v = va(a, n ? n : 1);
    for (size_t i = 0; i < n; i++) v[i] = gale_int(idx[i]);
    return gale_array(v, n);
}

/* Index list of names in the parent's fields (checked when recorded). */
static size_t resolve_idx(const field_list_t *names, const field_list_t *have, int *out) {
    for (size_t i = 0; i < names->n; i++) out[i] = fl_index(have, names->f[i]);
    return names->n;
}

typedef struct group {
    char id[32];
    int first; /* node that started it */
    int bg;    /* its batch group */
    int n_ops;
    int parallelism;
    bool committer;
    int n_outputs;
    int n_inputs;
} group_t;

static bool starts_group(const gale_tstream_t *s) {
    if (s->kind == N_SPOUT) return true;
    if (s->kind == N_PART || s->kind == N_MERGE || s->kind == N_AGG || s->kind == N_PERSIST ||
        s->kind == N_DRPC_RET)
        return true;
    if (s->kind == N_QUERY && s->parents[0]->kind == N_GROUP_BY) return true;
    return s->parents[0]->kind == N_SPOUT;
}

static int op_kind(const gale_tstream_t *s) {
    switch (s->kind) {
        case N_EACH:
            return GALE__TOP_EACH;
        case N_MAP:
            return GALE__TOP_MAP;
        case N_FLAT_MAP:
            return GALE__TOP_FLAT_MAP;
        case N_FILTER:
            return GALE__TOP_FILTER;
        case N_PROJECT:
            return GALE__TOP_PROJECT;
        case N_PAGG:
        case N_AGG:
            return s->reducer ? GALE__TOP_AGG_REDUCE : GALE__TOP_AGG_COMBINE;
        case N_PERSIST:
        case N_PPERSIST:
            return GALE__TOP_PERSIST;
        case N_QUERY:
            return GALE__TOP_QUERY;
        case N_DRPC_RET:
            return GALE__TOP_DRPC_RETURN;
        default:
            return GALE__TOP_PASS;
    }
}

/* Whether an operation's output is its input's fields (and more). */
static bool inherits(const gale_tstream_t *c) {
    return c->kind == N_EACH || c->kind == N_QUERY || c->kind == N_FILTER || c->kind == N_PART ||
           c->kind == N_GROUP_BY;
}

static void mark(const field_list_t *names, const field_list_t *pf, bool *mask) {
    for (size_t i = 0; i < names->n; i++) {
        int k = fl_index(pf, names->f[i]);
        if (k >= 0) mask[k] = true;
    }
}

/* Which of pf (the fields of c's parent) c reads, or what inherits them
 * from c further on (in any bolt): mask[i] for pf->f[i]. */
static void reads(const gale_trident_t *t, const gale_tstream_t *c, const field_list_t *pf,
                  bool *mask) {
    if (c->kind == N_MERGE || c->kind == N_DRPC_RET) { /* positional, or returned whole */
        for (size_t i = 0; i < pf->n; i++) mask[i] = true;
        return;
    }
    mark(&c->in, pf, mask);
    mark(&c->group, pf, mask);
    if (!inherits(c)) return;
    bool sub[GALE__TRIDENT_MAX_FIELDS] = {false};
    for (size_t j = 0; j < t->n; j++)
        for (size_t k = 0; k < t->nodes[j]->n_parents; k++)
            if (t->nodes[j]->parents[k] == c) reads(t, t->nodes[j], &c->fields, sub);
    for (size_t i = 0; i < c->fields.n; i++) {
        int k = sub[i] ? fl_index(pf, c->fields.f[i]) : -1;
        if (k >= 0) mask[k] = true;
    }
}

/* Projection at the repartitions: a node whose tuples cross into another
 * bolt sends only the fields read there (or inherited and read later)
 * through a project op before its output; the fields of the nodes that
 * inherit them are recomputed. Not from a spout (a project after it would
 * be a bolt of its own), not when every field is read. */
static int project_boundaries(gale_trident_t *t) {
    for (size_t i = 0, n0 = t->n; i < n0; i++) {
        gale_tstream_t *p = t->nodes[i];
        if (p->kind == N_SPOUT || p->kind == N_PERSIST || p->kind == N_PPERSIST) continue;
        bool mask[GALE__TRIDENT_MAX_FIELDS] = {false}, crosses = false, dup = false;
        for (size_t j = 0; j < t->n; j++)
            for (size_t k = 0; k < t->nodes[j]->n_parents; k++)
                if (t->nodes[j]->parents[k] == p && t->nodes[j]->starts) {
                    crosses = true;
                    reads(t, t->nodes[j], &p->fields, mask);
                }
        size_t kept = 0;
        for (size_t f = 0; f < p->fields.n; f++) {
            kept += mask[f];
            dup |= fl_index(&p->fields, p->fields.f[f]) != (int)f;
        }
        if (!crosses || dup || kept == p->fields.n) continue;
        gale_tstream_t *pr = node_new(t, N_PROJECT, "project", p);
        if (!pr) return GALE_ENOMEM;
        pr->boundary = true;
        for (size_t f = 0; f < p->fields.n; f++)
            if (mask[f]) pr->in.f[pr->in.n++] = strdup(p->fields.f[f]);
        fl_copy(&pr->fields, &pr->in);
        for (size_t j = 0; j + 1 < t->n; j++)
            for (size_t k = 0; k < t->nodes[j]->n_parents; k++)
                if (t->nodes[j]->parents[k] == p && t->nodes[j]->starts)
                    t->nodes[j]->parents[k] = pr;
        /* the nodes after p inheriting fields: their parent's, then their own */
        for (size_t j = i + 1; j + 1 < t->n; j++) {
            gale_tstream_t *c = t->nodes[j];
            if (!inherits(c)) continue;
            const field_list_t *pf = &c->parents[0]->fields;
            size_t add = (c->kind == N_EACH || c->kind == N_QUERY) ? c->n_added : 0;
            field_list_t nf = {0};
            fl_copy(&nf, pf);
            for (size_t a = c->fields.n - add; a < c->fields.n; a++)
                nf.f[nf.n++] = strdup(c->fields.f[a]);
            fl_free(&c->fields);
            c->fields = nf;
        }
    }
    return 0;
}

/* Subscribe component c to node p's output as node s asks. */
static void subscribe(gale_component_t *c, const char *src, const char *stream,
                      const gale_tstream_t *s, const gale_tstream_t *p) {
    char fields[600];
    if (s->kind == N_PART) {
        switch (s->grouping) {
            case GALE_GROUPING_FIELDS:
                fl_join(&s->group, fields, sizeof fields);
                gale_fields_grouping(c, src, stream, fields);
                return;
            case GALE_GROUPING_GLOBAL:
                gale_global_grouping(c, src, stream);
                return;
            case GALE_GROUPING_ALL:
                gale_all_grouping(c, src, stream);
                return;
            default:
                gale_shuffle_grouping(c, src, stream);
                return;
        }
    }
    if (s->kind == N_DRPC_RET) { /* one task sees the whole batch */
        gale_global_grouping(c, src, stream);
        return;
    }
    if (s->kind == N_QUERY && s->group.n) {
        fl_join(&s->group, fields, sizeof fields);
        gale_fields_grouping(c, src, stream, fields);
        return;
    }
    if ((s->kind == N_AGG || s->kind == N_PERSIST)) {
        if (s->group.n) {
            fl_join(&s->group, fields, sizeof fields);
            gale_fields_grouping(c, src, stream, fields);
        } else {
            gale_global_grouping(c, src, stream);
        }
        return;
    }
    if (p->kind == N_SPOUT && s->kind != N_MERGE) {
        gale_local_or_shuffle_grouping(c, src, stream);
        return;
    }
    gale_shuffle_grouping(c, src, stream); /* merge */
}

/* Does s take its input through a global grouping (global(), an ungrouped
 * aggregate or persistent_aggregate, the DRPC return)? */
static bool global_input(const gale_tstream_t *s) {
    return (s->kind == N_PART && s->grouping == GALE_GROUPING_GLOBAL) ||
           ((s->kind == N_AGG || s->kind == N_PERSIST) && s->group.n == 0) || s->kind == N_DRPC_RET;
}

static int compile(gale_trident_t *t, char *err, size_t errlen) {
    static group_t groups[MAX_GROUPS]; /* the builder runs on one thread */
    int n_groups = 0;
    if (t->n_spouts == 0) {
        snprintf(err, errlen, "trident: no stream: start one with GALE_TRIDENT_STREAM");
        return GALE_EINVAL;
    }
    if (t->n_spouts > MAX_GROUPS / 2) {
        snprintf(err, errlen, "trident: more than %d streams", MAX_GROUPS / 2);
        return GALE_EINVAL;
    }
    const gale_tstream_t *spouts[MAX_GROUPS / 2];
    for (size_t i = 0; i < t->n; i++)
        if (t->nodes[i]->kind == N_SPOUT) spouts[t->nodes[i]->bg] = t->nodes[i];
    /* a DRPC stream's results: its last node (Storm's last added node of
     * the stream's graph) and the spout's return info meet in one task */
    for (int k = 0; k < t->n_spouts; k++) {
        gale_tstream_t *d = (gale_tstream_t *)spouts[k];
        if (!d->drpc_fn) continue;
        gale_tstream_t *last = NULL;
        for (size_t i = 0; i < t->n; i++)
            if (t->nodes[i]->bg == k && t->nodes[i] != d && t->nodes[i]->kind != N_DRPC_RET)
                last = t->nodes[i];
        if (!last || last->kind == N_PERSIST || last->kind == N_PPERSIST) {
            snprintf(err, errlen,
                     "trident new_drpc_stream(%s): the stream ends in a state, not a stream: end "
                     "it with the operation whose tuples are the result",
                     d->drpc_fn);
            return GALE_EINVAL;
        }
        gale_tstream_t *r = node_new(t, N_DRPC_RET, "drpc_return", last);
        if (!r) return GALE_ENOMEM;
        r->parents[r->n_parents++] = d;
    }
    /* partial aggregation (Storm's combiner aggregators): an aggregation
     * with a combiner that repartitions (aggregate, persistent_aggregate)
     * gets a partition aggregate in its parent's bolt, which combines the
     * batch's tuples per group there and sends one [group..., partial]
     * per group and task at the batch's end; the aggregation then
     * combines the partials instead of init-ing tuples. Not after the
     * spout itself (that would be a bolt of its own). Appended: the node
     * ids (the stream names) of the user's nodes stay. */
    for (size_t i = 0, n0 = t->n; i < n0; i++) {
        gale_tstream_t *s = t->nodes[i];
        if ((s->kind != N_AGG && s->kind != N_PERSIST) || s->reducer ||
            s->parents[0]->kind == N_SPOUT)
            continue;
        gale_tstream_t *pa = node_new(t, N_PAGG, "partial_aggregate", s->parents[0]);
        if (!pa || !(pa->symbol = strdup(s->symbol))) return GALE_ENOMEM;
        pa->partial = GALE__TOP_F_PARTIAL_OUT;
        fl_copy(&pa->in, &s->in);
        fl_copy(&pa->group, &s->group);
        fl_copy(&pa->fields, &s->fields); /* the group fields, then the result's */
        s->parents[0] = pa;
        fl_free(&s->in);
        s->in.f[s->in.n++] = strdup(s->fields.f[s->fields.n - 1]);
        s->partial = GALE__TOP_F_PARTIAL_IN;
    }
    for (size_t i = 0; i < t->n; i++) t->nodes[i]->starts = starts_group(t->nodes[i]);
    int prc = project_boundaries(t);
    if (prc) return prc;
    /* groups: spout0 is group 0 (named spout0), bolts b-0.. */
    int n_bolts = 0;
    for (size_t i = 0; i < t->n; i++) {
        gale_tstream_t *s = t->nodes[i];
        if (s->starts) {
            if (n_groups == MAX_GROUPS) {
                snprintf(err, errlen, "trident: more than %d bolts", MAX_GROUPS);
                return GALE_EINVAL;
            }
            group_t *g = &groups[n_groups];
            memset(g, 0, sizeof *g);
            if (s->kind == N_SPOUT)
                snprintf(g->id, sizeof g->id, "spout%d", s->bg);
            else
                snprintf(g->id, sizeof g->id, "b-%d", n_bolts++);
            g->first = s->id;
            g->bg = s->bg;
            s->grp = n_groups++;
        } else {
            s->grp = s->parents[0]->grp;
        }
        group_t *g = &groups[s->grp];
        s->op = g->n_ops++;
        if (s->hint > g->parallelism) g->parallelism = s->hint;
        if (s->kind == N_PERSIST || s->kind == N_PPERSIST) g->committer = true;
    }
    /* A bolt whose input is global gets every tuple in one task; its other
     * tasks (from a later node's hint) would only add an empty partition's
     * result to each batch, e.g. a [0] beside a global count's [n]. */
    for (int gi = 0; gi < n_groups; gi++)
        if (global_input(t->nodes[groups[gi].first])) groups[gi].parallelism = 1;
    /* outputs: a node with a child in another group */
    for (size_t i = 0; i < t->n; i++) {
        gale_tstream_t *s = t->nodes[i];
        for (size_t k = 0; k < s->n_parents; k++) {
            gale_tstream_t *p = s->parents[k];
            if (p->grp != s->grp && p->out_idx < 0) {
                p->out_idx = groups[p->grp].n_outputs++;
                groups[p->grp].n_ops++; /* its OUT op */
            }
        }
    }
    static varena_t arena;
    /* components */
    gale_component_t *coords[MAX_GROUPS / 2];
    char coord_ids[MAX_GROUPS / 2][32];
    for (int k = 0; k < t->n_spouts; k++) {
        snprintf(coord_ids[k], sizeof coord_ids[k], GALE__TRIDENT_COORD_PREFIX "%d", k);
        coords[k] = gale_builder_spout(t->b, coord_ids[k], &gale_trident_coordinator_spout,
                                       "gale_trident_coordinator_spout", 1);
        if (!coords[k]) return GALE_ENOMEM;
    }
    for (int gi = 0; gi < n_groups; gi++) {
        group_t *g = &groups[gi];
        gale_tstream_t *first = t->nodes[g->first];
        bool is_spout = first->kind == N_SPOUT;
        int par = g->parallelism ? g->parallelism : 1;
        gale_component_t *c;
        if (is_spout && first->drpc_fn)
            c = gale_builder_bolt(t->b, g->id, &gale_trident_drpc_spout_bolt,
                                  "gale_trident_drpc_spout_bolt", par);
        else if (is_spout)
            c = gale_builder_bolt(t->b, g->id, &gale_trident_spout_bolt, "gale_trident_spout_bolt",
                                  par);
        else
            c = gale_builder_bolt(t->b, g->id, &gale_trident_bolt, "gale_trident_bolt", par);
        if (!c) return GALE_ENOMEM;
        arena.n = 0;
        arena.full = false;
        /* ops, in node order, OUT ops after their node */
        gale_value_t *ops = va(&arena, (size_t)g->n_ops);
        gale_value_t *inputs = va(&arena, 8 * 1 + 64);
        size_t n_inputs = 0;
        gale_value_t *outputs = va(&arena, (size_t)g->n_outputs + 1);
        int op_at = 0;
        for (size_t i = 0; i < t->n; i++) {
            gale_tstream_t *s = t->nodes[i];
            if (s->grp != gi) continue;
            s->op = op_at; /* renumbered with the OUT ops in between */
            int parent = -1;
            const field_list_t *pf = &s->fields;
            if (s->kind != N_SPOUT && s->kind != N_MERGE) {
                gale_tstream_t *p = s->parents[0];
                pf = &p->fields;
                if (p->grp == gi) parent = p->op;
            }
            int info_in = -1; /* N_DRPC_RET: the input of the return info */
            if (s->kind != N_SPOUT && s->grp != (s->parents[0]->grp)) {
                /* this node is an input's entry: one input per parent */
                for (size_t k = 0; k < s->n_parents; k++) {
                    gale_tstream_t *p = s->parents[k];
                    if (s->kind == N_DRPC_RET && p->kind == N_SPOUT) info_in = (int)n_inputs;
                    char stream[32];
                    snprintf(stream, sizeof stream, "s%d", p->id);
                    gale_value_t *in = va(&arena, 3);
                    in[0] = gale_str(groups[p->grp].id);
                    in[1] = gale_str(strdup(stream)); /* freed below */
                    in[2] = gale_int(op_at);
                    inputs[n_inputs++] = gale_array(in, 3);
                    subscribe(c, groups[p->grp].id, stream, s, p);
                    char cs[48];
                    snprintf(cs, sizeof cs, GALE__TRIDENT_COUNT_PREFIX "%s", stream);
                    gale_direct_grouping(c, groups[p->grp].id, cs);
                }
            }
            int idx[GALE__TRIDENT_MAX_FIELDS], gidx[GALE__TRIDENT_MAX_FIELDS];
            size_t n_idx = 0, n_gidx = 0;
            if (s->kind == N_PROJECT || s->kind == N_EACH || s->kind == N_MAP ||
                s->kind == N_FLAT_MAP || s->kind == N_FILTER || s->kind == N_PAGG ||
                s->kind == N_AGG || s->kind == N_PERSIST || s->kind == N_PPERSIST ||
                s->kind == N_QUERY)
                n_idx = resolve_idx(&s->in, pf, idx);
            if (s->kind == N_PAGG || s->kind == N_AGG || s->kind == N_PERSIST ||
                s->kind == N_PPERSIST)
                n_gidx = resolve_idx(&s->group, pf, gidx);
            size_t n_out = (s->kind == N_EACH || s->kind == N_QUERY) ? s->fields.n - pf->n
                           : s->kind == N_DRPC_RET                   ? 0
                                                                     : s->fields.n;
            gale_value_t *op = va(&arena, 9);
            op[0] = gale_int(op_kind(s));
            op[1] = gale_int(parent);
            op[2] = (s->kind == N_SPOUT) ? gale_nil() : vstr_or_nil(s->symbol);
            op[3] = int_list(&arena, idx, n_idx);
            op[4] = gale_int((int64_t)n_out);
            op[5] = int_list(&arena, gidx, n_gidx);
            if (s->kind == N_PERSIST || s->kind == N_PPERSIST || s->kind == N_QUERY) {
                gale_value_t *sp = va(&arena, 4);
                sp[0] = gale_int(s->spec.kind);
                sp[1] = vstr_or_nil(s->spec_strs[0]);
                sp[2] = vstr_or_nil(s->spec_strs[1]);
                sp[3] = vstr_or_nil(s->spec_strs[2]);
                op[6] = gale_array(sp, 4);
            } else {
                op[6] = gale_nil();
            }
            op[7] = gale_int(s->kind == N_DRPC_RET ? info_in : -1);
            op[8] = gale_int(s->partial);
            ops[op_at++] = gale_array(op, s->partial ? 9 : 8);
            if (s->out_idx >= 0) {
                /* the OUT op and its output's subscribers */
                gale_value_t *o = va(&arena, 8);
                o[0] = gale_int(GALE__TOP_OUT);
                o[1] = gale_int(s->op);
                o[2] = gale_nil();
                o[3] = gale_array(NULL, 0);
                o[4] = gale_int(0);
                o[5] = gale_array(NULL, 0);
                o[6] = gale_nil();
                o[7] = gale_int(s->out_idx);
                ops[op_at++] = gale_array(o, 8);
                char stream[32];
                snprintf(stream, sizeof stream, "s%d", s->id);
                gale_value_t *subs = va(&arena, t->n);
                size_t n_subs = 0;
                for (size_t j = 0; j < t->n; j++) {
                    gale_tstream_t *c2 = t->nodes[j];
                    for (size_t k = 0; k < c2->n_parents; k++)
                        if (c2->parents[k] == s && c2->grp != gi) {
                            bool dup = false;
                            for (size_t q = 0; q < n_subs; q++)
                                if (strcmp(subs[q].u.s, groups[c2->grp].id) == 0) dup = true;
                            if (!dup) subs[n_subs++] = gale_str(groups[c2->grp].id);
                        }
                }
                gale_value_t *fv = va(&arena, s->fields.n + 1);
                for (size_t k = 0; k < s->fields.n; k++) fv[k] = gale_str(s->fields.f[k]);
                gale_value_t *ov = va(&arena, 3);
                ov[0] = gale_str(strdup(stream));
                ov[1] = gale_array(subs, n_subs);
                ov[2] = gale_array(fv, s->fields.n);
                outputs[s->out_idx] = gale_array(ov, 3);
            }
        }
        gale_value_t spv = gale_nil();
        gale_value_t spa[2];
        if (is_spout) {
            spa[0] = gale_str(first->symbol ? first->symbol : "");
            spa[1] = gale_int((int64_t)first->fields.n);
            spv = gale_array(spa, 2);
            gale_all_grouping(c, coord_ids[g->bg], GALE__TRIDENT_BATCH_STREAM);
        }
        if (g->committer) gale_all_grouping(c, coord_ids[g->bg], GALE__TRIDENT_COMMIT_STREAM);
        gale_value_t plan[6] = {gale_int(1),
                                gale_str(spouts[g->bg]->txid ? spouts[g->bg]->txid : ""),
                                gale_array(inputs, n_inputs),
                                gale_array(ops, (size_t)op_at),
                                gale_array(outputs, (size_t)g->n_outputs),
                                spv};
        int rc = arena.full
                     ? GALE_ERANGE
                     : gale_component_conf_set(c, GALE__TRIDENT_PLAN_KEY, gale_array(plan, 6));
        /* free the stream names strdup'ed above */
        for (size_t k = 0; k < n_inputs; k++) free((char *)inputs[k].u.a[1].u.s);
        for (int k = 0; k < g->n_outputs; k++) free((char *)outputs[k].u.a[0].u.s);
        if (rc) {
            snprintf(err, errlen, "trident: bolt %s's plan is too large (%s)", g->id,
                     gale_strerror(rc));
            return rc;
        }
        /* node confs (e.g. file.path of the spout) */
        for (size_t i = 0; i < t->n; i++) {
            gale_tstream_t *s = t->nodes[i];
            if (s->grp != gi || !s->conf) continue;
            for (size_t k = 0; k < gale_conf_count(s->conf); k++) {
                const gale_value_t *v;
                const char *key = gale_conf_key_at(s->conf, k, &v);
                gale_component_conf_set(c, key, *v);
            }
        }
    }
    /* the coordinators' plans */
    for (int k = 0; k < t->n_spouts; k++) {
        gale_value_t comm[MAX_GROUPS];
        size_t n_comm = 0;
        for (int gi = 0; gi < n_groups; gi++)
            if (groups[gi].committer && groups[gi].bg == k)
                comm[n_comm++] = gale_str(groups[gi].id);
        char spout_id[32];
        snprintf(spout_id, sizeof spout_id, "spout%d", k);
        gale_value_t cplan[4] = {gale_int(1), gale_str(spouts[k]->txid ? spouts[k]->txid : ""),
                                 gale_str(spout_id), gale_array(comm, n_comm)};
        int rc = gale_component_conf_set(coords[k], GALE__TRIDENT_PLAN_KEY, gale_array(cplan, 4));
        if (rc) return rc;
    }
    return 0;
}

int gale_trident_build(gale_trident_t *t, char *err, size_t errlen) {
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!t) {
        snprintf(err, errlen, "trident: no layer (gale_trident_new returned NULL: out of memory)");
        return GALE_ENOMEM;
    }
    int rc;
    if (t->failed) {
        snprintf(err, errlen, "%s", t->err);
        rc = GALE_EINVAL;
    } else {
        rc = compile(t, err, errlen);
    }
    /* the submit must fail too when the entry ignores this result */
    if (rc) gale__builder_fail(t->b, rc, err);
    gale_trident_destroy(t);
    return rc;
}
