/*
 * fuzz_batch.c — libFuzzer target for the wire decoders (common/codec.c,
 * common/value.c). The first input byte splits the rest into a header
 * frame and a batch body; every decoded tuple's values are converted into
 * gale values as a worker would, so ASan sees every byte they touch, and
 * checked against msgpack-c's reading of the same bytes. The whole input
 * is also decoded by a reference (the decoder before a453c17): both must
 * accept or refuse it alike and deliver the same tuples.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Tuples as delivered, to compare the two decoders. */
typedef struct rt {
    int32_t dest, src;
    char stream[256];
    uint32_t slen, nids, nvals;
    uint64_t ids[128];
    gale_value_t *vals;
    char *block;
} rt_t;

typedef struct coll {
    rt_t *t;
    size_t n, cap;
} coll_t;

static rt_t *push(coll_t *c) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        rt_t *t = realloc(c->t, c->cap * sizeof *c->t);
        if (!t) abort();
        c->t = t;
    }
    rt_t *r = &c->t[c->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static void coll_free(coll_t *c) {
    for (size_t i = 0; i < c->n; i++) free(c->t[i].block);
    free(c->t);
}

static int new_cb(void *ud, const gale__wire_tuple_t *t) {
    coll_t *c = ud;
    rt_t *r = push(c);
    r->dest = t->dest_task;
    r->src = t->src_task;
    r->slen = t->stream_len;
    memcpy(r->stream, t->stream, t->stream_len);
    r->nids = t->n_ids;
    if (t->n_ids) memcpy(r->ids, t->ids, 2 * t->n_ids * 8);
    r->nvals = t->n_values;
    size_t head = (t->n_values + 1) * sizeof(gale_value_t);
    r->block = malloc(head + t->wire_values_extra);
    if (!r->block) abort();
    r->vals = (gale_value_t *)(void *)r->block;
    gale__wire_values_read(t, r->vals, r->block + head);
    bool ints = true;
    for (uint32_t i = 0; i < t->n_values; i++) ints &= r->vals[i].type == GALE_T_INT;
    if (ints != t->wire_values_all_ints) abort();
    return 0;
}

/* The reference: the decoder before a453c17 (msgpack-c's tree, checked
 * item by item, values converted by gale__value_from_msgpack). It lacks
 * the new per-tuple bound GALE__VALUE_MAX_TUPLE_EXTRA, which no input
 * under 128 MiB reaches. */
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

static const char *tuple_check(const msgpack_object *item, rt_t *t) {
    if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 2) return "pair";
    const msgpack_object *pair = item->via.array.ptr;
    if (!int32_of(&pair[0], &t->dest) || t->dest < 1) return "dest";
    if (pair[1].type != MSGPACK_OBJECT_ARRAY || pair[1].via.array.size != 4) return "tuple";
    const msgpack_object *f = pair[1].via.array.ptr;
    if (f[0].type != MSGPACK_OBJECT_STR) return "stream";
    if (f[0].via.str.size == 0 || f[0].via.str.size > 255) return "stream len";
    t->slen = f[0].via.str.size;
    memcpy(t->stream, f[0].via.str.ptr, t->slen);
    if (!int32_of(&f[1], &t->src) || !(t->src >= 1 || t->src == -1)) return "src";
    if (f[2].type != MSGPACK_OBJECT_ARRAY) return "ids";
    uint32_t nids = f[2].via.array.size;
    if (nids % 2 != 0) return "odd";
    if (nids > 128) return "many ids";
    for (uint32_t i = 0; i < nids; i++) {
        if (f[2].via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER) return "id";
        t->ids[i] = f[2].via.array.ptr[i].via.u64;
    }
    t->nids = nids / 2;
    if (f[3].type != MSGPACK_OBJECT_ARRAY) return "values";
    if (f[3].via.array.size > 4096) return "many values";
    t->nvals = f[3].via.array.size;
    size_t extra = 0;
    for (uint32_t i = 0; i < t->nvals; i++) {
        ssize_t n = gale__value_from_msgpack_size(&f[3].via.array.ptr[i]);
        if (n < 0) return "value";
        extra += (size_t)n;
    }
    size_t head = (t->nvals + 1) * sizeof(gale_value_t);
    t->block = malloc(head + extra + 1);
    if (!t->block) abort();
    t->vals = (gale_value_t *)(void *)t->block;
    char *cur = t->block + head;
    for (uint32_t i = 0; i < t->nvals; i++)
        gale__value_from_msgpack(&t->vals[i], &f[3].via.array.ptr[i], &cur);
    return NULL;
}

static int old_decode(const void *buf, size_t len, coll_t *c) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    char err[256];
    int rc = gale__msgpack_unpack_whole(buf, len, &u, "batch", err, sizeof err);
    if (rc) goto out;
    const msgpack_object *root = &u.data;
    rc = -1;
    if (root->type != MSGPACK_OBJECT_ARRAY) goto out;
    if (root->via.array.size > 65536) goto out;
    for (uint32_t i = 0; i < root->via.array.size; i++) {
        rt_t *t = push(c);
        if (tuple_check(&root->via.array.ptr[i], t)) goto out;
    }
    rc = 0;
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

static volatile uint64_t fuzz_sink;

static int convert_cb(void *ud, const gale__wire_tuple_t *t) {
    (void)ud;
    if (t->dest_task < 1 || t->stream_len == 0 || t->stream_len > 255) abort();
    /* Touch every id and stream byte so ASan checks them. */
    for (uint32_t i = 0; i < 2 * t->n_ids; i++) fuzz_sink += t->ids[i];
    for (uint32_t i = 0; i < t->stream_len; i++) fuzz_sink += (unsigned char)t->stream[i];

    if (t->wire_values_extra > ((size_t)1 << 31)) abort(); /* the decoder's bound */
    size_t head = (t->n_values + 1) * sizeof(gale_value_t);
    /* exactly what the decoder asked for, so ASan sees any write past it */
    char *block = malloc(head + t->wire_values_extra);
    if (!block) return 0;
    gale_value_t *out = (gale_value_t *)(void *)block;
    gale__wire_values_read(t, out, block + head);
    /* Differential: msgpack-c and value.c must read the same values. */
    size_t off = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    for (uint32_t i = 0; i < t->n_values; i++) {
        char text[64];
        (void)gale__value_format(&out[i], text, sizeof text);
        if (t->wire_values_all_ints && out[i].type != GALE_T_INT) abort();
        if (msgpack_unpack_next(&u, (const char *)t->wire_values, t->wire_values_len, &off) !=
            MSGPACK_UNPACK_SUCCESS)
            abort();
        ssize_t need = gale__value_from_msgpack_size(&u.data);
        if (need < 0) abort();
        char *mine = malloc((size_t)need + 1);
        if (!mine) abort();
        char *cur = mine;
        gale_value_t v;
        gale__value_from_msgpack(&v, &u.data, &cur);
        if (!gale_value_equal(&v, &out[i])) abort();
        free(mine);
    }
    if (off != t->wire_values_len) abort();
    msgpack_unpacked_destroy(&u);
    (void)gale__values_hash(out, t->n_values);
    free(block);
    return 0;
}

static void compare_with_reference(const uint8_t *data, size_t size) {
    coll_t a = {0}, b = {0};
    char err[256];
    int ra = gale__batch_decode(data, size, new_cb, &a, err, sizeof err);
    int rb = old_decode(data, size, &b);
    if ((ra == 0) != (rb == 0)) {
        fprintf(stderr, "new decoder %s, reference %s\n", ra ? err : "accepts",
                rb ? "refuses" : "accepts");
        abort();
    }
    if (ra == 0) {
        if (a.n != b.n) abort();
        for (size_t i = 0; i < a.n; i++) {
            const rt_t *x = &a.t[i], *y = &b.t[i];
            if (x->dest != y->dest || x->src != y->src || x->slen != y->slen ||
                memcmp(x->stream, y->stream, x->slen) != 0 || x->nids != y->nids ||
                memcmp(x->ids, y->ids, 16 * (size_t)x->nids) != 0 || x->nvals != y->nvals)
                abort();
            for (uint32_t k = 0; k < x->nvals; k++)
                if (!gale_value_equal(&x->vals[k], &y->vals[k])) abort();
        }
    }
    coll_free(&a);
    coll_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t hlen = data[0];
    const uint8_t *rest = data + 1;
    size_t rlen = size - 1;
    if (hlen > rlen) hlen = rlen;

    gale__wire_header_t h;
    char err[256];
    (void)gale__wire_header_check(rest, hlen, &h, err, sizeof err);
    (void)gale__batch_decode(rest + hlen, rlen - hlen, convert_cb, NULL, err, sizeof err);
    /* The whole input as a batch too, so seeds need no length byte. */
    (void)gale__batch_decode(data, size, convert_cb, NULL, err, sizeof err);
    compare_with_reference(data, size);
    return 0;
}
