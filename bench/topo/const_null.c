/*
 * const_null.c — the topology bench/cluster.sh submits with `gale jar` to
 * a real nimbus and supervisor: ConstSpoutNullBolt on two workers, with a
 * bolt that writes a line to a marker file when it starts processing:
 *
 *   gale jar const_null.so ConstNullTopology MARKER [RATE]
 *
 * spout "spout" (1, the constant "some data", a message id per tuple,
 * RATE tuples/s, 0 = as fast as it can) --shuffle--> "bolt" (1, acks),
 * one acker, topology.workers = 2.
 *
 * The bolt appends "<CLOCK_REALTIME ns> <pid> first" on the first tuple
 * its process executes and "<ns> <pid> resume" on a tuple that comes
 * after 200 ms without any, so a script reads off when processing
 * started (after `gale jar`) and when it started again (after a worker
 * was killed: a new pid says "first", or the surviving bolt "resume").
 *
 * The arguments reach the workers through the components' conf (the
 * entry function runs only in the submitting CLI). Built by
 * bench/cluster.sh with only Gale's public header.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <gale/gale.h>

#define GAP_NS 200000000LL /* a pause this long, then a tuple: "resume" */

static int64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct spout {
    int64_t period_ns, next_due;
    uint64_t next_id;
    gale_value_t value;
} spout_t;

static void declare_str(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "str");
}

static int spout_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)c;
    spout_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    int64_t rate = gale_conf_get_int(gale_context_conf(ctx), "bench.rate", 0);
    s->period_ns = rate > 0 ? 1000000000 / rate : 0;
    s->next_due = clock_ns(CLOCK_MONOTONIC);
    s->next_id = 1;
    s->value = gale_strn("some data", 9);
    *state = s;
    return 0;
}

/* Full speed: one emit per call. Paced: what is due (a few at once after
 * a sleep, so the rate holds); after a long stall restart the schedule. */
static void spout_next(void *state, gale_spout_collector_t *c) {
    spout_t *s = state;
    if (!s->period_ns) {
        gale_spout_emit_id(c, NULL, &s->value, 1, s->next_id++);
        return;
    }
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now < s->next_due) return;
    if (now - s->next_due > 100000000) s->next_due = now;
    for (int k = 0; k < 64 && now >= s->next_due; k++) {
        gale_spout_emit_id(c, NULL, &s->value, 1, s->next_id++);
        s->next_due += s->period_ns;
    }
}

static void spout_close(void *state) {
    free(state);
}

GALE_EXPORT const gale_spout_t bench_cn_spout = {
    .declare = declare_str,
    .open = spout_open,
    .next_tuple = spout_next,
    .close = spout_close,
};

typedef struct bolt {
    int fd;
    int64_t last_ns; /* 0: nothing executed yet in this process */
} bolt_t;

static int bolt_prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    (void)c;
    const char *path = gale_conf_get_str(gale_context_conf(ctx), "bench.marker.file", NULL);
    bolt_t *b = calloc(1, sizeof(*b));
    if (!b || !path) {
        free(b);
        return path ? GALE_ENOMEM : GALE_EINVAL;
    }
    b->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (b->fd < 0) {
        free(b);
        return GALE_EIO;
    }
    *state = b;
    return 0;
}

static int bolt_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    bolt_t *b = state;
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (!b->last_ns || now - b->last_ns > GAP_NS) {
        char line[96];
        int n = snprintf(line, sizeof line, "%lld %ld %s\n", (long long)clock_ns(CLOCK_REALTIME),
                         (long)getpid(), b->last_ns ? "resume" : "first");
        if (write(b->fd, line, (size_t)n) != n) { /* the figure is lost, the run goes on */
        }
    }
    b->last_ns = now;
    gale_ack(c, t);
    return 0;
}

static void bolt_cleanup(void *state) {
    bolt_t *b = state;
    close(b->fd);
    free(b);
}

GALE_EXPORT const gale_bolt_t bench_cn_bolt = {
    .prepare = bolt_prepare,
    .execute = bolt_execute,
    .cleanup = bolt_cleanup,
};

GALE_EXPORT int ConstNullTopology(gale_submit_t *s, int argc, char **argv) {
    char *end = NULL;
    long long rate = argc > 1 ? strtoll(argv[1], &end, 10) : 0;
    if (argc < 1 || argc > 2 || rate < 0 || (end && *end)) {
        fprintf(stderr, "usage: ConstNullTopology MARKER-FILE [TUPLES-PER-SECOND]\n");
        return 1;
    }
    gale_builder_t *b = gale_builder_new();
    gale_component_t *spout = GALE_SPOUT(b, "spout", bench_cn_spout, 1);
    gale_component_conf_set_int(spout, "bench.rate", rate);
    gale_component_t *bolt = GALE_BOLT(b, "bolt", bench_cn_bolt, 1);
    gale_shuffle_grouping(bolt, "spout", NULL);
    gale_component_conf_set_str(bolt, "bench.marker.file", argv[0]);
    gale_conf_t *conf = gale_conf_new();
    gale_conf_set_int(conf, "topology.workers", 2);
    gale_conf_set_int(conf, "topology.acker.executors", 1);
    return gale_submit(s, "const-null", conf, b);
}
