/*
 * fuzz_topology.c — libFuzzer target for gale__topology_unpack, the
 * decoder nimbus and every worker run on bytes from the network.
 *
 * Whatever the input, unpack must return a topology or GALE_EPROTO
 * without crashing or leaking; whatever it accepts must survive a
 * pack -> unpack round trip unchanged, and pack deterministically.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology.h"

static void pack(const gale__topology_t *t, msgpack_sbuffer *sb) {
    msgpack_sbuffer_init(sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (gale__topology_pack(&pk, t) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gale__topology_t *t = NULL;
    char err[256];
    int rc = gale__topology_unpack(data, size, &t, err, sizeof err);
    if (rc) {
        if (t || rc != GALE_EPROTO || !err[0]) abort();
        return 0;
    }
    /* Validation must not crash on anything unpack accepts. */
    (void)gale__topology_validate(t, NULL, NULL, err, sizeof err);

    msgpack_sbuffer a, b;
    pack(t, &a);
    gale__topology_t *u = NULL;
    if (gale__topology_unpack(a.data, a.size, &u, err, sizeof err) != 0) abort();
    if (!gale__topology_equal(t, u)) abort();
    pack(u, &b);
    if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0) abort();
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    gale__topology_destroy(u);
    gale__topology_destroy(t);
    return 0;
}
