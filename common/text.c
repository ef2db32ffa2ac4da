/*
 * text.c — edit distance, nearest name, control-character escaping and
 * error formatting (see text.h). Pure functions of their arguments: thread-safe.
 */
#include "common/text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t gale__edit_distance(const char *a, const char *b) {
    size_t nb = strlen(b);
    size_t row[128];
    if (nb >= sizeof(row) / sizeof(row[0])) nb = sizeof(row) / sizeof(row[0]) - 1;
    for (size_t j = 0; j <= nb; j++) row[j] = j;
    for (size_t i = 1; a[i - 1]; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

const char *gale__nearest(const char *name, const char *const *candidates, size_t n) {
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; name && i < n; i++) {
        size_t d = gale__edit_distance(name, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

size_t gale__escape_ctl(char *dst, size_t cap, const char *src, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;
    if (!cap) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        char esc[4];
        size_t k = 0;
        if (ch >= 0x20 && ch != 0x7f) {
            esc[k++] = (char)ch;
        } else {
            esc[k++] = '\\';
            if (ch == '\t' || ch == '\n' || ch == '\r') {
                esc[k++] = ch == '\t' ? 't' : ch == '\n' ? 'n' : 'r';
            } else {
                esc[k++] = 'x';
                esc[k++] = hex[ch >> 4];
                esc[k++] = hex[ch & 15];
            }
        }
        if (len + k + 1 > cap) { /* no room: mark the cut */
            size_t keep = cap - 1 >= 3 ? cap - 1 - 3 : 0;
            if (len > keep) len = keep;
            while (len < cap - 1) dst[len++] = '.';
            break;
        }
        memcpy(dst + len, esc, k);
        len += k;
    }
    dst[len] = '\0';
    return len;
}

int gale__errf(char *err, size_t errlen, int code, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

bool gale__utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p++;
        if (c < 0x80) continue;
        size_t more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
        if (!more || c > 0xf4 || (size_t)(end - p) < more) return false;
        unsigned cp = c & (0x3f >> more);
        for (size_t k = 0; k < more; k++) {
            if ((p[k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (p[k] & 0x3f);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += more;
    }
    return true;
}
