/*
 * builder.c — the public builder API (gale.h "Components", "Building a
 * topology") and gale__builder_finish, which turns a builder into a
 * gale__topology_t.
 *
 * Building code is written like Storm's (no error checks after each call),
 * so every mistake made while building — a duplicate id, a parallelism
 * below 1, a malformed field list, running out of memory — is remembered
 * in the builder and the first one is reported by gale__builder_finish.
 * Component handles are allocated one by one so a handle stays valid while
 * more components are added.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "topology/topology.h"

struct gale_component {
    gale_builder_t *b;
    char *id;
    bool is_spout;
    const void *impl; /* gale_spout_t * or gale_bolt_t * */
    char *symbol;
    int parallelism;
    int tasks; /* used when tasks_set, else the parallelism */
    bool tasks_set;
    gale_conf_t *conf;
    gale__input_t *inputs;
    size_t n_inputs, cap_inputs;
};

struct gale_builder {
    gale_component_t **comps;
    size_t n, cap;
    int err;       /* first remembered error, 0 when none */
    char msg[512]; /* its one-line message */
};

struct gale_declarer {
    gale__component_t *c; /* streams are appended here */
    size_t cap_streams;
    int err; /* first error, reported by finish with the component's id */
    char msg[400];
};

static void remember(gale_builder_t *b, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void remember(gale_builder_t *b, int code, const char *fmt, ...) {
    if (!b || b->err) return; /* the first error is the useful one */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->msg, sizeof b->msg, fmt, ap);
    va_end(ap);
    b->err = code;
}

void gale__builder_fail(gale_builder_t *b, int code, const char *msg) {
    remember(b, code, "%s", msg);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void free_strv(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/*
 * Split "a, b,c" into trimmed names. NULL or an all-blank string is an
 * empty list. Returns 0, GALE_EINVAL with a reason in why (an empty name
 * between commas, a name with blanks or control characters inside) or
 * GALE_ENOMEM.
 */
static int split_fields(const char *spec, char ***out, size_t *n_out, char *why, size_t whylen) {
    *out = NULL;
    *n_out = 0;
    if (!spec) return 0;
    const char *p = spec;
    while (isspace((unsigned char)*p)) p++;
    if (!*p) return 0;

    size_t n = 1;
    for (const char *q = spec; *q; q++)
        if (*q == ',') n++;
    char **v = calloc(n, sizeof *v);
    if (!v) return GALE_ENOMEM;

    size_t i = 0;
    p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && isspace((unsigned char)*s)) s++;
        while (e > s && isspace((unsigned char)e[-1])) e--;
        if (s == e) {
            set_err(why, whylen, "empty field name in \"%s\"", spec);
            free_strv(v, i);
            return GALE_EINVAL;
        }
        for (const char *c = s; c < e; c++) {
            if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c)) {
                set_err(why, whylen,
                        "field name '%.*s' in \"%s\" contains a blank or control character",
                        (int)(e - s), s, spec);
                free_strv(v, i);
                return GALE_EINVAL;
            }
        }
        v[i] = strndup(s, (size_t)(e - s));
        if (!v[i]) {
            free_strv(v, i);
            return GALE_ENOMEM;
        }
        i++;
        if (!*end) break;
        p = end + 1;
    }
    *out = v;
    *n_out = i;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Builder and components                                               */
/* ------------------------------------------------------------------ */

gale_builder_t *gale_builder_new(void) {
    return calloc(1, sizeof(gale_builder_t));
}

static void input_free(gale__input_t *in) {
    free(in->source);
    free(in->stream);
    free_strv(in->fields, in->n_fields);
    free(in->custom_symbol);
}

static void component_free(gale_component_t *c) {
    if (!c) return;
    free(c->id);
    free(c->symbol);
    gale_conf_destroy(c->conf);
    for (size_t i = 0; i < c->n_inputs; i++) input_free(&c->inputs[i]);
    free(c->inputs);
    free(c);
}

void gale_builder_destroy(gale_builder_t *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n; i++) component_free(b->comps[i]);
    free(b->comps);
    free(b);
}

static gale_component_t *add_component(gale_builder_t *b, const char *id, bool is_spout,
                                       const void *impl, const char *symbol, int parallelism) {
    if (!b) return NULL;
    const char *kind = is_spout ? "spout" : "bolt";
    if (!id) {
        remember(b, GALE_EINVAL, "a %s has a NULL id: give every component a non-empty id", kind);
        id = "";
    }
    for (size_t i = 0; i < b->n; i++) {
        if (strcmp(b->comps[i]->id, id) == 0) {
            remember(b, GALE_EINVAL,
                     "component '%s' is defined twice: component ids must be unique", id);
            break;
        }
    }
    if (parallelism < 1)
        remember(b, GALE_EINVAL, "component '%s': parallelism %d must be at least 1", id,
                 parallelism);
    if (!symbol || !*symbol)
        remember(b, GALE_EINVAL,
                 "component '%s': no implementation symbol — add it with GALE_SPOUT/GALE_BOLT", id);
    if (!impl)
        remember(b, GALE_EINVAL,
                 "component '%s': the %s implementation is NULL — pass the exported struct", id,
                 kind);

    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        gale_component_t **nc = realloc(b->comps, cap * sizeof *nc);
        if (!nc) goto oom;
        b->comps = nc;
        b->cap = cap;
    }
    gale_component_t *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    c->b = b;
    c->is_spout = is_spout;
    c->impl = impl;
    c->parallelism = parallelism;
    c->id = strdup(id);
    c->symbol = strdup(symbol ? symbol : "");
    c->conf = gale_conf_new();
    if (!c->id || !c->symbol || !c->conf) {
        component_free(c);
        goto oom;
    }
    b->comps[b->n++] = c;
    return c;
oom:
    remember(b, GALE_ENOMEM, "out of memory while adding component '%s'", id);
    return NULL;
}

gale_component_t *gale_builder_spout(gale_builder_t *b, const char *id, const gale_spout_t *impl,
                                     const char *symbol, int parallelism) {
    return add_component(b, id, true, impl, symbol, parallelism);
}

gale_component_t *gale_builder_bolt(gale_builder_t *b, const char *id, const gale_bolt_t *impl,
                                    const char *symbol, int parallelism) {
    return add_component(b, id, false, impl, symbol, parallelism);
}

void gale_component_set_tasks(gale_component_t *c, int tasks) {
    if (!c) return;
    /* Checked by finish, so a later call can still correct it. */
    c->tasks = tasks;
    c->tasks_set = true;
}

static int conf_result(gale_component_t *c, const char *key, int rc) {
    if (rc < 0)
        remember(c->b, rc, "component '%s': cannot set conf key '%s': %s", c->id,
                 key ? key : "(null)", gale_strerror(rc));
    return rc;
}

int gale_component_conf_set(gale_component_t *c, const char *key, gale_value_t v) {
    if (!c) return GALE_EINVAL;
    if (!key) return conf_result(c, key, GALE_EINVAL);
    return conf_result(c, key, gale_conf_set(c->conf, key, v));
}

int gale_component_conf_set_str(gale_component_t *c, const char *key, const char *v) {
    if (!c) return GALE_EINVAL;
    if (!key || !v) return conf_result(c, key, GALE_EINVAL);
    return conf_result(c, key, gale_conf_set_str(c->conf, key, v));
}

int gale_component_conf_set_int(gale_component_t *c, const char *key, int64_t v) {
    if (!c) return GALE_EINVAL;
    if (!key) return conf_result(c, key, GALE_EINVAL);
    return conf_result(c, key, gale_conf_set_int(c->conf, key, v));
}

int gale_component_conf_set_bool(gale_component_t *c, const char *key, bool v) {
    if (!c) return GALE_EINVAL;
    if (!key) return conf_result(c, key, GALE_EINVAL);
    return conf_result(c, key, gale_conf_set_bool(c->conf, key, v));
}

int gale_component_conf_set_double(gale_component_t *c, const char *key, double v) {
    if (!c) return GALE_EINVAL;
    if (!key) return conf_result(c, key, GALE_EINVAL);
    return conf_result(c, key, gale_conf_set_double(c->conf, key, v));
}

/* ------------------------------------------------------------------ */
/* Groupings                                                            */
/* ------------------------------------------------------------------ */

static void subscribe(gale_component_t *c, const char *src, const char *stream, gale__grouping_t g,
                      const char *fields, const char *custom_symbol) {
    if (!c) return;
    const char *gname = gale__grouping_name(g);
    if (!src) {
        remember(c->b, GALE_EINVAL,
                 "component '%s': %s grouping with a NULL source component: name the component "
                 "to subscribe to",
                 c->id, gname);
        return;
    }
    if (!stream) stream = GALE_DEFAULT_STREAM;

    char **fv = NULL;
    size_t nf = 0;
    if (g == GALE_GROUPING_FIELDS || g == GALE_GROUPING_PARTIAL_KEY) {
        char why[256];
        int rc = split_fields(fields, &fv, &nf, why, sizeof why);
        if (rc == GALE_ENOMEM) goto oom;
        if (rc < 0) {
            remember(c->b, rc, "component '%s': %s grouping on '%s:%s': %s", c->id, gname, src,
                     stream, why);
            return;
        }
        if (nf == 0) {
            remember(c->b, GALE_EINVAL,
                     "component '%s': %s grouping on '%s:%s' names no fields: list the "
                     "grouping fields, e.g. \"word\"",
                     c->id, gname, src, stream);
            return;
        }
    }
    if (g == GALE_GROUPING_CUSTOM && (!custom_symbol || !*custom_symbol)) {
        remember(c->b, GALE_EINVAL,
                 "component '%s': custom grouping on '%s:%s' has no symbol — use "
                 "GALE_CUSTOM_GROUPING",
                 c->id, src, stream);
        return;
    }

    if (c->n_inputs == c->cap_inputs) {
        size_t cap = c->cap_inputs ? c->cap_inputs * 2 : 4;
        gale__input_t *ni = realloc(c->inputs, cap * sizeof *ni);
        if (!ni) goto oom;
        c->inputs = ni;
        c->cap_inputs = cap;
    }
    gale__input_t in = {0};
    in.grouping = g;
    in.fields = fv;
    in.n_fields = nf;
    in.source = strdup(src);
    in.stream = strdup(stream);
    if (g == GALE_GROUPING_CUSTOM) in.custom_symbol = strdup(custom_symbol);
    fv = NULL;
    if (!in.source || !in.stream || (g == GALE_GROUPING_CUSTOM && !in.custom_symbol)) {
        input_free(&in);
        goto oom;
    }
    c->inputs[c->n_inputs++] = in;
    return;
oom:
    free_strv(fv, nf);
    remember(c->b, GALE_ENOMEM, "component '%s': out of memory while adding an input", c->id);
}

void gale_shuffle_grouping(gale_component_t *c, const char *src, const char *stream) {
    subscribe(c, src, stream, GALE_GROUPING_SHUFFLE, NULL, NULL);
}

void gale_fields_grouping(gale_component_t *c, const char *src, const char *stream,
                          const char *fields) {
    subscribe(c, src, stream, GALE_GROUPING_FIELDS, fields, NULL);
}

void gale_all_grouping(gale_component_t *c, const char *src, const char *stream) {
    subscribe(c, src, stream, GALE_GROUPING_ALL, NULL, NULL);
}

void gale_global_grouping(gale_component_t *c, const char *src, const char *stream) {
    subscribe(c, src, stream, GALE_GROUPING_GLOBAL, NULL, NULL);
}

void gale_none_grouping(gale_component_t *c, const char *src, const char *stream) {
    subscribe(c, src, stream, GALE_GROUPING_NONE, NULL, NULL);
}

void gale_direct_grouping(gale_component_t *c, const char *src, const char *stream) {
    subscribe(c, src, stream, GALE_GROUPING_DIRECT, NULL, NULL);
}

void gale_local_or_shuffle_grouping(gale_component_t *c, const char *src, const char *stream) {
    subscribe(c, src, stream, GALE_GROUPING_LOCAL_OR_SHUFFLE, NULL, NULL);
}

void gale_partial_key_grouping(gale_component_t *c, const char *src, const char *stream,
                               const char *fields) {
    subscribe(c, src, stream, GALE_GROUPING_PARTIAL_KEY, fields, NULL);
}

void gale_custom_grouping(gale_component_t *c, const char *src, const char *stream,
                          const gale_grouping_t *impl, const char *symbol) {
    (void)impl; /* resolved again by symbol wherever the topology runs */
    subscribe(c, src, stream, GALE_GROUPING_CUSTOM, NULL, symbol);
}

/* ------------------------------------------------------------------ */
/* Declaring streams                                                    */
/* ------------------------------------------------------------------ */

static int declare_fail(gale_declarer_t *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int declare_fail(gale_declarer_t *d, int code, const char *fmt, ...) {
    if (!d->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
        d->err = code;
    }
    return code;
}

int gale_declare_stream(gale_declarer_t *d, const char *stream, const char *fields, bool direct) {
    if (!d) return GALE_EINVAL;
    if (!stream) stream = GALE_DEFAULT_STREAM;
    if (!*stream)
        return declare_fail(d, GALE_EINVAL, "declares a stream with an empty id: name it");
    for (const char *p = stream; *p; p++) {
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) || *p == ':')
            return declare_fail(d, GALE_EINVAL,
                                "stream id '%s' contains a blank, control character or ':': use "
                                "letters, digits, '.', '_' or '-'",
                                stream);
    }
    gale__component_t *c = d->c;
    for (size_t i = 0; i < c->n_streams; i++)
        if (strcmp(c->streams[i].id, stream) == 0)
            return declare_fail(d, GALE_EEXIST,
                                "stream '%s' is declared twice: stream ids must be unique within "
                                "a component",
                                stream);

    char why[256];
    char **fv;
    size_t nf;
    int rc = split_fields(fields, &fv, &nf, why, sizeof why);
    if (rc == GALE_ENOMEM)
        return declare_fail(d, rc, "out of memory declaring stream '%s'", stream);
    if (rc < 0) return declare_fail(d, rc, "stream '%s': %s", stream, why);
    for (size_t i = 0; i < nf; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fv[i], fv[j]) == 0) {
                declare_fail(d, GALE_EINVAL,
                             "stream '%s' declares field '%s' twice: field names must be unique",
                             stream, fv[i]);
                free_strv(fv, nf);
                return GALE_EINVAL;
            }
        }
    }

    if (c->n_streams == d->cap_streams) {
        size_t cap = d->cap_streams ? d->cap_streams * 2 : 2;
        gale__stream_t *ns = realloc(c->streams, cap * sizeof *ns);
        if (!ns) {
            free_strv(fv, nf);
            return declare_fail(d, GALE_ENOMEM, "out of memory declaring stream '%s'", stream);
        }
        c->streams = ns;
        d->cap_streams = cap;
    }
    char *id = strdup(stream);
    if (!id) {
        free_strv(fv, nf);
        return declare_fail(d, GALE_ENOMEM, "out of memory declaring stream '%s'", stream);
    }
    gale__stream_t *s = &c->streams[c->n_streams++];
    s->id = id;
    s->direct = direct;
    s->fields = fv;
    s->n_fields = nf;
    return 0;
}

int gale_declare(gale_declarer_t *d, const char *fields) {
    return gale_declare_stream(d, GALE_DEFAULT_STREAM, fields, false);
}

/* ------------------------------------------------------------------ */
/* Finish                                                               */
/* ------------------------------------------------------------------ */

int gale__builder_finish(gale_builder_t *b, const char *name, gale_conf_t *conf,
                         gale__topology_t **out, char *err, size_t errlen) {
    return gale__builder_finish_layered(b, name, conf, NULL, NULL, out, err, errlen);
}

/* The conf a component's declare() sees: the same layers as the runtime
 * merges for prepare()/open() (worker/runtime.c). NULL on out of memory. */
static gale_conf_t *declare_conf(const gale_conf_t *base, const gale_conf_t *topo,
                                 const gale_conf_t *comp, const gale_conf_t *overrides) {
    gale_conf_t *c = gale_conf_new();
    const gale_conf_t *layers[] = {base, topo, comp, overrides};
    if (!c || gale__conf_set_defaults(c)) goto fail;
    for (size_t i = 0; i < 4; i++)
        if (layers[i] && gale__conf_merge(c, layers[i])) goto fail;
    return c;
fail:
    gale_conf_destroy(c);
    return NULL;
}

int gale__builder_finish_layered(gale_builder_t *b, const char *name, gale_conf_t *conf,
                                 const gale_conf_t *base, const gale_conf_t *overrides,
                                 gale__topology_t **out, char *err, size_t errlen) {
    int rc = 0;
    gale__topology_t *t = NULL;
    if (out) *out = NULL;
    if (!b || !out) {
        set_err(err, errlen, "no topology builder: create one with gale_builder_new()");
        rc = GALE_EINVAL;
        goto done;
    }
    if (b->err) {
        set_err(err, errlen, "%s", b->msg);
        rc = b->err;
        goto done;
    }
    for (size_t i = 0; i < b->n; i++) {
        const gale_component_t *bc = b->comps[i];
        if (bc->tasks_set && bc->tasks < bc->parallelism) {
            set_err(err, errlen, "component '%s': %d tasks is fewer than its parallelism %d",
                    bc->id, bc->tasks, bc->parallelism);
            rc = GALE_EINVAL;
            goto done;
        }
    }
    t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->name = strdup(name ? name : "");
    if (!t->name) goto oom;
    t->conf = conf ? conf : gale_conf_new();
    conf = NULL;
    if (!t->conf) goto oom;
    if (b->n) {
        t->components = calloc(b->n, sizeof *t->components);
        if (!t->components) goto oom;
    }

    for (size_t i = 0; i < b->n; i++) {
        gale_component_t *bc = b->comps[i];
        gale__component_t *c = &t->components[t->n_components++];
        /* Move the builder's pieces: the builder is consumed anyway. */
        c->id = bc->id;
        bc->id = NULL;
        c->symbol = bc->symbol;
        bc->symbol = NULL;
        c->conf = bc->conf;
        bc->conf = NULL;
        c->inputs = bc->inputs;
        c->n_inputs = bc->n_inputs;
        bc->inputs = NULL;
        bc->n_inputs = 0;
        c->is_spout = bc->is_spout;
        c->parallelism = bc->parallelism;
        c->tasks = bc->tasks_set ? bc->tasks : bc->parallelism;

        void (*declare)(gale_declarer_t *, const gale_conf_t *) = NULL;
        if (bc->impl)
            declare = bc->is_spout ? ((const gale_spout_t *)bc->impl)->declare
                                   : ((const gale_bolt_t *)bc->impl)->declare;
        if (declare) {
            gale_declarer_t d = {.c = c};
            gale_conf_t *dc = declare_conf(base, t->conf, c->conf, overrides);
            if (!dc) goto oom;
            declare(&d, dc);
            gale_conf_destroy(dc);
            if (d.err) {
                set_err(err, errlen, "component '%s': %s", c->id, d.msg);
                rc = d.err;
                goto done;
            }
        }
    }
    *out = t;
    t = NULL;
    goto done;
oom:
    set_err(err, errlen, "out of memory while finishing topology '%s'", name ? name : "");
    rc = GALE_ENOMEM;
done:
    gale__topology_destroy(t);
    gale_conf_destroy(conf);
    gale_builder_destroy(b);
    return rc;
}

int gale__builder_check_impls(const gale_builder_t *b, gale__resolve_fn resolve, void *ud,
                              char *err, size_t errlen) {
    for (size_t i = 0; b && i < b->n; i++) {
        const gale_component_t *c = b->comps[i];
        const void *found = c->impl && c->symbol ? resolve(ud, c->symbol) : NULL;
        if (found && found != c->impl) {
            set_err(err, errlen,
                    "component '%s': symbol '%s' is not the %s passed with it — add components "
                    "with GALE_SPOUT/GALE_BOLT, which record the matching symbol",
                    c->id, c->symbol, c->is_spout ? "spout" : "bolt");
            return GALE_EINVAL;
        }
    }
    return 0;
}
