/*
 * value.c — deep copies, msgpack conversion, hashing and printing of values.
 *
 * Values are views (gale.h); whoever keeps one (a tuple, a conf entry)
 * copies it into one contiguous block. The block layout is: all nested
 * value arrays first (starting at the cursor rounded up to 8, and each a
 * multiple of sizeof(gale_value_t), so they all stay aligned), then all
 * string/bytes payloads, each followed by a NUL. extra_size counts 7
 * bytes of alignment slack when there is any nested array, so the cursor
 * advances by at most extra_size (exactly, for values without arrays).
 *
 * The hash feeds the fields grouping, so it must be the same in every
 * process and every release: FNV-1a 64 over the canonical msgpack encoding
 * (msgpack-c's smallest integer forms, doubles always float64), streamed
 * into the hash without allocating.
 */
#include "common/value.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Deep copies                                                          */
/* ------------------------------------------------------------------ */

static size_t sat_add(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Every walk below stops below GALE__VALUE_MAX_DEPTH + 1 nested containers
 * (the stack stays bounded whatever a caller hands in): deeper containers
 * are copied and hashed as nil, printed as "...". Whoever keeps values
 * checks their depth first (conf.c allows containers at depths 0..MAX,
 * gale__values_check at emit fewer), so this never shows. */
#define TOO_DEEP(v, depth)                                                                         \
    ((depth) > GALE__VALUE_MAX_DEPTH && ((v)->type == GALE_T_ARRAY || (v)->type == GALE_T_MAP))

/* Bytes of nested value arrays and of payloads (with NULs) under v. */
static void value_sizes(const gale_value_t *v, int depth, size_t *arrays, size_t *payloads) {
    if (TOO_DEEP(v, depth)) return;
    switch (v->type) {
        case GALE_T_STR:
        case GALE_T_BYTES:
            *payloads = sat_add(*payloads, (size_t)v->len + 1);
            break;
        case GALE_T_ARRAY:
        case GALE_T_MAP: {
            size_t n = v->type == GALE_T_MAP ? 2 * (size_t)v->len : v->len;
            *arrays = sat_add(*arrays, n * sizeof(gale_value_t));
            for (size_t i = 0; i < n; i++) value_sizes(&v->u.a[i], depth + 1, arrays, payloads);
            break;
        }
        default:
            break;
    }
}

static size_t layout_size(size_t arrays, size_t payloads) {
    /* 7 bytes of slack so the array region can start 8-aligned. */
    return sat_add(arrays ? sat_add(arrays, 7) : 0, payloads);
}

size_t gale__value_extra_size(const gale_value_t *v) {
    /* fast paths: the hot path copies scalars and strings */
    if (v->type < GALE_T_STR) return 0;
    if (v->type != GALE_T_ARRAY && v->type != GALE_T_MAP) return (size_t)v->len + 1;
    size_t arrays = 0, payloads = 0;
    value_sizes(v, 0, &arrays, &payloads);
    return layout_size(arrays, payloads);
}

/* What the wire refuses, checked while the sizes are summed (one walk). */
static int check_rec(const gale_value_t *v, int depth, size_t *arrays, size_t *payloads) {
    switch (v->type) {
        case GALE_T_NIL:
        case GALE_T_BOOL:
        case GALE_T_INT:
        case GALE_T_DOUBLE:
            return 0;
        case GALE_T_STR:
        case GALE_T_BYTES:
            if (v->len && !v->u.s) return GALE_EINVAL;
            *payloads = sat_add(*payloads, (size_t)v->len + 1);
            return 0;
        case GALE_T_ARRAY:
        case GALE_T_MAP: {
            if (depth >= GALE__VALUE_MAX_WIRE_DEPTH) return GALE_ERANGE;
            size_t n = v->type == GALE_T_MAP ? 2 * (size_t)v->len : v->len;
            if (n && !v->u.a) return GALE_EINVAL;
            *arrays = sat_add(*arrays, n * sizeof(gale_value_t));
            for (size_t i = 0; i < n; i++) {
                int rc = check_rec(&v->u.a[i], depth + 1, arrays, payloads);
                if (rc) return rc;
            }
            return 0;
        }
        default:
            return GALE_ETYPE;
    }
}

int gale__values_check_slow(const gale_value_t *vals, size_t n, size_t *extra, size_t *bad) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const gale_value_t *v = &vals[i];
        if (v->type < GALE_T_STR) continue; /* the common case: scalars */
        if (v->type <= GALE_T_BYTES) {
            if (v->len && !v->u.s) goto bad_value;
            total = sat_add(total, (size_t)v->len + 1);
            continue;
        }
        size_t arrays = 0, payloads = 0;
        int rc = check_rec(v, 0, &arrays, &payloads);
        if (rc) {
            if (bad) *bad = i;
            return rc;
        }
        total = sat_add(total, layout_size(arrays, payloads));
        continue;
    bad_value:
        if (bad) *bad = i;
        return GALE_EINVAL;
    }
    if (total > GALE__VALUE_MAX_TUPLE_EXTRA) { /* tuple blocks count their size in 32 bits */
        if (bad) *bad = 0;
        return GALE_ERANGE;
    }
    *extra = total;
    return 0;
}

static char *align8(char *p) {
    uintptr_t u = (uintptr_t)p;
    return p + ((8 - (u & 7)) & 7);
}

/* Two cursors: *acur for nested value arrays, *pcur for payloads. */
static void copy_rec(gale_value_t *dst, const gale_value_t *src, int depth, char **acur,
                     char **pcur) {
    if (TOO_DEEP(src, depth)) {
        *dst = gale_nil();
        return;
    }
    *dst = *src;
    switch (src->type) {
        case GALE_T_STR:
        case GALE_T_BYTES: {
            char *p = *pcur;
            if (src->len) memcpy(p, src->u.s, src->len);
            p[src->len] = '\0';
            dst->u.s = p;
            *pcur = p + src->len + 1;
            break;
        }
        case GALE_T_ARRAY:
        case GALE_T_MAP: {
            size_t n = src->type == GALE_T_MAP ? 2 * (size_t)src->len : src->len;
            gale_value_t *items = (gale_value_t *)(void *)*acur;
            *acur += n * sizeof(gale_value_t);
            for (size_t i = 0; i < n; i++) copy_rec(&items[i], &src->u.a[i], depth + 1, acur, pcur);
            dst->u.a = n ? items : NULL;
            break;
        }
        default:
            break;
    }
}

void gale__value_copy(gale_value_t *dst, const gale_value_t *src, char **cursor) {
    *dst = *src;
    if (src->type < GALE_T_STR) return;
    if (src->type != GALE_T_ARRAY && src->type != GALE_T_MAP) {
        char *p = *cursor;
        if (src->len) memcpy(p, src->u.s, src->len);
        p[src->len] = '\0';
        dst->u.s = p;
        *cursor = p + src->len + 1;
        return;
    }
    size_t arrays = 0, payloads = 0;
    value_sizes(src, 0, &arrays, &payloads);
    char *acur = arrays ? align8(*cursor) : *cursor;
    char *pcur = arrays ? acur + arrays : acur; /* a NULL cursor is fine for scalars */
    copy_rec(dst, src, 0, &acur, &pcur);
    *cursor = pcur;
}

/* Values nested deeper than GALE__VALUE_MAX_DEPTH compare unequal. */
static bool equal_rec(const gale_value_t *a, const gale_value_t *b, int depth) {
    if (a->type != b->type || TOO_DEEP(a, depth)) return false;
    switch (a->type) {
        case GALE_T_NIL:
            return true;
        case GALE_T_BOOL:
            return a->u.b == b->u.b;
        case GALE_T_INT:
            return a->u.i == b->u.i;
        case GALE_T_DOUBLE:
            /* Bitwise, so NaN equals itself and 0.0 differs from -0.0, just
             * like their encodings (and thus their hashes) do. */
            return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
        case GALE_T_STR:
        case GALE_T_BYTES:
            return a->len == b->len && (a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0);
        case GALE_T_ARRAY:
        case GALE_T_MAP: {
            if (a->len != b->len) return false;
            size_t n = a->type == GALE_T_MAP ? 2 * (size_t)a->len : a->len;
            for (size_t i = 0; i < n; i++)
                if (!equal_rec(&a->u.a[i], &b->u.a[i], depth + 1)) return false;
            return true;
        }
        default:
            return false;
    }
}

bool gale_value_equal(const gale_value_t *a, const gale_value_t *b) {
    return equal_rec(a, b, 0);
}

/* ------------------------------------------------------------------ */
/* msgpack                                                              */
/* ------------------------------------------------------------------ */

/* depth: containers enclosing v. Deeper than the decoders accept is
 * refused here too, so what one process packs another can read. */
static int pack_rec(msgpack_packer *pk, const gale_value_t *v, int depth) {
    switch (v->type) {
        case GALE_T_NIL:
            return msgpack_pack_nil(pk);
        case GALE_T_BOOL:
            return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        case GALE_T_INT:
            return msgpack_pack_int64(pk, v->u.i);
        case GALE_T_DOUBLE:
            return msgpack_pack_double(pk, v->u.d);
        case GALE_T_STR:
            if (msgpack_pack_str(pk, v->len) != 0) return -1;
            return v->len ? msgpack_pack_str_body(pk, v->u.s, v->len) : 0;
        case GALE_T_BYTES:
            if (msgpack_pack_bin(pk, v->len) != 0) return -1;
            return v->len ? msgpack_pack_bin_body(pk, v->u.s, v->len) : 0;
        case GALE_T_ARRAY:
        case GALE_T_MAP: {
            if (depth >= GALE__VALUE_MAX_DEPTH) return -1;
            size_t n = v->len;
            if (v->type == GALE_T_MAP) {
                if (msgpack_pack_map(pk, v->len) != 0) return -1;
                n *= 2;
            } else if (msgpack_pack_array(pk, v->len) != 0) {
                return -1;
            }
            for (size_t i = 0; i < n; i++)
                if (pack_rec(pk, &v->u.a[i], depth + 1) != 0) return -1;
            return 0;
        }
        default:
            return -1;
    }
}

int gale__value_pack(msgpack_packer *pk, const gale_value_t *v) {
    return pack_rec(pk, v, 0) == 0 ? 0 : -1;
}

static int size_rec(const msgpack_object *o, int depth, size_t *arrays, size_t *payloads) {
    switch (o->type) {
        case MSGPACK_OBJECT_NIL:
        case MSGPACK_OBJECT_BOOLEAN:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            return o->via.u64 > (uint64_t)INT64_MAX ? -1 : 0;
        case MSGPACK_OBJECT_STR:
        case MSGPACK_OBJECT_BIN: {
            size_t n = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
            if (n > UINT32_MAX || *payloads > SIZE_MAX - n - 1) return -1;
            *payloads += n + 1;
            return 0;
        }
        case MSGPACK_OBJECT_ARRAY:
        case MSGPACK_OBJECT_MAP: {
            if (depth >= GALE__VALUE_MAX_DEPTH) return -1;
            size_t n;
            if (o->type == MSGPACK_OBJECT_ARRAY) {
                n = o->via.array.size;
                if (n && !o->via.array.ptr) return -1;
            } else {
                n = o->via.map.size;
                if (n && !o->via.map.ptr) return -1;
            }
            size_t items = o->type == MSGPACK_OBJECT_MAP ? 2 * n : n;
            if (items > (SIZE_MAX - *arrays) / sizeof(gale_value_t)) return -1;
            *arrays += items * sizeof(gale_value_t);
            for (size_t i = 0; i < n; i++) {
                if (o->type == MSGPACK_OBJECT_ARRAY) {
                    if (size_rec(&o->via.array.ptr[i], depth + 1, arrays, payloads) != 0) return -1;
                } else {
                    if (size_rec(&o->via.map.ptr[i].key, depth + 1, arrays, payloads) != 0 ||
                        size_rec(&o->via.map.ptr[i].val, depth + 1, arrays, payloads) != 0)
                        return -1;
                }
            }
            return 0;
        }
        default: /* EXT and anything newer */
            return -1;
    }
}

ssize_t gale__value_from_msgpack_size(const msgpack_object *o) {
    size_t arrays = 0, payloads = 0;
    if (size_rec(o, 0, &arrays, &payloads) != 0) return -1;
    size_t total = layout_size(arrays, payloads);
    if (total == SIZE_MAX || total > SIZE_MAX / 2) return -1;
    return (ssize_t)total;
}

static void from_rec(gale_value_t *dst, const msgpack_object *o, char **acur, char **pcur) {
    memset(dst, 0, sizeof *dst);
    switch (o->type) {
        case MSGPACK_OBJECT_BOOLEAN:
            dst->type = GALE_T_BOOL;
            dst->u.b = o->via.boolean;
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            dst->type = GALE_T_INT;
            dst->u.i = (int64_t)o->via.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            dst->type = GALE_T_INT;
            dst->u.i = o->via.i64;
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            dst->type = GALE_T_DOUBLE;
            dst->u.d = o->via.f64;
            break;
        case MSGPACK_OBJECT_STR:
        case MSGPACK_OBJECT_BIN: {
            const char *src;
            uint32_t n;
            if (o->type == MSGPACK_OBJECT_STR) {
                dst->type = GALE_T_STR;
                src = o->via.str.ptr;
                n = o->via.str.size;
            } else {
                dst->type = GALE_T_BYTES;
                src = o->via.bin.ptr;
                n = o->via.bin.size;
            }
            char *p = *pcur;
            if (n) memcpy(p, src, n);
            p[n] = '\0';
            dst->len = n;
            dst->u.s = p;
            *pcur = p + n + 1;
            break;
        }
        case MSGPACK_OBJECT_ARRAY: {
            uint32_t n = o->via.array.size;
            gale_value_t *items = (gale_value_t *)(void *)*acur;
            *acur += (size_t)n * sizeof(gale_value_t);
            for (uint32_t i = 0; i < n; i++) from_rec(&items[i], &o->via.array.ptr[i], acur, pcur);
            dst->type = GALE_T_ARRAY;
            dst->len = n;
            dst->u.a = n ? items : NULL;
            break;
        }
        case MSGPACK_OBJECT_MAP: {
            uint32_t n = o->via.map.size;
            gale_value_t *items = (gale_value_t *)(void *)*acur;
            *acur += 2 * (size_t)n * sizeof(gale_value_t);
            for (uint32_t i = 0; i < n; i++) {
                from_rec(&items[2 * (size_t)i], &o->via.map.ptr[i].key, acur, pcur);
                from_rec(&items[2 * (size_t)i + 1], &o->via.map.ptr[i].val, acur, pcur);
            }
            dst->type = GALE_T_MAP;
            dst->len = n;
            dst->u.a = n ? items : NULL;
            break;
        }
        default: /* NIL (and refused types, which _size rejected first) */
            dst->type = GALE_T_NIL;
            break;
    }
}

void gale__value_from_msgpack(gale_value_t *dst, const msgpack_object *o, char **cursor) {
    size_t arrays = 0, payloads = 0;
    /* Recomputed for the layout; the caller already checked o with _size. */
    if (size_rec(o, 0, &arrays, &payloads) != 0) {
        *dst = gale_nil();
        return;
    }
    char *acur = arrays ? align8(*cursor) : *cursor;
    char *pcur = arrays ? acur + arrays : acur; /* a NULL cursor is fine for scalars */
    from_rec(dst, o, &acur, &pcur);
    *cursor = pcur;
}

/* ------------------------------------------------------------------ */
/* Hashing                                                              */
/* ------------------------------------------------------------------ */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL

static int fnv_write(void *data, const char *buf, size_t len) {
    uint64_t h = *(uint64_t *)data;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)buf[i];
        h *= FNV_PRIME;
    }
    *(uint64_t *)data = h;
    return 0;
}

/* Like pack_rec but a hash cannot fail: too deep hashes as nil. */
static void hash_rec(msgpack_packer *pk, const gale_value_t *v, int depth) {
    if (TOO_DEEP(v, depth)) {
        msgpack_pack_nil(pk);
    } else if (v->type == GALE_T_ARRAY || v->type == GALE_T_MAP) {
        size_t n = v->len;
        if (v->type == GALE_T_MAP) {
            msgpack_pack_map(pk, v->len);
            n *= 2;
        } else {
            msgpack_pack_array(pk, v->len);
        }
        for (size_t i = 0; i < n; i++) hash_rec(pk, &v->u.a[i], depth + 1);
    } else if (v->type <= GALE_T_BYTES) {
        (void)pack_rec(pk, v, 0);
    } else {
        msgpack_pack_nil(pk); /* unknown type: hash as nil rather than skip */
    }
}

uint64_t gale__values_hash(const gale_value_t *vals, size_t n) {
    uint64_t h = FNV_OFFSET;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &h, fnv_write);
    for (size_t i = 0; i < n; i++) hash_rec(&pk, &vals[i], 0);
    return h;
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

typedef struct fmt_out {
    char *buf;
    size_t cap; /* usable bytes including the NUL */
    size_t len; /* bytes that would have been written */
} fmt_out_t;

static void out_bytes(fmt_out_t *o, const char *s, size_t n) {
    if (o->len < o->cap) {
        size_t room = o->cap - 1 - o->len;
        size_t k = n < room ? n : room;
        if (k) memcpy(o->buf + o->len, s, k);
    }
    o->len = sat_add(o->len, n);
}

static void out_str(fmt_out_t *o, const char *s) {
    out_bytes(o, s, strlen(s));
}

static void format_rec(fmt_out_t *o, const gale_value_t *v, int depth) {
    char tmp[64];
    if (TOO_DEEP(v, depth)) {
        out_str(o, "...");
        return;
    }
    switch (v->type) {
        case GALE_T_NIL:
            out_str(o, "nil");
            break;
        case GALE_T_BOOL:
            out_str(o, v->u.b ? "true" : "false");
            break;
        case GALE_T_INT:
            snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
            out_str(o, tmp);
            break;
        case GALE_T_DOUBLE:
            snprintf(tmp, sizeof tmp, "%g", v->u.d);
            out_str(o, tmp);
            break;
        case GALE_T_STR:
        case GALE_T_BYTES:
            out_bytes(o, v->u.s, v->len);
            break;
        case GALE_T_ARRAY:
            out_str(o, "[");
            for (uint32_t i = 0; i < v->len; i++) {
                if (i) out_str(o, ", ");
                format_rec(o, &v->u.a[i], depth + 1);
            }
            out_str(o, "]");
            break;
        case GALE_T_MAP:
            out_str(o, "{");
            for (uint32_t i = 0; i < v->len; i++) {
                if (i) out_str(o, ", ");
                format_rec(o, &v->u.a[2 * (size_t)i], depth + 1);
                out_str(o, ": ");
                format_rec(o, &v->u.a[2 * (size_t)i + 1], depth + 1);
            }
            out_str(o, "}");
            break;
        default:
            out_str(o, "?");
            break;
    }
}

size_t gale__value_format(const gale_value_t *v, char *buf, size_t cap) {
    fmt_out_t o = {buf, cap, 0};
    format_rec(&o, v, 0);
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
