/*
 * errors.c — texts for error codes and failure reasons.
 *
 * The strings come from the same GALE_ERRNO_MAP list as the enum, so a
 * new code cannot be added without its text (libuv's UV_ERRNO_MAP).
 */
#include "gale/gale.h"

GALE_EXPORT const char *gale_strerror(int err) {
    if (err == 0) return "success";
    switch (-(long)err) { /* long: -INT_MIN would overflow an int */
#define GALE__ERR_TEXT(name, text)                                                                 \
    case GALE__ERRBASE_##name:                                                                     \
        return text;
        GALE_ERRNO_MAP(GALE__ERR_TEXT)
#undef GALE__ERR_TEXT
        default:
            return "unknown error";
    }
}

GALE_EXPORT const char *gale_fail_reason_str(gale_fail_reason_t r) {
    switch (r) {
        case GALE_FAIL_TIMEOUT:
            return "timeout";
        case GALE_FAIL_FAILED:
            return "failed";
        default:
            return "unknown";
    }
}
