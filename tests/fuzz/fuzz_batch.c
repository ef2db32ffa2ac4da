/*
 * fuzz_batch.c — libFuzzer target for the wire decoders (common/codec.c,
 * common/value.c). The first input byte splits the rest into a header
 * frame and a batch body; every decoded tuple's values are converted into
 * gale values as a worker would, so ASan sees every byte they touch.
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

    const msgpack_object *vals = t->msgpack_values;
    if (vals->type != MSGPACK_OBJECT_ARRAY || vals->via.array.size != t->n_values) abort();
    size_t extra = 0;
    for (uint32_t i = 0; i < t->n_values; i++) {
        ssize_t n = gale__value_from_msgpack_size(&vals->via.array.ptr[i]);
        if (n < 0) abort(); /* the decoder promised every value converts */
        extra += (size_t)n;
    }
    size_t head = (t->n_values + 1) * sizeof(gale_value_t);
    char *block = malloc(head + extra + 1);
    if (!block) return 0;
    gale_value_t *out = (gale_value_t *)(void *)block;
    char *cursor = block + head;
    for (uint32_t i = 0; i < t->n_values; i++) {
        gale__value_from_msgpack(&out[i], &vals->via.array.ptr[i], &cursor);
        if (cursor > block + head + extra) abort();
        char text[64];
        (void)gale__value_format(&out[i], text, sizeof text);
    }
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
