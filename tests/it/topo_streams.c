/*
 * topo_streams.c — components with two output streams and two inputs,
 * with known acks and fails on each, for tests/it/0093-ui-streams.sh
 * (the per-stream stats of the component page). Streams(N):
 *
 *   src (finite spout, 1 task): n = 0..N-1, reliable, on "b" when n % 3
 *       == 0, else on "a"; no replays: done once every tree was acked or
 *       failed
 *   work (plain bolt) <- src:a, src:b: takes at least 10 us per tuple
 *       (so its process latency reads above Storm's "0.000" ms on any
 *       machine); from "a" emits n once on "x" and acks; from "b" fails
 *       n when n % 2 == 0, else emits n twice on "y" and acks
 *   sink (basic bolt) <- work:x, work:y: acks everything
 *
 * So for N = 3000: src a emitted 2000, acked 2000; b emitted 1000, acked
 * 500, failed 500; work x emitted 2000, y emitted 1000; work's inputs
 * (src,a) executed 2000, acked 2000, (src,b) executed 1000, acked 500,
 * failed 500; sink's (work,x) executed 2000, (work,y) 1000, all acked.
 */
#include <gale/gale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int64_t n, next, finished;
} src_t;

static void src_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare_stream(d, "a", "n", false);
    gale_declare_stream(d, "b", "n", false);
}
static int src_open(void **st, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    src_t *s = calloc(1, sizeof *s);
    if (!s) return GALE_ENOMEM;
    s->n = gale_conf_get_int(gale_context_conf(ctx), "streams.tuples", 3000);
    *st = s;
    return 0;
}
static void src_next(void *st, gale_spout_collector_t *c) {
    src_t *s = st;
    for (int i = 0; i < 64 && s->next < s->n; i++, s->next++) {
        gale_value_t v = gale_int(s->next);
        gale_spout_emit_id(c, s->next % 3 == 0 ? "b" : "a", &v, 1, (uint64_t)s->next);
    }
}
static void src_ack(void *st, uint64_t id) {
    (void)id;
    ((src_t *)st)->finished++;
}
static void src_fail(void *st, uint64_t id, gale_fail_reason_t why) {
    (void)id, (void)why;
    ((src_t *)st)->finished++; /* no replay: the counts stay exact */
}
static bool src_done(void *st) {
    src_t *s = st;
    return s->finished == s->n;
}
static void src_close(void *st) {
    free(st);
}
GALE_EXPORT const gale_spout_t streams_src = {.declare = src_declare,
                                              .open = src_open,
                                              .next_tuple = src_next,
                                              .ack = src_ack,
                                              .fail = src_fail,
                                              .done = src_done,
                                              .close = src_close};

static void work_declare(gale_declarer_t *d, const gale_conf_t *c) {
    (void)c;
    gale_declare_stream(d, "x", "n", false);
    gale_declare_stream(d, "y", "n", false);
}
static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int work_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st;
    for (int64_t t0 = now_ns(); now_ns() - t0 < 10000;) {
    }
    int64_t n = gale_tuple_int(t, 0, -1);
    gale_value_t v = gale_int(n);
    if (strcmp(gale_tuple_stream(t), "a") == 0) {
        gale_emit_values(c, "x", t, &v, 1);
    } else if (n % 2 == 0) {
        gale_fail(c, t);
        return 0;
    } else {
        gale_emit_values(c, "y", t, &v, 1);
        gale_emit_values(c, "y", t, &v, 1);
    }
    gale_ack(c, t);
    return 0;
}
GALE_EXPORT const gale_bolt_t streams_work = {.declare = work_declare, .execute = work_execute};

static int sink_execute(void *st, const gale_tuple_t *t, gale_collector_t *c) {
    (void)st, (void)t, (void)c;
    return 0;
}
GALE_EXPORT const gale_bolt_t streams_sink = {.execute = sink_execute, .basic = true};

GALE_EXPORT int Streams(gale_submit_t *s, int argc, char **argv) {
    gale_conf_t *conf = gale_conf_new();
    if (!conf) return GALE_ENOMEM;
    gale_conf_set_int(conf, "streams.tuples", argc > 0 ? atoll(argv[0]) : 3000);
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "src", streams_src, 1);
    gale_component_t *w = GALE_BOLT(b, "work", streams_work, 2);
    gale_shuffle_grouping(w, "src", "a");
    gale_shuffle_grouping(w, "src", "b");
    gale_component_t *k = GALE_BOLT(b, "sink", streams_sink, 2);
    gale_shuffle_grouping(k, "work", "x");
    gale_shuffle_grouping(k, "work", "y");
    return gale_submit(s, "streams", conf, b);
}
