/*
 * crash.c — the last log line of a process that crashes in user code.
 *
 * A spout or bolt that dereferences NULL or calls abort() takes the whole
 * process down; without a word the user cannot tell which of a dozen
 * components did it. The executor keeps gale__current_task set while a
 * user callback runs (worker/executor.c); on SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL or SIGABRT the handler below writes one log line naming that
 * component and task, then hands the signal to whoever handled it before
 * (the default action: a core dump; or a sanitizer's report).
 *
 * Everything in the handler is async-signal-safe: no stdio, no malloc, no
 * locks; the time is formatted by hand from clock_gettime and the line is
 * written with write(2). A crash from stack overflow needs an alternate
 * signal stack, which executor threads do not have: it dies unnamed.
 */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "worker/runtime.h"

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_CRASH_SIGNALS (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction previous[N_CRASH_SIGNALS];

typedef struct out {
    char buf[512];
    size_t len;
} out_t;

static void put(out_t *o, const char *s) {
    while (*s && o->len < sizeof o->buf - 1) o->buf[o->len++] = *s++;
}

static void put_uint(out_t *o, unsigned long long v, int width) {
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof d);
    while (n < width && n < (int)sizeof d) d[n++] = '0';
    while (n > 0 && o->len < sizeof o->buf - 1) o->buf[o->len++] = d[--n];
}

/* UTC date from days since 1970-01-01 (Howard Hinnant's civil_from_days). */
static void put_time(out_t *o) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long secs = ts.tv_sec, days = secs / 86400, rem = secs % 86400;
    long long z = days + 719468, era = z / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    put_uint(o, (unsigned long long)y, 4);
    put(o, "-");
    put_uint(o, (unsigned long long)m, 2);
    put(o, "-");
    put_uint(o, (unsigned long long)d, 2);
    put(o, "T");
    put_uint(o, (unsigned long long)(rem / 3600), 2);
    put(o, ":");
    put_uint(o, (unsigned long long)(rem / 60 % 60), 2);
    put(o, ":");
    put_uint(o, (unsigned long long)(rem % 60), 2);
    put(o, ".");
    put_uint(o, (unsigned long long)(ts.tv_nsec / 1000), 6);
    put(o, "Z");
}

static const char *signal_name(int sig) {
    switch (sig) {
        case SIGSEGV:
            return "SIGSEGV (invalid memory access)";
        case SIGBUS:
            return "SIGBUS (bad memory access)";
        case SIGFPE:
            return "SIGFPE (arithmetic error, e.g. division by zero)";
        case SIGILL:
            return "SIGILL (illegal instruction)";
        case SIGABRT:
            return "SIGABRT (abort(), e.g. a failed assert)";
        default:
            return "a fatal signal";
    }
}

static void on_crash(int sig) {
    const gale__task_t *tk = gale__current_task;
    out_t o = {.len = 0};
    put_time(&o);
    put(&o, " ERROR ");
    put(&o, gale__log_process());
    put(&o, "[");
    put_uint(&o, (unsigned long long)getpid(), 1);
    put(&o, "] ");
    if (tk) {
        put(&o, tk->comp->id);
        put(&o, ":");
        put_uint(&o, (unsigned long long)tk->id, 1);
        put(&o, " crashed with ");
        put(&o, signal_name(sig));
        put(&o, " in component '");
        put(&o, tk->comp->id);
        put(&o, "' task ");
        put_uint(&o, (unsigned long long)tk->id, 1);
        put(&o, ": the bug is in its code (run under gdb or valgrind to see where)");
    } else {
        put(&o, "- crashed with ");
        put(&o, signal_name(sig));
        put(&o, " outside any component's callback");
    }
    o.buf[o.len++] = '\n';
    ssize_t w = write(gale__log_fd(), o.buf, o.len);
    (void)w;
    /* hand over: the previous handler (a sanitizer's) or the default
     * action, raised again once this handler returns */
    for (size_t i = 0; i < N_CRASH_SIGNALS; i++)
        if (crash_signals[i] == sig) sigaction(sig, &previous[i], NULL);
    raise(sig);
}

void gale__crash_handler_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_CRASH_SIGNALS; i++) sigaction(crash_signals[i], &sa, &previous[i]);
}
