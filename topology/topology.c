/*
 * topology.c — the topology model's life after building: destroy,
 * validation (DESIGN §2 "validation at submit time, never at run time"),
 * task assignment and lookups.
 *
 * Validation is where a user learns what is wrong with a topology, so every
 * message is one line that names the component, stream or field and says
 * what to change. It runs on builder output and on unpacked topologies
 * alike (nimbus re-validates what it receives), so it trusts nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "topology/topology.h"

/* Limits shared with serialize.c (unpack refuses more) and grouping.c. */
#define MAX_COUNT           100000 /* parallelism and tasks per component */
#define MAX_COMPONENTS      10000  /* keeps the total task count within int */
#define MAX_GROUPING_FIELDS 64     /* grouping.c hashes them from a stack array */

static const char *const grouping_names[GALE_GROUPING__COUNT] = {
    [GALE_GROUPING_SHUFFLE] = "shuffle",
    [GALE_GROUPING_FIELDS] = "fields",
    [GALE_GROUPING_ALL] = "all",
    [GALE_GROUPING_GLOBAL] = "global",
    [GALE_GROUPING_NONE] = "none",
    [GALE_GROUPING_DIRECT] = "direct",
    [GALE_GROUPING_LOCAL_OR_SHUFFLE] = "local_or_shuffle",
    [GALE_GROUPING_PARTIAL_KEY] = "partial_key",
    [GALE_GROUPING_CUSTOM] = "custom",
};

const char *gale__grouping_name(gale__grouping_t g) {
    if ((int)g < 0 || g >= GALE_GROUPING__COUNT) return "?";
    return grouping_names[g];
}

static void strv_free(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void gale__topology_destroy(gale__topology_t *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_components; i++) {
        gale__component_t *c = &t->components[i];
        free(c->id);
        free(c->symbol);
        gale_conf_destroy(c->conf);
        for (size_t s = 0; s < c->n_streams; s++) {
            free(c->streams[s].id);
            strv_free(c->streams[s].fields, c->streams[s].n_fields);
        }
        free(c->streams);
        for (size_t k = 0; k < c->n_inputs; k++) {
            gale__input_t *in = &c->inputs[k];
            free(in->source);
            free(in->stream);
            strv_free(in->fields, in->n_fields);
            free(in->custom_symbol);
        }
        free(c->inputs);
    }
    free(t->components);
    gale_conf_destroy(t->conf);
    free(t->name);
    free(t);
}

/* ------------------------------------------------------------------ */
/* Lookups                                                              */
/* ------------------------------------------------------------------ */

const gale__component_t *gale__topology_component(const gale__topology_t *t, const char *id) {
    if (!t || !id) return NULL;
    for (size_t i = 0; i < t->n_components; i++)
        if (t->components[i].id && strcmp(t->components[i].id, id) == 0) return &t->components[i];
    return NULL;
}

const gale__component_t *gale__topology_task_component(const gale__topology_t *t, int task) {
    if (!t || task < 1) return NULL;
    /* After assign_tasks components are sorted with ascending task ranges. */
    size_t lo = 0, hi = t->n_components;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const gale__component_t *c = &t->components[mid];
        if (task < c->first_task)
            hi = mid;
        else if (c->first_task > 0 && task - c->first_task < c->tasks)
            return c;
        else
            lo = mid + 1;
    }
    return NULL;
}

const gale__stream_t *gale__component_stream(const gale__component_t *c, const char *stream) {
    if (!c || !stream) return NULL;
    for (size_t i = 0; i < c->n_streams; i++)
        if (c->streams[i].id && strcmp(c->streams[i].id, stream) == 0) return &c->streams[i];
    return NULL;
}

int gale__stream_field_index(const gale__stream_t *s, const char *field) {
    if (!s || !field) return -1;
    for (size_t i = 0; i < s->n_fields; i++)
        if (s->fields[i] && strcmp(s->fields[i], field) == 0) return (int)i;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Task assignment                                                      */
/* ------------------------------------------------------------------ */

static int cmp_component(const void *a, const void *b) {
    const gale__component_t *x = a, *y = b;
    return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

void gale__topology_assign_tasks(gale__topology_t *t) {
    if (!t) return;
    if (t->n_components > 1)
        qsort(t->components, t->n_components, sizeof *t->components, cmp_component);
    /* Validated topologies stay far below INT_MAX; the clamp only keeps an
     * unvalidated one from overflowing. */
    long long next = 1;
    for (size_t i = 0; i < t->n_components; i++) {
        gale__component_t *c = &t->components[i];
        c->first_task = (int)(next > 0x7fffffffLL ? 0x7fffffffLL : next);
        if (c->tasks > 0) next += c->tasks;
    }
    next -= 1;
    t->n_tasks = (int)(next > 0x7fffffffLL ? 0x7fffffffLL : next);
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */
/* ------------------------------------------------------------------ */

/* A small appender so messages can list known names without overflow. */
typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(sbuf_t *b, const char *fmt, ...) {
    if (!b->p || b->cap == 0 || b->len >= b->cap - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    b->len += (size_t)n;
    if (b->len >= b->cap) b->len = b->cap - 1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return GALE_EINVAL;
}

static const char *nz(const char *s) {
    return s ? s : "";
}

static bool reserved(const char *s) {
    return s && s[0] == '_' && s[1] == '_';
}

/* "[a, b]" or "[]" */
static void list_fields(char *buf, size_t cap, const gale__stream_t *s) {
    sbuf_t b = {buf, cap, 0};
    buf[0] = '\0';
    sb_add(&b, "[");
    for (size_t i = 0; i < s->n_fields; i++) sb_add(&b, "%s%s", i ? ", " : "", nz(s->fields[i]));
    sb_add(&b, "]");
}

static int check_name(const gale__topology_t *t, char *err, size_t errlen) {
    if (!t->name || !*t->name)
        return fail(err, errlen,
                    "topology name is empty: name it with letters, digits, '.', '_' or '-'");
    if (strlen(t->name) > GALE_NAME_MAX)
        return fail(err, errlen, "topology name '%.32s...' is %zu bytes long: at most %d", t->name,
                    strlen(t->name), GALE_NAME_MAX);
    for (const char *p = t->name; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return fail(err, errlen,
                        "topology name '%s' contains '%c': use only letters, digits, '.', '_' "
                        "and '-'",
                        t->name, ch);
    }
    return 0;
}

static int check_streams(const gale__component_t *c, char *err, size_t errlen) {
    for (size_t s = 0; s < c->n_streams; s++) {
        const gale__stream_t *st = &c->streams[s];
        if (!st->id || !*st->id)
            return fail(err, errlen, "component '%s': a stream has an empty id: name it", c->id);
        if (reserved(st->id))
            return fail(err, errlen,
                        "component '%s': stream '%s' starts with '__', which is reserved for "
                        "Gale's own streams — rename it",
                        c->id, st->id);
        /* The wire's limits, checked here so one worker and many accept the
         * same topologies (a tuple the wire refuses would be lost between
         * workers only). */
        if (strlen(st->id) > GALE_WIRE_MAX_STREAM_LEN)
            return fail(err, errlen,
                        "component '%s': stream id '%.40s...' is %zu bytes; at most %d are "
                        "allowed — shorten it",
                        c->id, st->id, strlen(st->id), GALE_WIRE_MAX_STREAM_LEN);
        if (st->n_fields > GALE_WIRE_MAX_VALUES)
            return fail(err, errlen,
                        "component '%s': stream '%s' declares %zu fields; at most %d are "
                        "allowed — pack related values into an array or map field",
                        c->id, st->id, st->n_fields, GALE_WIRE_MAX_VALUES);
        for (size_t k = 0; k < s; k++)
            if (strcmp(c->streams[k].id, st->id) == 0)
                return fail(err, errlen,
                            "component '%s': stream '%s' is declared twice: stream ids must be "
                            "unique within a component",
                            c->id, st->id);
        for (size_t f = 0; f < st->n_fields; f++) {
            if (!st->fields[f] || !*st->fields[f])
                return fail(err, errlen,
                            "component '%s': stream '%s' has an empty field name: name every "
                            "field",
                            c->id, st->id);
            for (size_t g = 0; g < f; g++)
                if (strcmp(st->fields[g], st->fields[f]) == 0)
                    return fail(err, errlen,
                                "component '%s': stream '%s' declares field '%s' twice: field "
                                "names must be unique",
                                c->id, st->id, st->fields[f]);
        }
    }
    return 0;
}

static int check_input(const gale__topology_t *t, const gale__component_t *c,
                       const gale__input_t *in, const gale__component_t *src, char *err,
                       size_t errlen) {
    if ((int)in->grouping < 0 || in->grouping >= GALE_GROUPING__COUNT)
        return fail(err, errlen, "component '%s': input with unknown grouping %d", c->id,
                    (int)in->grouping);
    const char *gname = gale__grouping_name(in->grouping);
    if (!in->source || !*in->source)
        return fail(err, errlen, "component '%s': %s grouping names no source component", c->id,
                    gname);
    if (!in->stream || !*in->stream)
        return fail(err, errlen,
                    "component '%s': input from '%s' names no stream: use NULL for \"default\"",
                    c->id, in->source);
    if (!src) {
        char known[256];
        sbuf_t b = {known, sizeof known, 0};
        known[0] = '\0';
        for (size_t i = 0; i < t->n_components; i++)
            sb_add(&b, "%s%s", i ? ", " : "", t->components[i].id);
        return fail(err, errlen, "component '%s': input from unknown component '%s' (known: %s)",
                    c->id, in->source, known);
    }
    if (reserved(in->stream))
        return fail(err, errlen,
                    "component '%s': input from reserved stream '%s:%s': streams starting with "
                    "'__' are Gale's own and cannot be subscribed to",
                    c->id, in->source, in->stream);
    const gale__stream_t *st = gale__component_stream(src, in->stream);
    if (!st) {
        char known[256];
        sbuf_t b = {known, sizeof known, 0};
        known[0] = '\0';
        for (size_t i = 0; i < src->n_streams; i++)
            sb_add(&b, "%s%s", i ? ", " : "", src->streams[i].id);
        return fail(err, errlen,
                    "component '%s': input from unknown stream '%s:%s' ('%s' declares: %s) — "
                    "subscribe to a declared stream",
                    c->id, in->source, in->stream, in->source, src->n_streams ? known : "none");
    }
    if (in->grouping == GALE_GROUPING_FIELDS || in->grouping == GALE_GROUPING_PARTIAL_KEY) {
        if (in->n_fields == 0)
            return fail(err, errlen,
                        "component '%s': %s grouping on '%s:%s' names no fields: list the "
                        "grouping fields",
                        c->id, gname, in->source, in->stream);
        if (in->n_fields > MAX_GROUPING_FIELDS)
            return fail(err, errlen,
                        "component '%s': %s grouping on '%s:%s' uses %zu fields; at most %d are "
                        "supported",
                        c->id, gname, in->source, in->stream, in->n_fields, MAX_GROUPING_FIELDS);
        for (size_t f = 0; f < in->n_fields; f++) {
            if (gale__stream_field_index(st, in->fields[f]) < 0) {
                char decl[256];
                list_fields(decl, sizeof decl, st);
                return fail(err, errlen,
                            "component '%s': %s grouping on '%s' but stream '%s:%s' declares "
                            "fields %s — use one of those",
                            c->id, gname, nz(in->fields[f]), in->source, in->stream, decl);
            }
        }
    }
    if (in->grouping == GALE_GROUPING_DIRECT && !st->direct)
        return fail(err, errlen,
                    "component '%s': direct grouping on stream '%s:%s', which is not direct — "
                    "declare it with direct=true or use another grouping",
                    c->id, in->source, in->stream);
    if (in->grouping != GALE_GROUPING_DIRECT && st->direct)
        return fail(err, errlen,
                    "component '%s': %s grouping on direct stream '%s:%s' — a direct stream "
                    "takes only a direct grouping",
                    c->id, gname, in->source, in->stream);
    if (in->grouping == GALE_GROUPING_CUSTOM && (!in->custom_symbol || !*in->custom_symbol))
        return fail(err, errlen,
                    "component '%s': custom grouping on '%s:%s' has no symbol — use "
                    "GALE_CUSTOM_GROUPING",
                    c->id, in->source, in->stream);
    return 0;
}

/* Component ids sorted, so lookups during validation stay O(log n) even
 * for large generated topologies. */
typedef struct id_ix {
    const char *id;
    size_t i;
} id_ix_t;

static int cmp_id_ix(const void *a, const void *b) {
    return strcmp(((const id_ix_t *)a)->id, ((const id_ix_t *)b)->id);
}

static long find_index(const id_ix_t *ix, size_t n, const char *id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, ix[mid].id);
        if (c == 0) return (long)ix[mid].i;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/*
 * Iterative depth-first search along data flow (source -> subscriber) over
 * a CSR adjacency (off/adj). state: 0 new, 1 on the current path, 2 done.
 * The path is kept so a back edge prints as "a -> b -> a".
 */
static bool find_cycle(const gale__topology_t *t, const size_t *off, const size_t *adj,
                       unsigned char *state, size_t *path, size_t *next, char *err, size_t errlen) {
    size_t n = t->n_components;
    for (size_t root = 0; root < n; root++) {
        if (state[root]) continue;
        size_t depth = 0;
        path[0] = root;
        next[0] = off[root];
        state[root] = 1;
        while (1) {
            size_t v = path[depth];
            if (next[depth] == off[v + 1]) {
                state[v] = 2;
                if (depth == 0) break;
                depth--;
                continue;
            }
            size_t w = adj[next[depth]++];
            if (state[w] == 1) {
                char chain[512];
                sbuf_t b = {chain, sizeof chain, 0};
                chain[0] = '\0';
                size_t start = depth;
                while (path[start] != w) start--;
                for (size_t i = start; i <= depth; i++)
                    sb_add(&b, "%s -> ", t->components[path[i]].id);
                sb_add(&b, "%s", t->components[w].id);
                fail(err, errlen, "topology has a cycle: %s; Gale runs acyclic topologies only",
                     chain);
                return true;
            }
            if (state[w] == 0) {
                state[w] = 1;
                depth++;
                path[depth] = w;
                next[depth] = off[w];
            }
        }
    }
    return false;
}

static int check_components(const gale__topology_t *t, const id_ix_t *ix, char *err,
                            size_t errlen) {
    for (size_t i = 0; i < t->n_components; i++) {
        const gale__component_t *c = &t->components[i];
        if (reserved(c->id))
            return fail(err, errlen,
                        "component '%s': ids starting with '__' are reserved for Gale's own "
                        "components — rename it",
                        c->id);
        /* ids appear in log lines as "<component>:<task>": keep them one
         * printable word without ':' */
        for (const char *p = nz(c->id); *p; p++)
            if ((unsigned char)*p <= ' ' || *p == ':' || *p == 0x7f)
                return fail(err, errlen,
                            "component id '%s' has a space, ':' or control character: use "
                            "letters, digits and punctuation such as '-', '_' or '.'",
                            c->id);
        if (c->parallelism < 1)
            return fail(err, errlen, "component '%s': parallelism %d must be at least 1", c->id,
                        c->parallelism);
        if (c->parallelism > MAX_COUNT)
            return fail(err, errlen, "component '%s': parallelism %d is above the limit %d", c->id,
                        c->parallelism, MAX_COUNT);
        if (c->tasks < c->parallelism)
            return fail(err, errlen, "component '%s': %d tasks is fewer than its parallelism %d",
                        c->id, c->tasks, c->parallelism);
        if (c->tasks > MAX_COUNT)
            return fail(err, errlen, "component '%s': %d tasks is above the limit %d", c->id,
                        c->tasks, MAX_COUNT);
        if (!c->symbol || !*c->symbol)
            return fail(err, errlen,
                        "component '%s': no implementation symbol — add it with "
                        "GALE_SPOUT/GALE_BOLT",
                        c->id);
        int rc = check_streams(c, err, errlen);
        if (rc) return rc;
    }
    for (size_t i = 0; i < t->n_components; i++) {
        const gale__component_t *c = &t->components[i];
        if (c->is_spout && c->n_inputs > 0)
            return fail(err, errlen,
                        "component '%s': a spout cannot subscribe to streams (it has %zu "
                        "input%s) — make it a bolt or remove its groupings",
                        c->id, c->n_inputs, c->n_inputs == 1 ? "" : "s");
        if (!c->is_spout && c->n_inputs == 0)
            return fail(err, errlen,
                        "component '%s': bolt has no input — subscribe it to a stream with a "
                        "grouping, e.g. gale_shuffle_grouping()",
                        c->id);
        for (size_t k = 0; k < c->n_inputs; k++) {
            const gale__input_t *in = &c->inputs[k];
            long s = in->source ? find_index(ix, t->n_components, in->source) : -1;
            int rc = check_input(t, c, in, s < 0 ? NULL : &t->components[s], err, errlen);
            if (rc) return rc;
            /* Twice the same stream would deliver every tuple twice (Storm
             * refuses it too). Inputs per component are few: quadratic. */
            for (size_t j = 0; j < k; j++)
                if (strcmp(c->inputs[j].source, in->source) == 0 &&
                    strcmp(c->inputs[j].stream, in->stream) == 0)
                    return fail(err, errlen,
                                "component '%s' subscribes to stream '%s:%s' twice (%s and %s "
                                "grouping): subscribe once",
                                c->id, in->source, in->stream,
                                gale__grouping_name(c->inputs[j].grouping),
                                gale__grouping_name(in->grouping));
        }
    }
    return 0;
}

/* Build the data-flow graph (source -> subscriber) and look for a cycle. */
static int check_cycles(const gale__topology_t *t, const id_ix_t *ix, char *err, size_t errlen) {
    size_t n = t->n_components, n_edges = 0;
    for (size_t i = 0; i < n; i++) n_edges += t->components[i].n_inputs;
    size_t *off = calloc(n + 1, sizeof *off);
    size_t *adj = calloc(n_edges ? n_edges : 1, sizeof *adj);
    size_t *fill = calloc(n, sizeof *fill);
    size_t *path = calloc(n, sizeof *path);
    size_t *next = calloc(n, sizeof *next);
    unsigned char *state = calloc(n, 1);
    int rc = 0;
    if (!off || !adj || !fill || !path || !next || !state) {
        if (err && errlen) snprintf(err, errlen, "out of memory validating the topology");
        rc = GALE_ENOMEM;
        goto out;
    }
    /* Inputs were checked, so every source resolves. */
    for (size_t w = 0; w < n; w++)
        for (size_t k = 0; k < t->components[w].n_inputs; k++)
            off[find_index(ix, n, t->components[w].inputs[k].source) + 1]++;
    for (size_t v = 0; v < n; v++) off[v + 1] += off[v];
    for (size_t w = 0; w < n; w++) {
        for (size_t k = 0; k < t->components[w].n_inputs; k++) {
            size_t v = (size_t)find_index(ix, n, t->components[w].inputs[k].source);
            adj[off[v] + fill[v]++] = w;
        }
    }
    if (find_cycle(t, off, adj, state, path, next, err, errlen)) rc = GALE_EINVAL;
out:
    free(off);
    free(adj);
    free(fill);
    free(path);
    free(next);
    free(state);
    return rc;
}

static int check_symbols(const gale__topology_t *t, gale__resolve_fn resolve, void *ud, char *err,
                         size_t errlen) {
    for (size_t i = 0; i < t->n_components; i++) {
        const gale__component_t *c = &t->components[i];
        if (!resolve(ud, c->symbol))
            return fail(err, errlen,
                        "component '%s': implementation symbol '%s' not found in the topology "
                        "library or libgale — export it (non-static) and build with -fPIC",
                        c->id, c->symbol);
        for (size_t k = 0; k < c->n_inputs; k++) {
            const gale__input_t *in = &c->inputs[k];
            if (in->grouping == GALE_GROUPING_CUSTOM && !resolve(ud, in->custom_symbol))
                return fail(err, errlen,
                            "component '%s': custom grouping symbol '%s' not found in the "
                            "topology library or libgale — export it (non-static) and build "
                            "with -fPIC",
                            c->id, in->custom_symbol);
        }
    }
    return 0;
}

int gale__topology_validate(const gale__topology_t *t, gale__resolve_fn resolve, void *ud,
                            char *err, size_t errlen) {
    if (!t) return fail(err, errlen, "no topology to validate");
    int rc = check_name(t, err, errlen);
    if (rc) return rc;
    size_t n = t->n_components;
    if (n == 0)
        return fail(err, errlen, "topology '%s' has no components: add at least one spout",
                    t->name);
    if (n > MAX_COMPONENTS)
        return fail(err, errlen, "topology '%s' has %zu components; at most %d are supported",
                    t->name, n, MAX_COMPONENTS);
    for (size_t i = 0; i < n; i++)
        if (!t->components[i].id || !*t->components[i].id)
            return fail(err, errlen, "a component has an empty id: give every component an id");
    for (size_t i = 0; i < n; i++)
        if (strlen(t->components[i].id) > GALE_NAME_MAX)
            return fail(err, errlen, "component id '%.32s...' is %zu bytes long: at most %d",
                        t->components[i].id, strlen(t->components[i].id), GALE_NAME_MAX);

    id_ix_t *ix = malloc(n * sizeof *ix);
    if (!ix) {
        fail(err, errlen, "out of memory validating the topology");
        return GALE_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) ix[i] = (id_ix_t){t->components[i].id, i};
    qsort(ix, n, sizeof *ix, cmp_id_ix);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ix[i - 1].id, ix[i].id) == 0) {
            rc = fail(err, errlen, "component '%s' is defined twice: component ids must be unique",
                      ix[i].id);
            free(ix);
            return rc;
        }
    }
    rc = check_components(t, ix, err, errlen);
    if (!rc) rc = check_cycles(t, ix, err, errlen);
    if (!rc && resolve) rc = check_symbols(t, resolve, ud, err, errlen);
    free(ix);
    return rc;
}
