/*
 * topo_never_done.c — a finite spout (it has done()) that is never done:
 * it emits one reliable tuple every 10 ms, which nothing reads (so each
 * is acked at once) and nothing fails, for
 * tests/it/0012-until-done-stopped.sh. next_tuple never blocks. Also a
 * spout that crashes its worker (CrashLoop).
 */
#include <gale/gale.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void one_field(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "n");
}

typedef struct {
    uint64_t next_id;
    int64_t due_ns;
} paced_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int paced_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    paced_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->next_id = 1;
    *st = s;
    return 0;
}
static void paced_next(void *st, gale_spout_collector_t *c) {
    paced_t *s = st;
    int64_t now = now_ns();
    if (now < s->due_ns) return;
    s->due_ns = now + 10000000;
    gale_value_t v = gale_int((int64_t)s->next_id);
    gale_spout_emit_id(c, NULL, &v, 1, s->next_id++);
}
static bool paced_done(void *st) {
    (void)st;
    return false;
}
static void paced_close(void *st) {
    free(st);
}

GALE_EXPORT const gale_spout_t never_done_spout = {
    .declare = one_field,
    .open = paced_open,
    .next_tuple = paced_next,
    .done = paced_done,
    .close = paced_close,
};

GALE_EXPORT int NeverDone(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "paced", never_done_spout, 1);
    return gale_submit(s, "never-done", gale_conf_new(), b);
}

/* A worker that hosts this spout exits at its first next_tuple: a crash
 * loop, for `gale jar --wait` giving up (tests/it/0051). */
static void crash_next(void *st, gale_spout_collector_t *c) {
    (void)st;
    (void)c;
    _exit(3);
}

GALE_EXPORT const gale_spout_t crash_loop_spout = {
    .declare = one_field,
    .open = paced_open,
    .next_tuple = crash_next,
    .done = paced_done,
    .close = paced_close,
};

GALE_EXPORT int CrashLoop(gale_submit_t *s, int argc, char **argv) {
    (void)argc;
    (void)argv;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "crashing", crash_loop_spout, 1);
    return gale_submit(s, "crash-loop", gale_conf_new(), b);
}
