/*
 * value.h — deep copies, msgpack conversion and hashing of gale values.
 *
 * Values (gale.h) are views; this module copies them into caller-provided
 * contiguous memory (so a tuple or a conf entry is one block), converts
 * them to and from msgpack, and hashes them for the fields grouping.
 * All functions are thread-safe (no shared state).
 */
#ifndef GALE_COMMON_VALUE_H
#define GALE_COMMON_VALUE_H

#include <msgpack.h>

#include "gale/gale.h"

/* Nesting deeper than this is refused by decoders (stack safety); every
 * recursive walk here stops at it. */
#define GALE__VALUE_MAX_DEPTH 32
/* Containers a tuple value may nest between workers: a batch puts each
 * value under 4 more (codec.c), within msgpack-c's 32. Emits check it in
 * every mode, so one worker and many accept the same tuples. */
#define GALE__VALUE_MAX_WIRE_DEPTH (GALE__VALUE_MAX_DEPTH - 4)
/* Most out-of-line bytes (strings, nested arrays) of one tuple's values. */
#define GALE__VALUE_MAX_TUPLE_EXTRA ((size_t)1 << 31)

/**
 * @brief Bytes of out-of-line storage a deep copy of v needs (nested value
 * arrays, then string/bytes payloads; aligned to 8 per nested array).
 */
size_t gale__value_extra_size(const gale_value_t *v);

/**
 * @brief Check tuple values against what the wire carries (nesting at most
 * GALE__VALUE_MAX_WIRE_DEPTH, payload pointers set, known types, at most
 * GALE__VALUE_MAX_TUPLE_EXTRA bytes in all) and sum
 * their gale__value_extra_size into *extra in the same walk. 0, or
 * GALE_ERANGE (too deep or too large), GALE_EINVAL (NULL payload) or
 * GALE_ETYPE with the index of the offending value in *bad.
 */
int gale__values_check_slow(const gale_value_t *vals, size_t n, size_t *extra, size_t *bad);
static inline int gale__values_check(const gale_value_t *vals, size_t n, size_t *extra,
                                     size_t *bad) {
    /* the emit fast path: scalars and strings (short ones: no overflow) */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (vals[i].type < GALE_T_STR) continue;
        if (vals[i].type > GALE_T_BYTES || !vals[i].u.s || vals[i].len > (1u << 30))
            return gale__values_check_slow(vals, n, extra, bad);
        total += (size_t)vals[i].len + 1;
    }
    if (total > ((size_t)1 << 30)) return gale__values_check_slow(vals, n, extra, bad);
    *extra = total;
    return 0;
}

/**
 * @brief Deep-copy src into *dst, placing nested arrays and payloads at
 * *cursor (advanced). The caller reserved gale__value_extra_size(src).
 * Strings are NUL-terminated in the copy (the extra byte is counted).
 */
void gale__value_copy(gale_value_t *dst, const gale_value_t *src, char **cursor);

/** @brief Pack v with the canonical (smallest) msgpack encoding. 0 or -1. */
int gale__value_pack(msgpack_packer *pk, const gale_value_t *v);

/**
 * @brief Bytes of out-of-line storage needed to convert o into a gale
 * value, or -1 when o holds something Gale refuses (ext types, uint above
 * INT64_MAX, nesting deeper than GALE__VALUE_MAX_DEPTH). Never trusts o.
 */
ssize_t gale__value_from_msgpack_size(const msgpack_object *o);

/** @brief Convert o (checked by _size first) into *dst using *cursor. */
void gale__value_from_msgpack(gale_value_t *dst, const msgpack_object *o, char **cursor);

/**
 * @brief FNV-1a 64 of the canonical msgpack encoding of vals[0..n).
 * Fixed and unseeded: the same values hash the same in every process.
 */
uint64_t gale__values_hash(const gale_value_t *vals, size_t n);

/** @brief Print v as compact text (strings raw, arrays [a, b]) into buf. */
size_t gale__value_format(const gale_value_t *v, char *buf, size_t cap);

#endif
