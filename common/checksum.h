/*
 * checksum.h — the one checksum of the cluster: BLAKE2b-256 from libsodium
 * (crypto_generichash). The CLI sums the topology code and resources it
 * uploads, nimbus checks what it received against those sums, and
 * supervisors check what they fetched before a worker dlopens it
 * (DESIGN §10 "Code"). Nothing else in Gale includes <sodium.h>, so the
 * library choice stays in this file.
 *
 * A gale__checksum_t is used by one thread at a time; the functions keep
 * no other state (sodium_init runs once, thread-safely, on first use).
 */
#ifndef GALE_COMMON_CHECKSUM_H
#define GALE_COMMON_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#define GALE_CHECKSUM_LEN 32 /* bytes of a BLAKE2b-256 digest */
#define GALE_CHECKSUM_HEX (2 * GALE_CHECKSUM_LEN + 1)

/* Incremental state; opaque storage sized and aligned for libsodium's. */
typedef struct gale__checksum {
    _Alignas(64) unsigned char opaque[384];
} gale__checksum_t;

/** @brief Start a sum. 0, or GALE_EIO when libsodium cannot initialise. */
int gale__checksum_init(gale__checksum_t *c);
/** @brief Add len bytes (len may be 0). */
void gale__checksum_update(gale__checksum_t *c, const void *buf, size_t len);
/** @brief Write the digest to out; c must be initialised again to reuse. */
void gale__checksum_final(gale__checksum_t *c, uint8_t out[GALE_CHECKSUM_LEN]);

/** @brief The digest of one buffer. 0 or GALE_EIO. */
int gale__checksum(const void *buf, size_t len, uint8_t out[GALE_CHECKSUM_LEN]);

/** @brief Lowercase hex of a digest into hex (NUL-terminated), for logs and messages. */
void gale__checksum_hex(const uint8_t sum[GALE_CHECKSUM_LEN], char hex[GALE_CHECKSUM_HEX]);

#endif
