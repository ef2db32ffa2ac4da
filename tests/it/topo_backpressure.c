/*
 * topo_backpressure.c — a fast spout and a sleeping bolt, one executor
 * each, for tests/it/0032-cluster-backpressure.sh:
 *
 *   gale jar topo_backpressure.so Backpressure N BYTES SLEEP_US
 *
 * "source" emits [seq, payload] for seq 1..N (payload: BYTES bytes), as
 * fast as it is let, unreliably (the test runs it with no ackers, so a
 * lost tuple is lost for good), and is done once it emitted the N-th; it
 * logs "emitted all N". "sleeper" sleeps SLEEP_US per tuple, reports an
 * error for any seq out of order (a gap is a dropped tuple), and logs
 * "executed seq K" at every multiple of N/20 and at N. On 2 workers the
 * two executors (one each) run in different workers. The numbers travel
 * in the topology conf (bp.*): a worker never calls the entry function.
 */
#include <gale/gale.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct params {
    int64_t n, bytes, sleep_us;
} params_t;

static params_t params_of(const gale_context_t *ctx) {
    const gale_conf_t *c = gale_context_conf(ctx);
    return (params_t){gale_conf_get_int(c, "bp.tuples", 1), gale_conf_get_int(c, "bp.bytes", 1),
                      gale_conf_get_int(c, "bp.sleep.us", 0)};
}

static void source_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare(d, "seq,payload");
}

typedef struct source {
    const gale_context_t *ctx;
    params_t p;
    int64_t next;
    char *payload;
} source_t;

static int source_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    params_t p = params_of(ctx);
    source_t *s = calloc(1, sizeof *s);
    if (!s || !(s->payload = malloc((size_t)p.bytes))) {
        free(s);
        return GALE_ENOMEM;
    }
    memset(s->payload, 'x', (size_t)p.bytes);
    s->p = p;
    s->ctx = ctx;
    s->next = 1;
    *st = s;
    return 0;
}

static void source_next(void *st, gale_spout_collector_t *c) {
    source_t *s = st;
    if (s->next > s->p.n) return;
    gale_value_t v[2] = {gale_int(s->next), gale_strn(s->payload, (size_t)s->p.bytes)};
    if (gale_spout_emit_values(c, NULL, v, 2) < 0) return; /* refused: try again */
    if (s->next++ == s->p.n) gale_log(s->ctx, GALE_LOG_INFO, "emitted all %" PRId64, s->p.n);
}

static bool source_done(void *st) {
    const source_t *s = st;
    return s->next > s->p.n;
}

static void source_close(void *st) {
    source_t *s = st;
    if (s) free(s->payload);
    free(s);
}

GALE_EXPORT const gale_spout_t bp_source_spout = {
    .declare = source_declare,
    .open = source_open,
    .next_tuple = source_next,
    .done = source_done,
    .close = source_close,
};

typedef struct sleeper {
    const gale_context_t *ctx;
    params_t p;
    int64_t expect;
} sleeper_t;

static int sleeper_prepare(void **st, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    sleeper_t *s = calloc(1, sizeof *s);
    if (!s) return GALE_ENOMEM;
    s->ctx = ctx;
    s->p = params_of(ctx);
    s->expect = 1;
    *st = s;
    return 0;
}

static int sleeper_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    sleeper_t *s = st;
    int64_t seq = gale_tuple_int(t, 0, 0);
    if (seq != s->expect)
        gale_report_error(c, "expected seq %" PRId64 ", got %" PRId64 ": a tuple was dropped",
                          s->expect, seq);
    s->expect = seq + 1;
    struct timespec ts = {(time_t)(s->p.sleep_us / 1000000),
                          (long)(s->p.sleep_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    int64_t step = s->p.n >= 20 ? s->p.n / 20 : 1;
    if (seq % step == 0 || seq == s->p.n)
        gale_log(s->ctx, GALE_LOG_INFO, "executed seq %" PRId64, seq);
    return 0;
}

static void sleeper_cleanup(void *st) {
    free(st);
}

GALE_EXPORT const gale_bolt_t bp_sleeper_bolt = {
    .prepare = sleeper_prepare,
    .execute = sleeper_execute,
    .cleanup = sleeper_cleanup,
    .basic = true,
};

static int64_t arg(char **argv, int i, int64_t min) {
    char *end;
    long long v = strtoll(argv[i], &end, 10);
    return *argv[i] && !*end && v >= min ? (int64_t)v : -1;
}

GALE_EXPORT int Backpressure(gale_submit_t *s, int argc, char **argv) {
    int64_t n, bytes, us;
    if (argc != 3 || (n = arg(argv, 0, 1)) < 0 || (bytes = arg(argv, 1, 1)) < 0 ||
        (us = arg(argv, 2, 0)) < 0) {
        fprintf(stderr, "Backpressure: takes N BYTES SLEEP_US (whole numbers)\n");
        return GALE_EINVAL;
    }
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "bp.tuples", n);
    gale_conf_set_int(conf, "bp.bytes", bytes);
    gale_conf_set_int(conf, "bp.sleep.us", us);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "source", bp_source_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "sleeper", bp_sleeper_bolt, 1), "source", NULL);
    return gale_submit(s, "backpressure", conf, b);
}
