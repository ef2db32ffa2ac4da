/*
 * text.h — small text helpers shared by the CLI, the config table and
 * the log: edit distance for "did you mean" hints, and escaping of
 * control characters so that no error line carries a raw terminal escape
 * or a line break taken from user input.
 */
#ifndef GALE_COMMON_TEXT_H
#define GALE_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/** @brief Levenshtein distance between a and b (b is compared up to 127 bytes). */
size_t gale__edit_distance(const char *a, const char *b);

/** @brief True when s[0..n) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool gale__utf8_valid(const char *s, size_t n);

/** @brief Format a one-line reason into err (when err and errlen) and
 * return code: `return gale__errf(err, errlen, GALE_EIO, "...", ...);`. */
int gale__errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * @brief The candidate closest to name (edit distance; ties: the first),
 * among n strings; NULL when n is 0.
 */
const char *gale__nearest(const char *name, const char *const *candidates, size_t n);

/**
 * @brief Copy src (n bytes) into dst (cap bytes, NUL-terminated) with each
 * control character (below 0x20 and 0x7f) written as \t, \n, \r or \xNN.
 * Output that does not fit is cut and ends with "...". Returns the length
 * written (without the NUL).
 */
size_t gale__escape_ctl(char *dst, size_t cap, const char *src, size_t n);

#endif
