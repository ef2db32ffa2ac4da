/*
 * fuzz_batch.c — libFuzzer target for the wire decoders (common/codec.c,
 * common/value.c). The first input byte splits the rest into a header
 * frame and a batch body; every decoded tuple's values are converted into
 * gale values as a worker would, so ASan sees every byte they touch, and
 * checked against msgpack-c's reading of the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    return 0;
}
