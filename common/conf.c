/*
 * conf.c — gale_conf_t, the public string-keyed configuration map.
 *
 * A conf is small (tens of keys) and read mostly at start-up (prepare/open),
 * so it is a plain insertion-ordered array of entries searched linearly:
 * iteration order is the order a user set keys in, which keeps printed and
 * packed confs deterministic. Each entry is ONE malloc block: the header,
 * the deep copy's out-of-line storage (gale__value_copy), then the key, so
 * replacing or removing a key is one free and a value's pointers stay valid
 * for as long as its key is not replaced or removed.
 *
 * Not thread-safe for writers; concurrent readers of an unchanging conf are
 * fine (getters never modify it).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/value.h"
#include "gale/gale.h"

typedef struct conf_entry {
    gale_value_t v;
    const char *key; /* points into the same block, NUL-terminated */
} conf_entry_t;

struct gale_conf {
    conf_entry_t **items;
    size_t n, cap;
};

/* Out-of-line storage must start 8-aligned (value.h's layout contract). */
#define ENTRY_HEADER ((sizeof(conf_entry_t) + 7u) & ~(size_t)7u)

static conf_entry_t *entry_new(const char *key, const gale_value_t *v) {
    size_t extra = gale__value_extra_size(v);
    size_t klen = strlen(key);
    conf_entry_t *e = malloc(ENTRY_HEADER + extra + klen + 1);
    if (!e) return NULL;
    char *cursor = (char *)e + ENTRY_HEADER;
    gale__value_copy(&e->v, v, &cursor);
    char *k = (char *)e + ENTRY_HEADER + extra;
    memcpy(k, key, klen + 1);
    e->key = k;
    return e;
}

static ssize_t find(const gale_conf_t *c, const char *key) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i]->key, key) == 0) return (ssize_t)i;
    return -1;
}

gale_conf_t *gale_conf_new(void) {
    return calloc(1, sizeof(gale_conf_t));
}

void gale_conf_destroy(gale_conf_t *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->items[i]);
    free(c->items);
    free(c);
}

gale_conf_t *gale_conf_dup(const gale_conf_t *c) {
    if (!c) return NULL;
    gale_conf_t *d = gale_conf_new();
    if (!d) return NULL;
    for (size_t i = 0; i < c->n; i++) {
        if (gale_conf_set(d, c->items[i]->key, c->items[i]->v) != 0) {
            gale_conf_destroy(d);
            return NULL;
        }
    }
    return d;
}

/* A caller's value is checked all the way down (types, NULL payloads,
 * depth) before it is copied: the copy trusts what it walks. */
static bool value_type_ok_at(const gale_value_t *v, int depth) {
    if (v->type > GALE_T_MAP || depth > GALE__VALUE_MAX_DEPTH) return false;
    if (v->type < GALE_T_STR || v->len == 0) return true;
    if (!v->u.s) return false;
    if (v->type != GALE_T_ARRAY && v->type != GALE_T_MAP) return true;
    size_t n = v->type == GALE_T_MAP ? 2 * (size_t)v->len : v->len;
    for (size_t i = 0; i < n; i++)
        if (!value_type_ok_at(&v->u.a[i], depth + 1)) return false;
    return true;
}

static bool value_type_ok(const gale_value_t *v) {
    return value_type_ok_at(v, 0);
}

int gale_conf_set(gale_conf_t *c, const char *key, gale_value_t v) {
    if (!c || !key || !*key || !value_type_ok(&v)) return GALE_EINVAL;
    conf_entry_t *e = entry_new(key, &v);
    if (!e) return GALE_ENOMEM;
    ssize_t i = find(c, key);
    if (i >= 0) {
        /* Replacing keeps the key's original position (insertion order). */
        free(c->items[i]);
        c->items[i] = e;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        conf_entry_t **items = realloc(c->items, cap * sizeof(*items));
        if (!items) {
            free(e);
            return GALE_ENOMEM;
        }
        c->items = items;
        c->cap = cap;
    }
    c->items[c->n++] = e;
    return 0;
}

int gale_conf_set_int(gale_conf_t *c, const char *key, int64_t v) {
    return gale_conf_set(c, key, gale_int(v));
}

int gale_conf_set_str(gale_conf_t *c, const char *key, const char *v) {
    if (!v) return GALE_EINVAL;
    return gale_conf_set(c, key, gale_str(v));
}

int gale_conf_set_bool(gale_conf_t *c, const char *key, bool v) {
    return gale_conf_set(c, key, gale_bool(v));
}

int gale_conf_set_double(gale_conf_t *c, const char *key, double v) {
    return gale_conf_set(c, key, gale_double(v));
}

int gale_conf_unset(gale_conf_t *c, const char *key) {
    if (!c || !key) return GALE_EINVAL;
    ssize_t i = find(c, key);
    if (i < 0) return GALE_ENOENT;
    free(c->items[i]);
    memmove(&c->items[i], &c->items[i + 1], (c->n - (size_t)i - 1) * sizeof(c->items[0]));
    c->n--;
    return 0;
}

const gale_value_t *gale_conf_get(const gale_conf_t *c, const char *key) {
    if (!c || !key) return NULL;
    ssize_t i = find(c, key);
    return i < 0 ? NULL : &c->items[i]->v;
}

int64_t gale_conf_get_int(const gale_conf_t *c, const char *key, int64_t def) {
    const gale_value_t *v = gale_conf_get(c, key);
    /* A double is not silently truncated: 2.5 workers is a mistake. */
    return v && v->type == GALE_T_INT ? v->u.i : def;
}

double gale_conf_get_double(const gale_conf_t *c, const char *key, double def) {
    const gale_value_t *v = gale_conf_get(c, key);
    if (!v) return def;
    /* YAML and msgpack both turn `1` into an int; it is still a fine double. */
    if (v->type == GALE_T_DOUBLE) return v->u.d;
    if (v->type == GALE_T_INT) return (double)v->u.i;
    return def;
}

bool gale_conf_get_bool(const gale_conf_t *c, const char *key, bool def) {
    const gale_value_t *v = gale_conf_get(c, key);
    return v && v->type == GALE_T_BOOL ? v->u.b : def;
}

const char *gale_conf_get_str(const gale_conf_t *c, const char *key, const char *def) {
    const gale_value_t *v = gale_conf_get(c, key);
    /* The deep copy put a NUL after the payload, so u.s is a C string. */
    return v && v->type == GALE_T_STR ? v->u.s : def;
}

size_t gale_conf_count(const gale_conf_t *c) {
    return c ? c->n : 0;
}

const char *gale_conf_key_at(const gale_conf_t *c, size_t i, const gale_value_t **v) {
    if (!c || i >= c->n) {
        if (v) *v = NULL;
        return NULL;
    }
    if (v) *v = &c->items[i]->v;
    return c->items[i]->key;
}
