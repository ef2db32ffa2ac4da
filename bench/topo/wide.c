/*
 * wide.c — the topology bench/nimbus_stats.sh submits 20 times to a real
 * nimbus whose supervisors are fakes (bench/fake_supervisors.c): nothing
 * runs it, nimbus only schedules it, so it is small and its components
 * do the least that still makes a valid topology:
 *
 *   gale jar wide.so WideTopology NAME [WORKERS]
 *
 * spout "spout" (10) --shuffle--> "mid" (20, re-emits anchored)
 * --shuffle--> "sink" (18, acks), 2 ackers: 50 executors, topology.workers
 * = WORKERS (default 2). Built by bench/nimbus_stats.sh with only Gale's
 * public header.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gale/gale.h>

static void declare_str(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "str");
}

static int spout_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    *state = NULL;
    return 0;
}

static void spout_next(void *state, gale_spout_collector_t *c) {
    (void)state;
    (void)c;
}

GALE_EXPORT const gale_spout_t bench_wide_spout = {
    .declare = declare_str,
    .open = spout_open,
    .next_tuple = spout_next,
};

static int mid_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    gale_emit_values(c, NULL, t, gale_tuple_value(t, 0), 1);
    gale_ack(c, t);
    return 0;
}

GALE_EXPORT const gale_bolt_t bench_wide_mid = {.declare = declare_str, .execute = mid_execute};

static int sink_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    gale_ack(c, t);
    return 0;
}

GALE_EXPORT const gale_bolt_t bench_wide_sink = {.execute = sink_execute};

GALE_EXPORT int WideTopology(gale_submit_t *s, int argc, char **argv) {
    char *end = NULL;
    long workers = argc > 1 ? strtol(argv[1], &end, 10) : 2;
    if (argc < 1 || argc > 2 || workers < 1 || (end && *end)) {
        fprintf(stderr, "usage: WideTopology NAME [WORKERS]\n");
        return 1;
    }
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "spout", bench_wide_spout, 10);
    gale_shuffle_grouping(GALE_BOLT(b, "mid", bench_wide_mid, 20), "spout", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", bench_wide_sink, 18), "mid", NULL);
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.workers", workers);
    gale_conf_set_int(conf, "topology.acker.executors", 2);
    return gale_submit(s, argv[0], conf, b);
}
