/*
 * measure.h — what the benchmark programs share: the clocks (wall time,
 * CPU time of this process, busy time of the whole machine, so a run can
 * say how much of the machine other processes or the hypervisor took),
 * sleeping until a time, and resolving components by name in the program.
 */
#ifndef GALE_BENCH_MEASURE_H
#define GALE_BENCH_MEASURE_H

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"

/* Components defined in the benchmark program (linked with -rdynamic). */
static inline const void *resolve(void *ud, const char *symbol) {
    (void)ud;
    return dlsym(RTLD_DEFAULT, symbol);
}

static inline double now_s(void) {
    return (double)gale__now_ns() / 1e9;
}

static inline void sleep_until(double t) {
    for (;;) {
        double d = t - now_s();
        if (d <= 0) return;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static inline double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU-seconds every CPU of the machine spent busy (from /proc/stat). */
static inline double machine_busy_s(void) {
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (!f) return 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 8) return 0;
    /* user nice system [idle iowait] irq softirq steal */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

/* A number >= lo from a command-line option. */
static inline bool parse_num(const char *s, double lo, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo)) return false;
    *out = v;
    return true;
}

#endif
