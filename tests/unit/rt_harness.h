/*
 * rt_harness.h — the pieces every runtime test program shares: resolving
 * components defined in the test binary by name (it is linked with
 * -rdynamic) and polling a condition with a deadline instead of sleeping.
 * Each test program is its own executable, so these are static inline.
 */
#ifndef GALE_TESTS_RT_HARNESS_H
#define GALE_TESTS_RT_HARNESS_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "common/clock.h"

static inline const void *resolve(void *ud, const char *sym) {
    (void)ud;
    return dlsym(RTLD_DEFAULT, sym);
}

/* true once cond() holds, false if it still does not after secs */
static inline bool wait_until(bool (*cond)(void), int secs) {
    int64_t deadline = gale__now_ns() + (int64_t)secs * 1000000000;
    while (gale__now_ns() < deadline) {
        if (cond()) return true;
        usleep(2000);
    }
    return cond();
}

#endif
