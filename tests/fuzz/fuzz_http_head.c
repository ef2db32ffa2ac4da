/*
 * fuzz_http_head.c — libFuzzer target for the request-head check of the
 * HTTP gate (common/http_server.c, gale__http_head_check), the request
 * parser Gale itself writes in front of libmicrohttpd. The first byte says
 * whether the client has closed (eof); the rest is what it sent. Whatever
 * the bytes: a known status with a message for each refusal, never "needs
 * more" at eof, and a passed head really is complete (CRLF CRLF within
 * GALE_HTTP_HEAD_MAX, no NUL, no bare LF) and stays passed whatever
 * follows it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool eof = data[0] & 1;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    gale__http_verdict_t v = gale__http_head_check(p, n, eof);
    switch (v.status) {
        case 0:
            if (eof || v.why) abort();
            return 0;
        case 200:
            if (v.why) abort();
            break;
        case 400:
        case 411:
        case 414:
        case 431:
        case 505:
            if (!v.why || !*v.why || strchr(v.why, '"') || strchr(v.why, '\\')) abort();
            return 0;
        default:
            abort();
    }
    /* passed: the head ends within the bound, and every line ends in CRLF */
    const char *end = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
            end = p + i + 4;
            break;
        }
    if (!end || (size_t)(end - p) > GALE_HTTP_HEAD_MAX) abort();
    if (memchr(p, '\0', (size_t)(end - p))) abort();
    for (const char *q = p; q < end; q++)
        if (*q == '\n' && (q == p || q[-1] != '\r')) abort();
    /* what follows the head (a body) does not change the verdict */
    char *more = malloc(n + 8);
    if (!more) return 0;
    memcpy(more, p, n);
    memcpy(more + n, "\n\0\xff x\r\n", 8);
    if (gale__http_head_check(more, n + 8, !eof).status != 200) abort();
    free(more);
    return 0;
}
