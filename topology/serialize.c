/*
 * serialize.c — a topology as one msgpack map, the form in which `gale jar`
 * uploads it, nimbus stores it and workers read it (DESIGN §2, §4):
 *
 *   {"name": str, "conf": map,
 *    "components": [{"id": str, "spout": bool, "symbol": str,
 *                    "parallelism": int, "tasks": int, "first_task": int,
 *                    "conf": map,
 *                    "streams": [{"id": str, "direct": bool, "fields": [str]}],
 *                    "inputs": [{"source": str, "stream": str,
 *                                "grouping": "shuffle"|"fields"|...,
 *                                "fields": [str], "custom": str|nil}]}]}
 *
 * Every key is required; unknown keys are skipped so a newer writer can add
 * some. The decoder trusts nothing: before msgpack-c builds objects, a
 * pre-scan checks that every container count fits in the bytes that are
 * left (msgpack-c allocates count * 24 bytes up front, so a 5-byte
 * "array of 4 billion" would otherwise ask for 96 GiB). Then every type,
 * range and required key is checked, and task numbering must be either
 * absent (all first_task 0) or exactly what gale__topology_assign_tasks
 * produces, so a worker can trust task lookups on what it decoded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "topology/topology.h"

/* Same limits as validation (topology.c). */
#define MAX_COUNT      100000
#define MAX_COMPONENTS 10000
#define MAX_TASK_ID    0x7fffffff
/* msgpack-c's own parse stack (MSGPACK_EMBED_STACK_SIZE) holds 32. */
#define PRESCAN_DEPTH 32

/* ------------------------------------------------------------------ */
/* Pack                                                                 */
/* ------------------------------------------------------------------ */

/* msgpack's writers fail only when the buffer cannot grow. */
#define PK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != 0) return GALE_ENOMEM;                                                       \
    } while (0)

static int pack_str(msgpack_packer *pk, const char *s) {
    if (!s) {
        PK(msgpack_pack_nil(pk));
        return 0;
    }
    size_t n = strlen(s);
    PK(msgpack_pack_str(pk, n));
    PK(msgpack_pack_str_body(pk, s, n));
    return 0;
}

static int pack_strv(msgpack_packer *pk, char *const *v, size_t n) {
    PK(msgpack_pack_array(pk, n));
    for (size_t i = 0; i < n; i++) PK(pack_str(pk, v[i]));
    return 0;
}

static int pack_bool(msgpack_packer *pk, bool b) {
    PK(b ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
    return 0;
}

static int pack_component(msgpack_packer *pk, const gale__component_t *c) {
    PK(msgpack_pack_map(pk, 9));
    PK(pack_str(pk, "id"));
    PK(pack_str(pk, c->id));
    PK(pack_str(pk, "spout"));
    PK(pack_bool(pk, c->is_spout));
    PK(pack_str(pk, "symbol"));
    PK(pack_str(pk, c->symbol));
    PK(pack_str(pk, "parallelism"));
    PK(msgpack_pack_int(pk, c->parallelism));
    PK(pack_str(pk, "tasks"));
    PK(msgpack_pack_int(pk, c->tasks));
    PK(pack_str(pk, "first_task"));
    PK(msgpack_pack_int(pk, c->first_task));
    PK(pack_str(pk, "conf"));
    int rc = gale__conf_pack(pk, c->conf);
    if (rc) return rc;
    PK(pack_str(pk, "streams"));
    PK(msgpack_pack_array(pk, c->n_streams));
    for (size_t i = 0; i < c->n_streams; i++) {
        const gale__stream_t *s = &c->streams[i];
        PK(msgpack_pack_map(pk, 3));
        PK(pack_str(pk, "id"));
        PK(pack_str(pk, s->id));
        PK(pack_str(pk, "direct"));
        PK(pack_bool(pk, s->direct));
        PK(pack_str(pk, "fields"));
        PK(pack_strv(pk, s->fields, s->n_fields));
    }
    PK(pack_str(pk, "inputs"));
    PK(msgpack_pack_array(pk, c->n_inputs));
    for (size_t i = 0; i < c->n_inputs; i++) {
        const gale__input_t *in = &c->inputs[i];
        PK(msgpack_pack_map(pk, 5));
        PK(pack_str(pk, "source"));
        PK(pack_str(pk, in->source));
        PK(pack_str(pk, "stream"));
        PK(pack_str(pk, in->stream));
        PK(pack_str(pk, "grouping"));
        PK(pack_str(pk, gale__grouping_name(in->grouping)));
        PK(pack_str(pk, "fields"));
        PK(pack_strv(pk, in->fields, in->n_fields));
        PK(pack_str(pk, "custom"));
        PK(pack_str(pk, in->custom_symbol));
    }
    return 0;
}

int gale__topology_pack(msgpack_packer *pk, const gale__topology_t *t) {
    if (!pk || !t) return GALE_EINVAL;
    PK(msgpack_pack_map(pk, 3));
    PK(pack_str(pk, "name"));
    PK(pack_str(pk, t->name));
    PK(pack_str(pk, "conf"));
    int rc = gale__conf_pack(pk, t->conf);
    if (rc) return rc;
    PK(pack_str(pk, "components"));
    PK(msgpack_pack_array(pk, t->n_components));
    for (size_t i = 0; i < t->n_components; i++) {
        rc = pack_component(pk, &t->components[i]);
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Pre-scan                                                             */
/* ------------------------------------------------------------------ */

static uint64_t be(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/*
 * Walk one msgpack value without building anything. Fails on truncation,
 * the never-used byte 0xc1, nesting deeper than PRESCAN_DEPTH, trailing
 * bytes, and any container whose item count exceeds the bytes left (each
 * item takes at least one byte, so this bounds what msgpack-c allocates
 * to a small multiple of len).
 */
static const char *prescan(const uint8_t *p, size_t len) {
    uint64_t rem[PRESCAN_DEPTH + 1];
    int d = 0;
    size_t pos = 0;
    rem[0] = 1;
    for (;;) {
        while (d >= 0 && rem[d] == 0) d--;
        if (d < 0) break;
        rem[d]--;
        if (pos >= len) return "truncated";
        uint8_t b = p[pos++];
        uint64_t items = 0; /* container: values inside */
        size_t lenbytes = 0, extra = 0, fixed = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, nil, bool */
        } else if (b <= 0x8f) {
            items = 2u * (uint64_t)(b & 0x0f);
        } else if (b <= 0x9f) {
            items = b & 0x0f;
        } else if (b <= 0xbf) {
            fixed = b & 0x1f;
        } else {
            switch (b) {
                case 0xc4:
                case 0xd9:
                    lenbytes = 1;
                    break;
                case 0xc5:
                case 0xda:
                    lenbytes = 2;
                    break;
                case 0xc6:
                case 0xdb:
                    lenbytes = 4;
                    break;
                case 0xc7:
                    lenbytes = 1;
                    extra = 1;
                    break;
                case 0xc8:
                    lenbytes = 2;
                    extra = 1;
                    break;
                case 0xc9:
                    lenbytes = 4;
                    extra = 1;
                    break;
                case 0xca:
                    fixed = 4;
                    break;
                case 0xcb:
                    fixed = 8;
                    break;
                case 0xcc:
                case 0xd0:
                    fixed = 1;
                    break;
                case 0xcd:
                case 0xd1:
                    fixed = 2;
                    break;
                case 0xce:
                case 0xd2:
                    fixed = 4;
                    break;
                case 0xcf:
                case 0xd3:
                    fixed = 8;
                    break;
                case 0xd4:
                    fixed = 2;
                    break;
                case 0xd5:
                    fixed = 3;
                    break;
                case 0xd6:
                    fixed = 5;
                    break;
                case 0xd7:
                    fixed = 9;
                    break;
                case 0xd8:
                    fixed = 17;
                    break;
                case 0xdc:
                case 0xdd:
                case 0xde:
                case 0xdf: {
                    size_t nb = (b == 0xdc || b == 0xde) ? 2 : 4;
                    if (len - pos < nb) return "truncated";
                    items = be(p + pos, nb);
                    if (b >= 0xde) items *= 2;
                    pos += nb;
                    break;
                }
                default:
                    return "invalid msgpack byte 0xc1";
            }
        }
        if (lenbytes) {
            if (len - pos < lenbytes) return "truncated";
            fixed = (size_t)be(p + pos, lenbytes) + extra;
            pos += lenbytes;
        }
        if (fixed > len - pos) return "truncated";
        pos += fixed;
        if (items) {
            if (items > len - pos) return "container count larger than the message";
            if (d + 1 > PRESCAN_DEPTH) return "nesting too deep";
            rem[++d] = items;
        }
    }
    if (pos != len) return "trailing bytes after the topology";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Unpack                                                               */
/* ------------------------------------------------------------------ */

typedef struct dec {
    char *err;
    size_t errlen;
    char where[128]; /* "component 3 ('split') stream 1" */
} dec_t;

static int bad(dec_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(dec_t *d, const char *fmt, ...) {
    if (d->err && d->errlen) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(d->err, d->errlen, "malformed topology: %s%s%s", d->where, d->where[0] ? ": " : "",
                 msg);
    }
    return GALE_EPROTO;
}

static bool str_is(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

/* Pick the required keys out of map m into vals (same order as keys). */
static int map_fields(dec_t *d, const msgpack_object *m, const char *what, const char *const *keys,
                      size_t nkeys, const msgpack_object **vals) {
    if (m->type != MSGPACK_OBJECT_MAP) return bad(d, "%s must be a map", what);
    for (size_t k = 0; k < nkeys; k++) vals[k] = NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR) return bad(d, "%s has a non-string key", what);
        for (size_t k = 0; k < nkeys; k++) {
            if (str_is(&kv->key, keys[k])) {
                if (vals[k]) return bad(d, "%s has key '%s' twice", what, keys[k]);
                vals[k] = &kv->val;
            }
        }
    }
    for (size_t k = 0; k < nkeys; k++)
        if (!vals[k]) return bad(d, "%s lacks required key '%s'", what, keys[k]);
    return 0;
}

static int get_str(dec_t *d, const msgpack_object *o, const char *key, char **out) {
    if (o->type != MSGPACK_OBJECT_STR) return bad(d, "'%s' must be a string", key);
    if (memchr(o->via.str.ptr, '\0', o->via.str.size))
        return bad(d, "'%s' contains a NUL byte", key);
    *out = strndup(o->via.str.ptr, o->via.str.size);
    return *out ? 0 : GALE_ENOMEM;
}

static int get_int(dec_t *d, const msgpack_object *o, const char *key, int64_t min, int64_t max,
                   int *out) {
    int64_t v;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)max) goto range;
        v = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v = o->via.i64;
    } else {
        return bad(d, "'%s' must be an integer", key);
    }
    if (v < min || v > max) goto range;
    *out = (int)v;
    return 0;
range:
    return bad(d, "'%s' must be in %lld..%lld", key, (long long)min, (long long)max);
}

static int get_bool(dec_t *d, const msgpack_object *o, const char *key, bool *out) {
    if (o->type != MSGPACK_OBJECT_BOOLEAN) return bad(d, "'%s' must be a boolean", key);
    *out = o->via.boolean;
    return 0;
}

static int get_strv(dec_t *d, const msgpack_object *o, const char *key, char ***out,
                    size_t *n_out) {
    if (o->type != MSGPACK_OBJECT_ARRAY) return bad(d, "'%s' must be an array of strings", key);
    uint32_t n = o->via.array.size;
    *out = NULL;
    *n_out = 0;
    if (n == 0) return 0;
    *out = calloc(n, sizeof(char *));
    if (!*out) return GALE_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        int rc = get_str(d, &o->via.array.ptr[i], key, &(*out)[i]);
        if (rc) return rc; /* the caller's destroy frees what was filled */
        *n_out = i + 1;
    }
    return 0;
}

static int get_conf(dec_t *d, const msgpack_object *o, gale_conf_t **out) {
    if (o->type != MSGPACK_OBJECT_MAP) return bad(d, "'conf' must be a map");
    *out = gale_conf_new();
    if (!*out) return GALE_ENOMEM;
    int rc = gale__conf_from_msgpack(*out, o);
    if (rc == GALE_ENOMEM) return rc;
    if (rc) return bad(d, "'conf' is not a valid conf map (%s)", gale_strerror(rc));
    return 0;
}

static int get_grouping(dec_t *d, const msgpack_object *o, gale__grouping_t *out) {
    if (o->type != MSGPACK_OBJECT_STR) return bad(d, "'grouping' must be a string");
    for (int g = 0; g < GALE_GROUPING__COUNT; g++) {
        if (str_is(o, gale__grouping_name((gale__grouping_t)g))) {
            *out = (gale__grouping_t)g;
            return 0;
        }
    }
    return bad(d, "unknown grouping '%.*s'", (int)(o->via.str.size > 40 ? 40 : o->via.str.size),
               o->via.str.ptr);
}

static int dec_stream(dec_t *d, const msgpack_object *o, gale__stream_t *s) {
    static const char *const keys[] = {"id", "direct", "fields"};
    const msgpack_object *v[3] = {0};
    int rc = map_fields(d, o, "stream", keys, 3, v);
    if (!rc) rc = get_str(d, v[0], "id", &s->id);
    if (!rc) rc = get_bool(d, v[1], "direct", &s->direct);
    if (!rc) rc = get_strv(d, v[2], "fields", &s->fields, &s->n_fields);
    return rc;
}

static int dec_input(dec_t *d, const msgpack_object *o, gale__input_t *in) {
    static const char *const keys[] = {"source", "stream", "grouping", "fields", "custom"};
    const msgpack_object *v[5] = {0};
    int rc = map_fields(d, o, "input", keys, 5, v);
    if (!rc) rc = get_str(d, v[0], "source", &in->source);
    if (!rc) rc = get_str(d, v[1], "stream", &in->stream);
    if (!rc) rc = get_grouping(d, v[2], &in->grouping);
    if (!rc) rc = get_strv(d, v[3], "fields", &in->fields, &in->n_fields);
    if (!rc && v[4]->type != MSGPACK_OBJECT_NIL)
        rc = get_str(d, v[4], "custom", &in->custom_symbol);
    return rc;
}

static int dec_component(dec_t *d, const msgpack_object *o, gale__component_t *c) {
    static const char *const keys[] = {"id",         "spout", "symbol",  "parallelism", "tasks",
                                       "first_task", "conf",  "streams", "inputs"};
    const msgpack_object *v[9] = {0};
    int rc = map_fields(d, o, "component", keys, 9, v);
    if (!rc) rc = get_str(d, v[0], "id", &c->id);
    if (!rc) {
        /* Name the component in later messages. */
        size_t l = strlen(d->where);
        snprintf(d->where + l, sizeof d->where - l, " ('%.40s')", c->id);
    }
    if (!rc) rc = get_bool(d, v[1], "spout", &c->is_spout);
    if (!rc) rc = get_str(d, v[2], "symbol", &c->symbol);
    if (!rc) rc = get_int(d, v[3], "parallelism", 1, MAX_COUNT, &c->parallelism);
    if (!rc) rc = get_int(d, v[4], "tasks", 1, MAX_COUNT, &c->tasks);
    if (!rc) rc = get_int(d, v[5], "first_task", 0, MAX_TASK_ID, &c->first_task);
    if (!rc) rc = get_conf(d, v[6], &c->conf);
    if (rc) return rc;

    if (v[7]->type != MSGPACK_OBJECT_ARRAY) return bad(d, "'streams' must be an array");
    uint32_t ns = v[7]->via.array.size;
    if (ns) {
        c->streams = calloc(ns, sizeof *c->streams);
        if (!c->streams) return GALE_ENOMEM;
    }
    size_t base = strlen(d->where);
    for (uint32_t i = 0; i < ns; i++) {
        c->n_streams = i + 1;
        snprintf(d->where + base, sizeof d->where - base, " stream %u", i);
        rc = dec_stream(d, &v[7]->via.array.ptr[i], &c->streams[i]);
        if (rc) return rc;
    }
    d->where[base] = '\0';

    if (v[8]->type != MSGPACK_OBJECT_ARRAY) return bad(d, "'inputs' must be an array");
    uint32_t ni = v[8]->via.array.size;
    if (ni) {
        c->inputs = calloc(ni, sizeof *c->inputs);
        if (!c->inputs) return GALE_ENOMEM;
    }
    for (uint32_t i = 0; i < ni; i++) {
        c->n_inputs = i + 1;
        snprintf(d->where + base, sizeof d->where - base, " input %u", i);
        rc = dec_input(d, &v[8]->via.array.ptr[i], &c->inputs[i]);
        if (rc) return rc;
    }
    d->where[base] = '\0';
    return 0;
}

/* All first_task 0 (not assigned yet) or exactly assign_tasks' layout. */
static int check_tasks(dec_t *d, gale__topology_t *t) {
    bool any = false, all = true;
    for (size_t i = 0; i < t->n_components; i++) {
        if (t->components[i].first_task)
            any = true;
        else
            all = false;
    }
    if (!any) return 0;
    if (!all) return bad(d, "some components have task numbers and some do not");
    int next = 1;
    for (size_t i = 0; i < t->n_components; i++) {
        const gale__component_t *c = &t->components[i];
        if (i > 0 && strcmp(t->components[i - 1].id, c->id) >= 0)
            return bad(d, "numbered components are not sorted by id ('%.40s')", c->id);
        if (c->first_task != next)
            return bad(d, "component '%.40s' starts at task %d, expected %d", c->id, c->first_task,
                       next);
        next += c->tasks; /* <= MAX_COMPONENTS * MAX_COUNT: no overflow */
    }
    t->n_tasks = next - 1;
    return 0;
}

static int dec_topology(dec_t *d, const msgpack_object *o, gale__topology_t *t) {
    static const char *const keys[] = {"name", "conf", "components"};
    const msgpack_object *v[3] = {0};
    int rc = map_fields(d, o, "the topology", keys, 3, v);
    if (!rc) rc = get_str(d, v[0], "name", &t->name);
    if (!rc) rc = get_conf(d, v[1], &t->conf);
    if (rc) return rc;
    if (v[2]->type != MSGPACK_OBJECT_ARRAY) return bad(d, "'components' must be an array");
    uint32_t n = v[2]->via.array.size;
    if (n > MAX_COMPONENTS) return bad(d, "%u components; at most %d", n, MAX_COMPONENTS);
    if (n) {
        t->components = calloc(n, sizeof *t->components);
        if (!t->components) return GALE_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        t->n_components = i + 1;
        snprintf(d->where, sizeof d->where, "component %u", i);
        rc = dec_component(d, &v[2]->via.array.ptr[i], &t->components[i]);
        if (rc) return rc;
    }
    d->where[0] = '\0';
    return check_tasks(d, t);
}

int gale__topology_unpack(const void *buf, size_t len, gale__topology_t **out, char *err,
                          size_t errlen) {
    dec_t d = {err, errlen, ""};
    if (!out) return GALE_EINVAL;
    *out = NULL;
    if (!buf || len == 0) return bad(&d, "empty message");
    const char *why = prescan(buf, len);
    if (why) return bad(&d, "%s", why);

    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&res, buf, len, &off);
    int rc;
    gale__topology_t *t = NULL;
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        /* After the pre-scan msgpack-c's allocations are small, so even its
         * NOMEM (also its answer to deep nesting) means a bad message. */
        rc = bad(&d, "not one msgpack value (or nested too deep)");
        goto done;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        rc = GALE_ENOMEM;
        goto done;
    }
    rc = dec_topology(&d, &res.data, t);
done:
    if (rc == GALE_ENOMEM && err && errlen)
        snprintf(err, errlen, "out of memory decoding a topology");
    msgpack_unpacked_destroy(&res);
    if (rc) {
        gale__topology_destroy(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Equality                                                             */
/* ------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static bool strv_eq(char *const *a, size_t na, char *const *b, size_t nb) {
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(a[i], b[i])) return false;
    return true;
}

static bool conf_eq(const gale_conf_t *a, const gale_conf_t *b) {
    if (!a || !b) return a == b;
    size_t n = gale_conf_count(a);
    if (n != gale_conf_count(b)) return false;
    for (size_t i = 0; i < n; i++) {
        const gale_value_t *va, *vb;
        const char *ka = gale_conf_key_at(a, i, &va);
        const char *kb = gale_conf_key_at(b, i, &vb);
        if (!str_eq(ka, kb) || !gale_value_equal(va, vb)) return false;
    }
    return true;
}

static bool component_eq(const gale__component_t *a, const gale__component_t *b) {
    if (!str_eq(a->id, b->id) || a->is_spout != b->is_spout || !str_eq(a->symbol, b->symbol) ||
        a->parallelism != b->parallelism || a->tasks != b->tasks ||
        a->first_task != b->first_task || !conf_eq(a->conf, b->conf) ||
        a->n_streams != b->n_streams || a->n_inputs != b->n_inputs)
        return false;
    for (size_t i = 0; i < a->n_streams; i++) {
        const gale__stream_t *x = &a->streams[i], *y = &b->streams[i];
        if (!str_eq(x->id, y->id) || x->direct != y->direct ||
            !strv_eq(x->fields, x->n_fields, y->fields, y->n_fields))
            return false;
    }
    for (size_t i = 0; i < a->n_inputs; i++) {
        const gale__input_t *x = &a->inputs[i], *y = &b->inputs[i];
        if (!str_eq(x->source, y->source) || !str_eq(x->stream, y->stream) ||
            x->grouping != y->grouping ||
            !strv_eq(x->fields, x->n_fields, y->fields, y->n_fields) ||
            !str_eq(x->custom_symbol, y->custom_symbol))
            return false;
    }
    return true;
}

bool gale__topology_equal(const gale__topology_t *a, const gale__topology_t *b) {
    if (!a || !b) return a == b;
    if (!str_eq(a->name, b->name) || !conf_eq(a->conf, b->conf) ||
        a->n_components != b->n_components || a->n_tasks != b->n_tasks)
        return false;
    for (size_t i = 0; i < a->n_components; i++)
        if (!component_eq(&a->components[i], &b->components[i])) return false;
    return true;
}
