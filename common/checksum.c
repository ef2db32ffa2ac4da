/*
 * checksum.c — BLAKE2b-256 through libsodium's crypto_generichash (see
 * checksum.h for why there is exactly one checksum and one place that
 * names the library).
 */
#include "common/checksum.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "gale/gale.h"

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((gale__checksum_t *)0)->opaque),
               "gale__checksum_t is too small for libsodium's state");
_Static_assert(_Alignof(crypto_generichash_state) <= 64, "gale__checksum_t alignment");
_Static_assert(GALE_CHECKSUM_LEN >= crypto_generichash_BYTES_MIN &&
                   GALE_CHECKSUM_LEN <= crypto_generichash_BYTES_MAX,
               "BLAKE2b digest length");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_rc = -1;

static void sodium_start(void) {
    sodium_rc = sodium_init(); /* 0, or 1 when already initialised */
}

static crypto_generichash_state *state_of(gale__checksum_t *c) {
    return (crypto_generichash_state *)(void *)c->opaque;
}

int gale__checksum_init(gale__checksum_t *c) {
    if (!c) return GALE_EINVAL;
    pthread_once(&sodium_once, sodium_start);
    if (sodium_rc < 0) return GALE_EIO;
    return crypto_generichash_init(state_of(c), NULL, 0, GALE_CHECKSUM_LEN) == 0 ? 0 : GALE_EIO;
}

void gale__checksum_update(gale__checksum_t *c, const void *buf, size_t len) {
    static const unsigned char none[1];
    crypto_generichash_update(state_of(c), len ? buf : none, len);
}

void gale__checksum_final(gale__checksum_t *c, uint8_t out[GALE_CHECKSUM_LEN]) {
    crypto_generichash_final(state_of(c), out, GALE_CHECKSUM_LEN);
}

int gale__checksum(const void *buf, size_t len, uint8_t out[GALE_CHECKSUM_LEN]) {
    gale__checksum_t c;
    int rc = gale__checksum_init(&c);
    if (rc) return rc;
    gale__checksum_update(&c, buf, len);
    gale__checksum_final(&c, out);
    return 0;
}

void gale__checksum_hex(const uint8_t sum[GALE_CHECKSUM_LEN], char hex[GALE_CHECKSUM_HEX]) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < GALE_CHECKSUM_LEN; i++) {
        hex[2 * i] = digits[sum[i] >> 4];
        hex[2 * i + 1] = digits[sum[i] & 0x0f];
    }
    hex[2 * GALE_CHECKSUM_LEN] = '\0';
}
