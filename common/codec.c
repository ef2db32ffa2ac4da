/*
 * codec.c — the header frame and the batch body between workers (DESIGN §4).
 *
 * Decoding is two passes over untrusted bytes. First a structural scan
 * (scan_msgpack) walks the tokens with an explicit stack and checks that
 * every length fits in the buffer and every container really gets its
 * items. Only then does msgpack-c build objects: its unpacker allocates
 * `count * sizeof(msgpack_object)` as soon as it reads a container header,
 * so a 5-byte frame claiming 4 billion items would otherwise ask for
 * 64 GiB. After the scan, objects number at most the bytes of the input.
 *
 * A batch is then validated completely (every tuple, every value) before
 * the first callback runs, so a bad tuple anywhere rejects the whole
 * batch and a receiver never sees half of one.
 */
#include "common/codec.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/value.h"

#define STREAM_MAX_LEN GALE_WIRE_MAX_STREAM_LEN

/* msgpack-c's unpacker refuses more than MSGPACK_EMBED_STACK_SIZE (32)
 * open non-empty containers; the scan refuses the same, and a batch puts
 * each value under 4 of them (batch, pair, tuple, values), so the encoder
 * refuses values nested deeper than this rather than send an unreadable
 * batch. */
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
    msgpack_packer *pk = &enc->pk;
    bool ok = msgpack_pack_array(pk, 2) == 0 && msgpack_pack_int32(pk, t->dest_task) == 0 &&
              msgpack_pack_array(pk, 4) == 0 && msgpack_pack_str(pk, t->stream_len) == 0 &&
              msgpack_pack_str_body(pk, t->stream, t->stream_len) == 0 &&
              msgpack_pack_int32(pk, t->src_task) == 0 && msgpack_pack_array(pk, 2 * t->n_ids) == 0;
    for (uint32_t i = 0; ok && i < 2 * t->n_ids; i++) ok = msgpack_pack_uint64(pk, t->ids[i]) == 0;
    ok = ok && msgpack_pack_array(pk, t->n_values) == 0;
    for (uint32_t i = 0; ok && i < t->n_values; i++) ok = gale__value_pack(pk, &t->values[i]) == 0;
    if (!ok) {
        /* Values were checked, so only the buffer can have failed: drop
         * the partial tuple so the batch stays well-formed. */
        enc->sb.size = mark;
        return GALE_ENOMEM;
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

static bool int32_of(const msgpack_object *o, int32_t *out) {
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT32_MAX) {
        *out = (int32_t)o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 >= INT32_MIN) {
        *out = (int32_t)o->via.i64;
        return true;
    }
    return false;
}

/* Fill t (ids left to the caller) from one batch item, or explain why not. */
static const char *tuple_check(const msgpack_object *item, gale__wire_tuple_t *t,
                               const msgpack_object **ids_out, bool check_values) {
    if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 2)
        return "not a [dest_task, tuple] pair";
    const msgpack_object *pair = item->via.array.ptr;
    if (!int32_of(&pair[0], &t->dest_task) || t->dest_task < 1)
        return "dest_task is not a task id (int >= 1)";
    if (pair[1].type != MSGPACK_OBJECT_ARRAY || pair[1].via.array.size != 4)
        return "tuple is not [stream, src_task, ids, values]";
    const msgpack_object *f = pair[1].via.array.ptr;
    if (f[0].type != MSGPACK_OBJECT_STR) return "stream is not a string";
    if (f[0].via.str.size == 0 || f[0].via.str.size > STREAM_MAX_LEN)
        return "stream name is empty or longer than 255 bytes";
    t->stream = f[0].via.str.ptr;
    t->stream_len = f[0].via.str.size;
    if (!int32_of(&f[1], &t->src_task) || !(t->src_task >= 1 || t->src_task == -1))
        return "src_task is not a task id (int >= 1 or -1)";
    if (f[2].type != MSGPACK_OBJECT_ARRAY) return "ids is not an array";
    uint32_t nids = f[2].via.array.size;
    if (nids % 2 != 0) return "ids has an odd length (want root, edge pairs)";
    if (nids > 2 * GALE_WIRE_MAX_IDS) return "too many ids";
    for (uint32_t i = 0; i < nids; i++)
        if (f[2].via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return "an id is not an unsigned integer";
    t->n_ids = nids / 2;
    *ids_out = f[2].via.array.ptr;
    if (f[3].type != MSGPACK_OBJECT_ARRAY) return "values is not an array";
    if (f[3].via.array.size > GALE_WIRE_MAX_VALUES) return "too many values";
    for (uint32_t i = 0; check_values && i < f[3].via.array.size; i++)
        if (gale__value_from_msgpack_size(&f[3].via.array.ptr[i]) < 0)
            return "a value has an unsupported type or is nested too deeply";
    t->n_values = f[3].via.array.size;
    t->msgpack_values = &f[3];
    t->values = NULL;
    return NULL;
}

int gale__batch_decode(const void *buf, size_t len, gale__batch_tuple_cb cb, void *ud, char *err,
                       size_t errlen) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = gale__msgpack_unpack_whole(buf, len, &u, "batch", err, errlen);
    if (rc) goto out;

    const msgpack_object *root = &u.data;
    if (root->type != MSGPACK_OBJECT_ARRAY) {
        rc = proto_err(err, errlen, "batch: not an array");
        goto out;
    }
    uint32_t n = root->via.array.size;
    if (n > GALE_WIRE_MAX_TUPLES) {
        rc = proto_err(err, errlen, "batch: %u tuples (at most %d)", n, GALE_WIRE_MAX_TUPLES);
        goto out;
    }
    /* All or nothing: check every tuple before delivering any. */
    for (uint32_t i = 0; i < n; i++) {
        gale__wire_tuple_t t;
        const msgpack_object *ids;
        const char *why = tuple_check(&root->via.array.ptr[i], &t, &ids, true);
        if (why) {
            rc = proto_err(err, errlen, "batch tuple %u: %s", i, why);
            goto out;
        }
    }
    stat_add(&st_batches_decoded, 1);
    for (uint32_t i = 0; i < n; i++) {
        gale__wire_tuple_t t;
        const msgpack_object *ids = NULL;
        uint64_t idbuf[2 * GALE_WIRE_MAX_IDS];
        (void)tuple_check(&root->via.array.ptr[i], &t, &ids, false);
        for (uint32_t k = 0; k < 2 * t.n_ids; k++) idbuf[k] = ids[k].via.u64;
        t.ids = t.n_ids ? idbuf : NULL;
        stat_add(&st_tuples_decoded, 1);
        if (cb && (rc = cb(ud, &t)) != 0) goto out;
    }
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}
