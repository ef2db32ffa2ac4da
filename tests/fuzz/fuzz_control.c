/*
 * fuzz_control.c — libFuzzer target for the control-plane decoder
 * (common/control.c). The first input byte splits the rest into a header
 * frame and a body frame. Whatever decodes must encode again (the encoder
 * accepts all the decoder accepts), and decoding that encoding must give
 * the same bytes once more: a message survives any number of hops.
 *
 * Seeds: tests/fuzz/corpus/fuzz_control/<type> holds one valid message
 * of each type in this target's layout (a byte with the header's length,
 * the header, the body), so the fuzzer starts past the header and the
 * field names. Make a new one from gale__ctl_encode's output the same way.
 * The body is also decoded alone as one assignment record (nimbus's
 * store format, gale__ctl_assignment_decode).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t hlen = data[0];
    if (hlen > size - 1) hlen = size - 1;
    const uint8_t *hdr = data + 1, *body = data + 1 + hlen;
    size_t blen = size - 1 - hlen;

    char err[256];
    /* the body alone as nimbus's stored assignment record: it too must
     * encode again to the same bytes */
    gale__ctl_assignment_file_t f;
    if (gale__ctl_assignment_decode(body, blen, &f, err, sizeof err) == 0) {
        msgpack_sbuffer a1;
        msgpack_sbuffer_init(&a1);
        if (gale__ctl_assignment_encode(&a1, &f.a, err, sizeof err)) abort();
        gale__ctl_assignment_file_t f2;
        if (gale__ctl_assignment_decode(a1.data, a1.size, &f2, err, sizeof err)) abort();
        if (f2.a.version != f.a.version || f2.a.executors.n != f.a.executors.n) abort();
        gale__ctl_assignment_file_free(&f2);
        msgpack_sbuffer_destroy(&a1);
    }
    gale__ctl_assignment_file_free(&f);

    gale__ctl_msg_t m;
    int rc = gale__ctl_decode(hdr, hlen, body, blen, &m, err, sizeof err);
    if (rc) {
        if (m.mem || !memchr(err, '\0', sizeof err) || strchr(err, '\n')) abort();
        return 0;
    }
    msgpack_sbuffer h1, b1, h2, b2;
    msgpack_sbuffer_init(&h1);
    msgpack_sbuffer_init(&b1);
    msgpack_sbuffer_init(&h2);
    msgpack_sbuffer_init(&b2);
    if (gale__ctl_encode(&h1, &b1, m.type, m.req, &m.u, err, sizeof err)) abort();
    gale__ctl_msg_t m2;
    if (gale__ctl_decode(h1.data, h1.size, b1.data, b1.size, &m2, err, sizeof err)) abort();
    if (m2.type != m.type || m2.req != m.req) abort();
    if (gale__ctl_encode(&h2, &b2, m2.type, m2.req, &m2.u, err, sizeof err)) abort();
    if (h1.size != h2.size || memcmp(h1.data, h2.data, h1.size) != 0) abort();
    if (b1.size != b2.size || memcmp(b1.data, b2.data, b1.size) != 0) abort();
    gale__ctl_msg_destroy(&m2);
    gale__ctl_msg_destroy(&m);
    msgpack_sbuffer_destroy(&h1);
    msgpack_sbuffer_destroy(&b1);
    msgpack_sbuffer_destroy(&h2);
    msgpack_sbuffer_destroy(&b2);
    return 0;
}
