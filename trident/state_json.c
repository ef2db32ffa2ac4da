/*
 * state_json.c — gale_value_t ↔ JSON through jansson, and the arena the
 * decoded values live in (state_json.h).
 */
#include "trident/state_json.h"

#include "common/value.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 16384

struct gale__arena_chunk {
    gale__arena_chunk_t *next;
    size_t used, cap;
    max_align_t data[];
};

void *gale__arena_alloc(gale__arena_t *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    if (n == 0) n = 8;
    gale__arena_chunk_t *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK ? n : CHUNK;
        c = malloc(sizeof(*c) + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

void gale__arena_reset(gale__arena_t *a) {
    if (!a->head) return;
    gale__arena_chunk_t *c = a->head->next;
    while (c) {
        gale__arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head->next = NULL;
    a->head->used = 0;
}

void gale__arena_free(gale__arena_t *a) {
    gale__arena_reset(a);
    free(a->head);
    a->head = NULL;
}

int gale__arena_value_copy(gale__arena_t *a, const gale_value_t *v, gale_value_t *out) {
    char *cursor = gale__arena_alloc(a, gale__value_extra_size(v));
    if (!cursor) return GALE_ENOMEM;
    gale__value_copy(out, v, &cursor);
    return 0;
}

static json_t *fail(int *rc, int code, char *err, size_t errlen, const char *what) {
    *rc = code;
    snprintf(err, errlen, "%s", what);
    return NULL;
}

json_t *gale__value_to_json(const gale_value_t *v, int *rc, char *err, size_t errlen) {
    json_t *j = NULL;
    *rc = 0;
    switch (v->type) {
        case GALE_T_NIL:
            j = json_null();
            break;
        case GALE_T_BOOL:
            j = json_boolean(v->u.b);
            break;
        case GALE_T_INT:
            j = json_integer((json_int_t)v->u.i);
            break;
        case GALE_T_DOUBLE:
            if (!isfinite(v->u.d))
                return fail(rc, GALE_ERANGE, err, errlen,
                            "a NaN or infinite double has no JSON form: keep state values finite");
            j = json_real(v->u.d);
            break;
        case GALE_T_STR:
            j = json_stringn(v->u.s, v->len);
            if (!j)
                return fail(rc, GALE_ETYPE, err, errlen,
                            "a string that is not valid UTF-8 has no JSON form: store text");
            break;
        case GALE_T_BYTES:
            return fail(rc, GALE_ETYPE, err, errlen,
                        "bytes have no JSON form (storm-redis stores JSON): use a string, or "
                        "encode the bytes (e.g. base64) in the combiner");
        case GALE_T_ARRAY:
            if (!(j = json_array())) break;
            for (uint32_t i = 0; i < v->len; i++) {
                json_t *item = gale__value_to_json(&v->u.a[i], rc, err, errlen);
                if (!item || json_array_append_new(j, item)) {
                    json_decref(j);
                    return *rc ? NULL : fail(rc, GALE_ENOMEM, err, errlen, "out of memory");
                }
            }
            return j;
        case GALE_T_MAP:
            if (!(j = json_object())) break;
            for (uint32_t i = 0; i < v->len; i++) {
                const gale_value_t *k = &v->u.a[2 * i];
                if (k->type != GALE_T_STR) {
                    json_decref(j);
                    return fail(rc, GALE_ETYPE, err, errlen,
                                "a map key that is not a string has no JSON form: use string keys");
                }
                json_t *item = gale__value_to_json(&v->u.a[2 * i + 1], rc, err, errlen);
                if (!item) {
                    json_decref(j);
                    return NULL;
                }
                if (json_object_setn_new(j, k->u.s, k->len, item)) {
                    json_decref(j);
                    return fail(rc, GALE_ETYPE, err, errlen,
                                "a map key that is not valid UTF-8 has no JSON form");
                }
            }
            return j;
        default:
            return fail(rc, GALE_ETYPE, err, errlen, "a value of unknown type");
    }
    if (!j) return fail(rc, GALE_ENOMEM, err, errlen, "out of memory");
    return j;
}

static int strcopy(gale__arena_t *a, const char *s, size_t n, gale_value_t *out) {
    char *p = gale__arena_alloc(a, n + 1);
    if (!p) return GALE_ENOMEM;
    memcpy(p, s, n);
    p[n] = '\0';
    *out = gale_strn(p, n);
    return 0;
}

/* depth: containers enclosing j. jansson allows nesting far deeper
 * (JSON_PARSER_MAX_DEPTH) than a value may have anywhere else in Gale
 * (GALE__VALUE_MAX_DEPTH: compared, hashed, encoded): such a value is
 * refused here, so whatever decodes behaves like any other value. */
static int from_json(gale__arena_t *a, const json_t *j, gale_value_t *out, int depth) {
    if ((json_is_array(j) || json_is_object(j)) && depth > GALE__VALUE_MAX_DEPTH)
        return GALE_ERANGE;
    switch (json_typeof(j)) {
        case JSON_NULL:
            *out = gale_nil();
            return 0;
        case JSON_TRUE:
            *out = gale_bool(true);
            return 0;
        case JSON_FALSE:
            *out = gale_bool(false);
            return 0;
        case JSON_INTEGER:
            *out = gale_int((int64_t)json_integer_value(j));
            return 0;
        case JSON_REAL:
            *out = gale_double(json_real_value(j));
            return 0;
        case JSON_STRING:
            return strcopy(a, json_string_value(j), json_string_length(j), out);
        case JSON_ARRAY: {
            size_t n = json_array_size(j);
            gale_value_t *items = gale__arena_alloc(a, n * sizeof(*items));
            if (!items) return GALE_ENOMEM;
            for (size_t i = 0; i < n; i++) {
                int rc = from_json(a, json_array_get(j, i), &items[i], depth + 1);
                if (rc) return rc;
            }
            *out = gale_array(items, n);
            return 0;
        }
        case JSON_OBJECT: {
            size_t n = json_object_size(j), i = 0;
            gale_value_t *kv = gale__arena_alloc(a, 2 * n * sizeof(*kv));
            if (!kv) return GALE_ENOMEM;
            const char *k;
            size_t klen;
            json_t *item;
            json_object_keylen_foreach((json_t *)j, k, klen, item) {
                int rc = strcopy(a, k, klen, &kv[2 * i]);
                if (!rc) rc = from_json(a, item, &kv[2 * i + 1], depth + 1);
                if (rc) return rc;
                i++;
            }
            *out = gale_map(kv, n);
            return 0;
        }
    }
    return GALE_EPROTO;
}

int gale__value_from_json(gale__arena_t *a, const json_t *j, gale_value_t *out) {
    return from_json(a, j, out, 0);
}

char *gale__json_text(gale__arena_t *a, const json_t *j, size_t *len) {
    /* JSON_ENCODE_ANY: a non-transactional value may be a bare scalar */
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17);
    size_t n = json_dumpb(j, NULL, 0, flags);
    if (n == 0) return NULL;
    char *p = gale__arena_alloc(a, n + 1);
    if (!p || json_dumpb(j, p, n, flags) != n) return NULL;
    p[n] = '\0';
    *len = n;
    return p;
}

/* A JSON null value is no value (the combiner's zero), as in Storm. */
static int decoded(gale__arena_t *a, const json_t *j, const gale_value_t **out) {
    *out = NULL;
    if (!j || json_is_null(j)) return 0;
    gale_value_t *v = gale__arena_alloc(a, sizeof(*v));
    if (!v) return GALE_ENOMEM;
    *out = v;
    return gale__value_from_json(a, j, v);
}

int gale__state_record_decode(gale__arena_t *a, gale_state_kind_t kind, const char *text,
                              size_t len, int64_t *txid, const gale_value_t **curr,
                              const gale_value_t **prev, char *why, size_t whylen) {
    *txid = -1;
    *curr = *prev = NULL;
    json_error_t je;
    /* JSON_ALLOW_NUL: strings with NUL round-trip; jansson bounds nesting */
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) {
        snprintf(why, whylen, "not JSON: %s", je.text);
        return GALE_EPROTO;
    }
    int rc = 0;
    if (kind == GALE_STATE_NON_TRANSACTIONAL) {
        rc = decoded(a, j, curr);
    } else {
        size_t want = kind == GALE_STATE_OPAQUE ? 3 : 2;
        json_t *t = json_array_get(j, 0);
        if (!json_is_array(j) || json_array_size(j) != want) {
            snprintf(why, whylen, "wrong shape");
            rc = GALE_EPROTO;
        } else if (!json_is_integer(t) || json_integer_value(t) < 0) {
            snprintf(why, whylen, "the txid is not an integer >= 0");
            rc = GALE_EPROTO;
        } else {
            *txid = (int64_t)json_integer_value(t);
            rc = decoded(a, json_array_get(j, 1), curr);
            if (!rc && want == 3) rc = decoded(a, json_array_get(j, 2), prev);
        }
    }
    json_decref(j);
    if (rc == GALE_ERANGE)
        snprintf(why, whylen, "a value nested deeper than %d", GALE__VALUE_MAX_DEPTH);
    else if (rc == GALE_ENOMEM)
        snprintf(why, whylen, "out of memory");
    return rc;
}
