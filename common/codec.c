/*
 * codec.c — the header frame and the batch body between workers (DESIGN §4).
 *
 * Batches are read straight from the bytes (see "Batch decoder"). Every
 * other message (headers here, control messages in control.c) goes
 * through gale__msgpack_unpack_whole, two passes over untrusted bytes.
 * First a structural scan (scan_msgpack) walks the tokens with an
 * explicit stack and checks that every length fits in the buffer and
 * every container really gets its items. Only then does msgpack-c build
 * objects: its unpacker allocates `count * sizeof(msgpack_object)` as
 * soon as it reads a container header, so a 5-byte frame claiming 4
 * billion items would otherwise ask for 64 GiB. After the scan, objects
 * number at most the bytes of the input.
 */
#include "common/codec.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/value.h"

#define STREAM_MAX_LEN GALE_WIRE_MAX_STREAM_LEN

/* msgpack-c's unpacker refuses more than MSGPACK_EMBED_STACK_SIZE (32)
 * open non-empty containers and the scan refuses the same. A value's depth
 * limit is that less the 4 containers a batch puts it under (batch, pair,
 * tuple, values), so a value that fits a batch also fits every message
 * read through msgpack-c (gale__value_from_msgpack); the batch encoder and
 * decoder both hold values to it. */
#define SCAN_MAX_DEPTH        32
#define BATCH_VALUE_MAX_DEPTH GALE__VALUE_MAX_WIRE_DEPTH
_Static_assert(BATCH_VALUE_MAX_DEPTH + 4 <= SCAN_MAX_DEPTH, "a batch nests values under 4");

static _Atomic uint64_t st_batches_encoded, st_tuples_encoded, st_batches_decoded,
    st_tuples_decoded, st_decode_errors;

static void stat_add(_Atomic uint64_t *c, uint64_t n) {
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void gale__codec_stats_get(gale__codec_stats_t *out) {
    out->batches_encoded = atomic_load_explicit(&st_batches_encoded, memory_order_relaxed);
    out->tuples_encoded = atomic_load_explicit(&st_tuples_encoded, memory_order_relaxed);
    out->batches_decoded = atomic_load_explicit(&st_batches_decoded, memory_order_relaxed);
    out->tuples_decoded = atomic_load_explicit(&st_tuples_decoded, memory_order_relaxed);
    out->decode_errors = atomic_load_explicit(&st_decode_errors, memory_order_relaxed);
}

__attribute__((format(printf, 3, 4))) static int proto_err(char *err, size_t errlen,
                                                           const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    stat_add(&st_decode_errors, 1);
    return GALE_EPROTO;
}

/* ------------------------------------------------------------------ */
/* Structural scan                                                      */
/* ------------------------------------------------------------------ */

static uint64_t be_read(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/*
 * Check that buf holds one complete msgpack object without ext types and
 * with at most SCAN_MAX_DEPTH open containers; its size goes to *used.
 * Returns NULL or a static reason.
 */
static const char *scan_msgpack(const unsigned char *buf, size_t len, size_t *used) {
    uint64_t remaining[SCAN_MAX_DEPTH]; /* items still due in each open container */
    int top = 0;
    size_t pos = 0;
    for (;;) {
        if (pos >= len) return "truncated";
        unsigned char b = buf[pos++];
        size_t avail = len - pos;
        uint64_t items = 0; /* container items (map: 2 per pair) */
        bool container = false;
        size_t skip = 0;     /* fixed-size payload */
        size_t lenbytes = 0; /* str/bin length field size */

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint, nil, bool: nothing follows */
        } else if (b <= 0x8f) {
            container = true;
            items = 2 * (uint64_t)(b & 0x0f);
        } else if (b <= 0x9f) {
            container = true;
            items = b & 0x0f;
        } else if (b <= 0xbf) {
            skip = b & 0x1f;
        } else {
            switch (b) {
                case 0xc4:
                    lenbytes = 1;
                    break;
                case 0xc5:
                    lenbytes = 2;
                    break;
                case 0xc6:
                    lenbytes = 4;
                    break;
                case 0xca:
                    skip = 4;
                    break;
                case 0xcb:
                    skip = 8;
                    break;
                case 0xcc:
                    skip = 1;
                    break;
                case 0xcd:
                    skip = 2;
                    break;
                case 0xce:
                    skip = 4;
                    break;
                case 0xcf:
                    skip = 8;
                    break;
                case 0xd0:
                    skip = 1;
                    break;
                case 0xd1:
                    skip = 2;
                    break;
                case 0xd2:
                    skip = 4;
                    break;
                case 0xd3:
                    skip = 8;
                    break;
                case 0xd9:
                    lenbytes = 1;
                    break;
                case 0xda:
                    lenbytes = 2;
                    break;
                case 0xdb:
                    lenbytes = 4;
                    break;
                case 0xdc:
                case 0xdd:
                case 0xde:
                case 0xdf: {
                    size_t k = (b == 0xdc || b == 0xde) ? 2 : 4;
                    if (avail < k) return "truncated";
                    items = be_read(buf + pos, k);
                    if (b >= 0xde) items *= 2;
                    pos += k;
                    avail -= k;
                    container = true;
                    break;
                }
                case 0xc1:
                    return "invalid byte 0xc1";
                default: /* 0xc7-0xc9, 0xd4-0xd8 */
                    return "ext types are not supported";
            }
        }
        if (lenbytes) {
            if (avail < lenbytes) return "truncated";
            skip = (size_t)be_read(buf + pos, lenbytes);
            pos += lenbytes;
            avail -= lenbytes;
        }
        if (skip > avail) return "truncated";
        pos += skip;

        if (container) {
            /* msgpack-c counts empty containers against its stack too. */
            if (top >= SCAN_MAX_DEPTH) return "nested too deeply";
            /* Each item takes at least one byte: reject impossible counts
             * before anyone allocates for them. */
            if (items > len - pos) return "truncated";
            if (items > 0) {
                remaining[top++] = items;
                continue;
            }
        }
        /* One item finished; it may finish its enclosing containers too. */
        for (;;) {
            if (top == 0) {
                *used = pos;
                return NULL;
            }
            if (--remaining[top - 1] > 0) break;
            top--;
        }
    }
}

int gale__msgpack_unpack_whole(const void *buf, size_t len, msgpack_unpacked *u, const char *what,
                               char *err, size_t errlen) {
    size_t used = 0;
    const char *why = buf ? scan_msgpack(buf, len, &used) : "empty";
    if (why) return proto_err(err, errlen, "%s: malformed msgpack (%s)", what, why);
    if (used != len)
        return proto_err(err, errlen, "%s: %zu trailing bytes after the message", what, len - used);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(u, buf, len, &off);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        return proto_err(err, errlen, "%s: out of memory decoding %zu bytes", what, len);
    if (r != MSGPACK_UNPACK_SUCCESS || off != len)
        return proto_err(err, errlen, "%s: malformed msgpack", what);
    return 0;
}

static bool str_is(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Header                                                               */
/* ------------------------------------------------------------------ */

int gale__wire_header_pack(msgpack_sbuffer *sb, const char *type, int worker,
                           uint64_t incarnation) {
    if (!sb || !type) return GALE_EINVAL;
    size_t tlen = strlen(type);
    if (tlen > UINT32_MAX) return GALE_EINVAL;
    msgpack_sbuffer_clear(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (msgpack_pack_map(&pk, worker < 0 ? 2 : 4) ||
        (worker >= 0 &&
         (msgpack_pack_str(&pk, 1) || msgpack_pack_str_body(&pk, "w", 1) ||
          msgpack_pack_int64(&pk, worker) || msgpack_pack_str(&pk, 1) ||
          msgpack_pack_str_body(&pk, "i", 1) || msgpack_pack_uint64(&pk, incarnation))) ||
        msgpack_pack_str(&pk, 1) || msgpack_pack_str_body(&pk, "v", 1) ||
        msgpack_pack_int64(&pk, GALE_WIRE_VERSION) || msgpack_pack_str(&pk, 1) ||
        msgpack_pack_str_body(&pk, "t", 1) || msgpack_pack_str(&pk, (uint32_t)tlen) ||
        (tlen && msgpack_pack_str_body(&pk, type, tlen)))
        return GALE_ENOMEM;
    return 0;
}

int gale__wire_header_check(const void *buf, size_t len, gale__wire_header_t *out, char *err,
                            size_t errlen) {
    out->type[0] = '\0';
    out->worker = -1;
    out->incarnation = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = gale__msgpack_unpack_whole(buf, len, &u, "header", err, errlen);
    if (rc) goto out;

    const msgpack_object *o = &u.data;
    if (o->type != MSGPACK_OBJECT_MAP) {
        rc = proto_err(err, errlen, "header: not a map (not a Gale peer?)");
        goto out;
    }
    const msgpack_object *ver = NULL, *type = NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (str_is(&kv->key, "v"))
            ver = &kv->val;
        else if (str_is(&kv->key, "t"))
            type = &kv->val;
        else if (str_is(&kv->key, "w") && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                 kv->val.via.u64 <= INT32_MAX)
            out->worker = (int64_t)kv->val.via.u64;
        else if (str_is(&kv->key, "i") && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            out->incarnation = kv->val.via.u64;
        /* other keys are allowed: later versions may add fields */
    }
    if (!ver || (ver->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
                 ver->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
        rc = proto_err(err, errlen, "header: missing or non-integer version \"v\"");
        goto out;
    }
    if (ver->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || ver->via.u64 != GALE_WIRE_VERSION) {
        if (ver->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            rc = proto_err(err, errlen,
                           "wire version %lld is not supported (this is version %d): upgrade "
                           "the older peer",
                           (long long)ver->via.i64, GALE_WIRE_VERSION);
        else
            rc = proto_err(err, errlen,
                           "wire version %llu is not supported (this is version %d): upgrade "
                           "the older peer",
                           (unsigned long long)ver->via.u64, GALE_WIRE_VERSION);
        goto out;
    }
    if (!type || type->type != MSGPACK_OBJECT_STR || type->via.str.size == 0) {
        rc = proto_err(err, errlen, "header: missing or non-string message type \"t\"");
        goto out;
    }
    size_t n =
        type->via.str.size < sizeof out->type - 1 ? type->via.str.size : sizeof out->type - 1;
    memcpy(out->type, type->via.str.ptr, n);
    out->type[n] = '\0';
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Batch encoder                                                        */
/* ------------------------------------------------------------------ */

void gale__batch_encoder_init(gale__batch_encoder_t *enc) {
    msgpack_sbuffer_init(&enc->sb);
    msgpack_packer_init(&enc->pk, &enc->sb, msgpack_sbuffer_write);
    enc->count = 0;
    enc->count_offset = 0;
    gale__batch_begin(enc);
}

void gale__batch_encoder_destroy(gale__batch_encoder_t *enc) {
    if (!enc) return;
    msgpack_sbuffer_destroy(&enc->sb);
    enc->count = 0;
}

void gale__batch_begin(gale__batch_encoder_t *enc) {
    /* array32 with a placeholder count, patched by batch_end: tuples can be
     * added one at a time without knowing how many will come. */
    static const char hdr[5] = {(char)0xdd, 0, 0, 0, 0};
    msgpack_sbuffer_clear(&enc->sb);
    enc->count = 0;
    enc->count_offset = 0;
    (void)msgpack_sbuffer_write(&enc->sb, hdr, sizeof hdr);
}

/* Refuse what a receiver would refuse, so errors surface at the sender. */
static int value_check(const gale_value_t *v, int depth) {
    switch (v->type) {
        case GALE_T_NIL:
        case GALE_T_BOOL:
        case GALE_T_INT:
        case GALE_T_DOUBLE:
            return 0;
        case GALE_T_STR:
        case GALE_T_BYTES:
            return v->len && !v->u.s ? GALE_EINVAL : 0;
        case GALE_T_ARRAY:
        case GALE_T_MAP: {
            if (depth >= BATCH_VALUE_MAX_DEPTH) return GALE_ERANGE;
            size_t n = v->type == GALE_T_MAP ? 2 * (size_t)v->len : v->len;
            if (n && !v->u.a) return GALE_EINVAL;
            for (size_t i = 0; i < n; i++) {
                int rc = value_check(&v->u.a[i], depth + 1);
                if (rc) return rc;
            }
            return 0;
        }
        default:
            return GALE_ETYPE;
    }
}

/* Room for n more bytes at the end of sb. */
static bool reserve(msgpack_sbuffer *sb, size_t n) {
    if (sb->alloc - sb->size >= n) return true;
    size_t cap = sb->alloc ? sb->alloc : 8192;
    while (cap - sb->size < n) {
        if (cap > SIZE_MAX / 2) return false;
        cap *= 2;
    }
    char *d = realloc(sb->data, cap);
    if (!d) return false;
    sb->data = d;
    sb->alloc = cap;
    return true;
}

static unsigned char *put_be(unsigned char *p, unsigned char type, uint64_t v, size_t n) {
    *p++ = type;
    for (size_t i = n; i-- > 0;) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

/* The smallest encodings, as msgpack-c's packer writes them. */
static unsigned char *put_uint(unsigned char *p, uint64_t v) {
    if (v <= 0x7f) {
        *p = (unsigned char)v;
        return p + 1;
    }
    if (v <= UINT8_MAX) return put_be(p, 0xcc, v, 1);
    if (v <= UINT16_MAX) return put_be(p, 0xcd, v, 2);
    if (v <= UINT32_MAX) return put_be(p, 0xce, v, 4);
    return put_be(p, 0xcf, v, 8);
}

static unsigned char *put_int(unsigned char *p, int64_t v) {
    if (v >= 0) return put_uint(p, (uint64_t)v);
    if (v >= -32) {
        *p = (unsigned char)(int8_t)v;
        return p + 1;
    }
    if (v >= INT8_MIN) return put_be(p, 0xd0, (uint64_t)v, 1);
    if (v >= INT16_MIN) return put_be(p, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN) return put_be(p, 0xd2, (uint64_t)v, 4);
    return put_be(p, 0xd3, (uint64_t)v, 8);
}

/* str (fix 0xa0, 8-bit 0xd9) or bin (no fix form: 0xc4) length header */
static unsigned char *put_str_head(unsigned char *p, unsigned char fix, unsigned char b8,
                                   uint32_t n) {
    if (fix && n <= 31) {
        *p = (unsigned char)(fix | n);
        return p + 1;
    }
    if (n <= UINT8_MAX) return put_be(p, b8, n, 1);
    if (n <= UINT16_MAX) return put_be(p, (unsigned char)(b8 + 1), n, 2);
    return put_be(p, (unsigned char)(b8 + 2), n, 4);
}

static unsigned char *put_array_head(unsigned char *p, uint32_t n) {
    if (n <= 15) {
        *p = (unsigned char)(0x90 | n);
        return p + 1;
    }
    return n <= UINT16_MAX ? put_be(p, 0xdc, n, 2) : put_be(p, 0xdd, n, 4);
}

/* Append one checked value. */
static bool value_put(gale__batch_encoder_t *enc, const gale_value_t *v) {
    if (v->type == GALE_T_ARRAY || v->type == GALE_T_MAP) return gale__value_pack(&enc->pk, v) == 0;
    bool payload = v->type == GALE_T_STR || v->type == GALE_T_BYTES;
    if (!reserve(&enc->sb, 9 + (payload ? v->len : 0))) return false;
    unsigned char *p = (unsigned char *)enc->sb.data + enc->sb.size;
    uint64_t bits;
    switch (v->type) {
        case GALE_T_NIL:
            *p++ = 0xc0;
            break;
        case GALE_T_BOOL:
            *p++ = v->u.b ? 0xc3 : 0xc2;
            break;
        case GALE_T_INT:
            p = put_int(p, v->u.i);
            break;
        case GALE_T_DOUBLE:
            memcpy(&bits, &v->u.d, sizeof bits);
            p = put_be(p, 0xcb, bits, 8);
            break;
        default: /* STR, BYTES */
            p = v->type == GALE_T_STR ? put_str_head(p, 0xa0, 0xd9, v->len)
                                      : put_str_head(p, 0, 0xc4, v->len);
            if (v->len) memcpy(p, v->u.s, v->len);
            p += v->len;
            break;
    }
    enc->sb.size = (size_t)(p - (unsigned char *)enc->sb.data);
    return true;
}

int gale__batch_add(gale__batch_encoder_t *enc, const gale__wire_tuple_t *t) {
    if (!enc || !t) return GALE_EINVAL;
    if (enc->sb.size < 5) return GALE_ESTATE; /* no begin */
    if (enc->count >= GALE_WIRE_MAX_TUPLES) return GALE_EFULL;
    if (t->dest_task < 1 || !(t->src_task >= 1 || t->src_task == -1)) return GALE_EINVAL;
    if (!t->stream || t->stream_len == 0 || t->stream_len > STREAM_MAX_LEN) return GALE_EINVAL;
    if (t->n_ids > GALE_WIRE_MAX_IDS || (t->n_ids && !t->ids)) return GALE_EINVAL;
    if (t->n_values > GALE_WIRE_MAX_VALUES || (t->n_values && !t->values)) return GALE_EINVAL;
    for (uint32_t i = 0; i < t->n_values; i++) {
        int rc = value_check(&t->values[i], 0);
        if (rc) return rc;
    }

    size_t mark = enc->sb.size;
    /* The fixed part, and scalar and string values, are written straight
     * into the buffer: msgpack-c's packer calls the sbuffer's write
     * callback once per field, which was most of the encoder's cost.
     * Containers go through gale__value_pack. */
    size_t need = 1 + 5 + 1 + 2 + t->stream_len + 5 + 5 + 2 * (size_t)t->n_ids * 9 + 5;
    if (!reserve(&enc->sb, need)) return GALE_ENOMEM;
    unsigned char *p = (unsigned char *)enc->sb.data + enc->sb.size;
    *p++ = 0x92;
    p = put_int(p, t->dest_task);
    *p++ = 0x94;
    p = put_str_head(p, 0xa0, 0xd9, t->stream_len);
    memcpy(p, t->stream, t->stream_len);
    p += t->stream_len;
    p = put_int(p, t->src_task);
    p = put_array_head(p, 2 * t->n_ids);
    for (uint32_t i = 0; i < 2 * t->n_ids; i++) p = put_uint(p, t->ids[i]);
    p = put_array_head(p, t->n_values);
    enc->sb.size = (size_t)(p - (unsigned char *)enc->sb.data);
    for (uint32_t i = 0; i < t->n_values; i++) {
        if (!value_put(enc, &t->values[i])) {
            /* Values were checked, so only the buffer can have failed: drop
             * the partial tuple so the batch stays well-formed. */
            enc->sb.size = mark;
            return GALE_ENOMEM;
        }
    }
    enc->count++;
    stat_add(&st_tuples_encoded, 1);
    return 0;
}

void gale__batch_end(gale__batch_encoder_t *enc) {
    if (enc->sb.size < enc->count_offset + 5) return;
    unsigned char *p = (unsigned char *)enc->sb.data + enc->count_offset + 1;
    p[0] = (unsigned char)(enc->count >> 24);
    p[1] = (unsigned char)(enc->count >> 16);
    p[2] = (unsigned char)(enc->count >> 8);
    p[3] = (unsigned char)enc->count;
    stat_add(&st_batches_encoded, 1);
}

/* ------------------------------------------------------------------ */
/* Batch decoder                                                        */
/* ------------------------------------------------------------------ */

/*
 * The batch decoder reads the bytes directly: no msgpack-c object tree,
 * no allocation. Batches are the hot path (a tuple crosses it twice when
 * acked: the tuple and its ack), and building msgpack-c's tree, checking
 * it and converting it cost several passes and a zone allocation per
 * batch. Every read below checks the bytes left first, so the reader
 * trusts no length; a container may claim no more items than bytes left.
 *
 * Pass 1 parses every tuple and every value, and pass 2 parses them again
 * to deliver them: a bad tuple anywhere rejects the batch before the
 * first callback. Values stay as their bytes until the receiver calls
 * gale__wire_values_read, which trusts what pass 1 checked.
 */
typedef struct mp_reader {
    const unsigned char *p, *end;
} mp_reader_t;

static size_t rd_left(const mp_reader_t *r) {
    return (size_t)(r->end - r->p);
}

/* n big-endian bytes after the type byte (already consumed) */
static bool rd_be(mp_reader_t *r, size_t n, uint64_t *v) {
    if (rd_left(r) < n) return false;
    *v = be_read(r->p, n);
    r->p += n;
    return true;
}

/* msgpack's type bytes, by family (0xc1 is none of them: never used) */
static bool is_int_byte(unsigned char b) {
    return b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3);
}
static bool is_str_byte(unsigned char b) { /* str or bin */
    return (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb) || (b >= 0xc4 && b <= 0xc6);
}
static bool is_array_byte(unsigned char b) {
    return (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
}
static bool is_map_byte(unsigned char b) {
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

/* An array or map header (its type byte already checked): the count in it
 * (a map's in pairs). */
static bool rd_container(mp_reader_t *r, uint64_t *count) {
    unsigned char b = *r->p++;
    if (b <= 0x9f) { /* fixmap 0x8X, fixarray 0x9X */
        *count = b & 0x0f;
        return true;
    }
    return rd_be(r, (b == 0xdc || b == 0xde) ? 2 : 4, count);
}

/* An array header whose count fits the bytes left (an item is >= 1 byte). */
static bool rd_array(mp_reader_t *r, uint32_t *n) {
    uint64_t v;
    if (!rd_left(r) || !is_array_byte(*r->p) || !rd_container(r, &v) || v > rd_left(r))
        return false;
    *n = (uint32_t)v;
    return true;
}

/* rd_array, saying why not: "truncated" for an array cut short. */
static const char *rd_array_or(mp_reader_t *r, uint32_t *n, const char *not_array) {
    bool array = rd_left(r) && is_array_byte(*r->p);
    if (rd_array(r, n)) return NULL;
    return array ? "truncated" : not_array;
}

/* Any integer: a negative one as *neg and its value in (int64_t)*u. */
static bool rd_int(mp_reader_t *r, bool *neg, uint64_t *u) {
    if (!rd_left(r)) return false;
    unsigned char b = *r->p++;
    *neg = false;
    if (b <= 0x7f) {
        *u = b;
        return true;
    }
    if (b >= 0xe0) {
        *neg = true;
        *u = (uint64_t)(int64_t)(int8_t)b;
        return true;
    }
    if (b >= 0xcc && b <= 0xcf) return rd_be(r, (size_t)1 << (b - 0xcc), u);
    if (b >= 0xd0 && b <= 0xd3) {
        size_t n = (size_t)1 << (b - 0xd0);
        if (!rd_be(r, n, u)) return false;
        if (n < 8 && (*u >> (8 * n - 1)) & 1) *u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
        *neg = (int64_t)*u < 0; /* a non-negative int reads as unsigned, as in msgpack-c */
        return true;
    }
    return false;
}

static bool rd_int32(mp_reader_t *r, int32_t *out) {
    bool neg;
    uint64_t u;
    if (!rd_int(r, &neg, &u)) return false;
    if (neg ? (int64_t)u < INT32_MIN : u > INT32_MAX) return false;
    *out = (int32_t)(int64_t)u;
    return true;
}

/* A str (or, when bin is set, a bin) whose bytes are all there. */
static bool rd_str(mp_reader_t *r, bool *bin, const char **s, uint32_t *n) {
    if (!rd_left(r)) return false;
    unsigned char b = *r->p++;
    uint64_t v;
    *bin = b >= 0xc4 && b <= 0xc6;
    if (b >= 0xa0 && b <= 0xbf)
        v = b & 0x1f;
    else if (b >= 0xd9 && b <= 0xdb) {
        if (!rd_be(r, (size_t)1 << (b - 0xd9), &v)) return false;
    } else if (*bin) {
        if (!rd_be(r, (size_t)1 << (b - 0xc4), &v)) return false;
    } else
        return false;
    if (v > rd_left(r)) return false;
    *s = (const char *)r->p;
    *n = (uint32_t)v;
    r->p += v;
    return true;
}

/* What one tuple's values need beyond their gale_value_t array. */
typedef struct values_size {
    /* nested value arrays; str/bin bytes with NULs. 64-bit whatever size_t
     * is: a batch's items times sizeof(gale_value_t) may pass 4 GiB */
    uint64_t arrays, payloads;
    bool all_ints;
} values_size_t;

/* Check one value at depth (0: a tuple field) and add up its sizes. */
static const char *value_walk(mp_reader_t *r, int depth, values_size_t *vs) {
    if (!rd_left(r)) return "truncated";
    unsigned char b = *r->p;
    bool neg, bin;
    uint64_t u;
    const char *s;
    uint32_t n;
    if (is_int_byte(b)) {
        if (!rd_int(r, &neg, &u)) return "truncated";
        return !neg && u > (uint64_t)INT64_MAX ? "an unsigned integer above INT64_MAX" : NULL;
    }
    vs->all_ints = false;
    if (b == 0xc0 || b == 0xc2 || b == 0xc3) {
        r->p++;
        return NULL;
    }
    if (b == 0xca || b == 0xcb) {
        r->p++;
        return rd_be(r, b == 0xca ? 4 : 8, &u) ? NULL : "truncated";
    }
    if (is_str_byte(b)) {
        if (!rd_str(r, &bin, &s, &n)) return "truncated";
        vs->payloads += (uint64_t)n + 1;
        return NULL;
    }
    bool map = is_map_byte(b);
    if (!map && !is_array_byte(b))
        return b == 0xc1 ? "invalid byte 0xc1" : "ext types are not supported";
    if (depth >= BATCH_VALUE_MAX_DEPTH) return "nested too deeply";
    if (!rd_container(r, &u)) return "truncated";
    uint64_t items = map ? 2 * u : u;
    if (items > rd_left(r)) return "truncated";
    vs->arrays += items * sizeof(gale_value_t); /* items <= bytes left: no wrap */
    for (uint64_t i = 0; i < items; i++) {
        const char *why = value_walk(r, depth + 1, vs);
        if (why) return why;
    }
    return NULL;
}

/* One batch item, [dest_task, [stream, src_task, ids, values]], into t
 * (ids into idbuf when there is one). NULL, or why the item is refused. */
static const char *tuple_parse(mp_reader_t *r, gale__wire_tuple_t *t, uint64_t *idbuf) {
    uint32_t n;
    const char *why = rd_array_or(r, &n, "not a [dest_task, tuple] pair");
    if (why || n != 2) return why ? why : "not a [dest_task, tuple] pair";
    if (!rd_int32(r, &t->dest_task) || t->dest_task < 1)
        return "dest_task is not a task id (int >= 1)";
    why = rd_array_or(r, &n, "tuple is not [stream, src_task, ids, values]");
    if (why || n != 4) return why ? why : "tuple is not [stream, src_task, ids, values]";
    bool bin;
    if (!rd_str(r, &bin, &t->stream, &t->stream_len) || bin) return "stream is not a string";
    if (t->stream_len == 0 || t->stream_len > STREAM_MAX_LEN)
        return "stream name is empty or longer than 255 bytes";
    if (!rd_int32(r, &t->src_task) || !(t->src_task >= 1 || t->src_task == -1))
        return "src_task is not a task id (int >= 1 or -1)";
    uint32_t nids;
    if ((why = rd_array_or(r, &nids, "ids is not an array"))) return why;
    if (nids % 2 != 0) return "ids has an odd length (want root, edge pairs)";
    if (nids > 2 * GALE_WIRE_MAX_IDS) return "too many ids";
    for (uint32_t i = 0; i < nids; i++) {
        bool neg;
        uint64_t id;
        if (!rd_int(r, &neg, &id) || neg) return "an id is not an unsigned integer";
        if (idbuf) idbuf[i] = id;
    }
    t->n_ids = nids / 2;
    t->ids = idbuf && nids ? idbuf : NULL;
    if ((why = rd_array_or(r, &t->n_values, "values is not an array"))) return why;
    if (t->n_values > GALE_WIRE_MAX_VALUES) return "too many values";
    t->values = NULL;
    t->wire_values = r->p;
    values_size_t vs = {0, 0, true};
    for (uint32_t i = 0; i < t->n_values; i++)
        if ((why = value_walk(r, 0, &vs))) return why;
    t->wire_values_len = (size_t)(r->p - t->wire_values);
    uint64_t extra = (vs.arrays ? vs.arrays + 7 : 0) + vs.payloads; /* 7: to align 8 */
    if (extra > GALE__VALUE_MAX_TUPLE_EXTRA) return "values too large";
    t->wire_values_arrays = (size_t)vs.arrays;
    t->wire_values_extra = (size_t)extra;
    t->wire_values_all_ints = vs.all_ints;
    return NULL;
}

/* Decode one value that value_walk accepted. */
static void value_read(mp_reader_t *r, gale_value_t *dst, char **acur, char **pcur) {
    unsigned char b = *r->p;
    bool neg, bin;
    uint64_t u = 0; /* the reads cannot fail here: value_walk passed */
    const char *s = NULL;
    uint32_t n = 0;
    memset(dst, 0, sizeof *dst);
    if (is_int_byte(b)) {
        (void)rd_int(r, &neg, &u);
        dst->type = GALE_T_INT;
        dst->u.i = (int64_t)u;
    } else if (b == 0xc0 || b == 0xc2 || b == 0xc3) {
        r->p++;
        dst->type = b == 0xc0 ? GALE_T_NIL : GALE_T_BOOL;
        dst->u.b = b == 0xc3;
    } else if (b == 0xca) {
        r->p++;
        (void)rd_be(r, 4, &u);
        uint32_t bits = (uint32_t)u;
        float f;
        memcpy(&f, &bits, sizeof f);
        dst->type = GALE_T_DOUBLE;
        dst->u.d = f;
    } else if (b == 0xcb) {
        r->p++;
        (void)rd_be(r, 8, &u);
        dst->type = GALE_T_DOUBLE;
        memcpy(&dst->u.d, &u, sizeof dst->u.d);
    } else if (is_str_byte(b)) {
        (void)rd_str(r, &bin, &s, &n);
        char *p = *pcur;
        if (n) memcpy(p, s, n);
        p[n] = '\0';
        *pcur = p + n + 1;
        dst->type = bin ? GALE_T_BYTES : GALE_T_STR;
        dst->len = n;
        dst->u.s = p;
    } else {
        bool map = is_map_byte(b);
        (void)rd_container(r, &u);
        size_t items = map ? 2 * (size_t)u : (size_t)u;
        gale_value_t *a = (gale_value_t *)(void *)*acur;
        *acur += items * sizeof(gale_value_t);
        for (size_t i = 0; i < items; i++) value_read(r, &a[i], acur, pcur);
        dst->type = map ? GALE_T_MAP : GALE_T_ARRAY;
        dst->len = (uint32_t)u;
        dst->u.a = items ? a : NULL;
    }
}

void gale__wire_values_read(const gale__wire_tuple_t *t, gale_value_t *dst, char *cursor) {
    mp_reader_t r = {t->wire_values, t->wire_values + t->wire_values_len};
    /* nested arrays first (8-aligned), then the payloads */
    char *acur = cursor;
    if (t->wire_values_arrays) acur += (8 - ((uintptr_t)cursor & 7)) & 7;
    char *pcur = acur + t->wire_values_arrays;
    for (uint32_t i = 0; i < t->n_values; i++) value_read(&r, &dst[i], &acur, &pcur);
}

int gale__batch_decode(const void *buf, size_t len, gale__batch_tuple_cb cb, void *ud, char *err,
                       size_t errlen) {
    if (!buf || !len) return proto_err(err, errlen, "batch: malformed msgpack (empty)");
    mp_reader_t r = {buf, (const unsigned char *)buf + len};
    uint32_t n;
    const char *why = rd_array_or(&r, &n, "not an array");
    if (why) return proto_err(err, errlen, "batch: %s", why);
    if (n > GALE_WIRE_MAX_TUPLES)
        return proto_err(err, errlen, "batch: %u tuples (at most %d)", n, GALE_WIRE_MAX_TUPLES);
    const unsigned char *first = r.p;
    /* All or nothing: check every tuple before delivering any. */
    for (uint32_t i = 0; i < n; i++) {
        gale__wire_tuple_t t;
        if ((why = tuple_parse(&r, &t, NULL)))
            return proto_err(err, errlen, "batch tuple %u: %s", i, why);
    }
    if (r.p != r.end)
        return proto_err(err, errlen, "batch: %zu trailing bytes after the message", rd_left(&r));
    stat_add(&st_batches_decoded, 1);
    stat_add(&st_tuples_decoded, n);
    r.p = first;
    for (uint32_t i = 0; i < n; i++) {
        gale__wire_tuple_t t;
        uint64_t idbuf[2 * GALE_WIRE_MAX_IDS];
        (void)tuple_parse(&r, &t, idbuf);
        int rc = cb ? cb(ud, &t) : 0;
        if (rc) return rc;
    }
    return 0;
}
