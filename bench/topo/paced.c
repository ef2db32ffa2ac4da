/*
 * paced.c — the topology bench/idle.sh runs: a reliable spout paced to a
 * given rate, a relay bolt and a sink bolt, so the CPU and wakeups of a
 * topology at rest (rate 0: the spout never emits) and at a moderate rate
 * can be measured from outside the process.
 *
 *   gale local paced.so PacedTopology <tuples-per-second>
 *
 * spout "paced" (1) --shuffle--> "relay" (2, re-emits anchored)
 *                   --shuffle--> "sink" (2, acks), one acker.
 *
 * Built by bench/idle.sh with only Gale's public header, so the same
 * source runs against any build of Gale (the gale binary provides the
 * symbols when it loads the library).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <time.h>

#include <gale/gale.h>

typedef struct paced {
    int64_t period_ns, next_due;
    uint64_t next_id;
    gale_value_t value;
} paced_t;

static int64_t rate_arg = 0; /* set by the entry before the spout opens */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void paced_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "str");
}

static int paced_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    paced_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->period_ns = rate_arg > 0 ? 1000000000 / rate_arg : 0;
    s->next_due = now_ns();
    s->next_id = 1;
    s->value = gale_strn("some data", 9);
    *state = s;
    return 0;
}

/* Emit what is due (several at once after a sleep, so the rate holds);
 * after a long stall restart the schedule instead of bursting. */
static void paced_next(void *state, gale_spout_collector_t *c) {
    paced_t *s = state;
    if (!s->period_ns) return;
    int64_t now = now_ns();
    if (now < s->next_due) return;
    if (now - s->next_due > 100000000) s->next_due = now;
    for (int k = 0; k < 64 && now >= s->next_due; k++) {
        gale_spout_emit_id(c, NULL, &s->value, 1, s->next_id++);
        s->next_due += s->period_ns;
    }
}

static void paced_close(void *state) {
    free(state);
}

GALE_EXPORT const gale_spout_t bench_paced_spout = {
    .declare = paced_declare,
    .open = paced_open,
    .next_tuple = paced_next,
    .close = paced_close,
};

static int relay_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    gale_emit_values(c, NULL, t, gale_tuple_value(t, 0), 1);
    return 0;
}

GALE_EXPORT const gale_bolt_t bench_relay_bolt = {
    .declare = paced_declare,
    .execute = relay_execute,
    .basic = true,
};

static int sink_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    (void)t;
    (void)c;
    return 0;
}

GALE_EXPORT const gale_bolt_t bench_sink_bolt = {
    .execute = sink_execute,
    .basic = true,
};

GALE_EXPORT int PacedTopology(gale_submit_t *s, int argc, char **argv) {
    char *end;
    if (argc < 1 || (rate_arg = strtoll(argv[0], &end, 10)) < 0 || *end) return 1;
    gale_builder_t *b = gale_builder_new();
    GALE_SPOUT(b, "paced", bench_paced_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "relay", bench_relay_bolt, 2), "paced", NULL);
    gale_shuffle_grouping(GALE_BOLT(b, "sink", bench_sink_bolt, 2), "relay", NULL);
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.acker.executors", 1);
    return gale_submit(s, "paced", conf, b);
}
