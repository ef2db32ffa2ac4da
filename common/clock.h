/*
 * clock.h — the one monotonic clock the runtime and the built-ins read
 * (timeouts, flush intervals, pacing, latencies).
 */
#ifndef GALE_COMMON_CLOCK_H
#define GALE_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/** @brief Monotonic nanoseconds (CLOCK_MONOTONIC; vDSO, no syscall). */
static inline int64_t gale__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** @brief Wall-clock milliseconds since the epoch (times shown to users:
 * error reports, stats' start times). */
static inline int64_t gale__wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
