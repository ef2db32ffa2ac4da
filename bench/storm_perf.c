/*
 * storm_perf.c — Gale's versions of Storm's storm-perf topologies, run in
 * this process with one worker, exactly as `gale local` runs a topology
 * (builder -> finish -> validate -> assign -> rt_new -> rt_start -> stop).
 *
 *   ConstSpoutNullBolt        spout --shuffle--> null bolt
 *   ConstSpoutIdBoltNullBolt  spout --shuffle--> identity bolt --shuffle--> null bolt
 *
 * each unacked (no ackers, no message ids) and acked (one acker, a message
 * id per tuple, a bounded number of trees in flight). The spout emits the
 * constant "some data" (field "str") on every next_tuple call.
 *
 * Throughput is the null bolt's execute count over a measuring window that
 * starts after a warm-up. Complete latency (emit -> the spout's ack
 * callback) is measured by the bench's own spout: it stamps the emit time
 * of a message id in a ring indexed by the id, and its ack callback puts
 * the difference into a log-linear histogram, so we get percentiles and
 * not only the runtime's sampled mean.
 *
 * The components live in this binary; it is linked with -rdynamic, so the
 * runtime finds them by symbol name with dlsym(RTLD_DEFAULT, ...) like it
 * finds a topology library's. Prints one "RESULT ..." line per benchmark
 * for bench/run.sh.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/measure.h"
#include "common/config.h"
#include "common/log.h"
#include "topology/topology.h"
#include "worker/runtime.h"

/* ------------------------------------------------------------------ */
/* Latency histogram: log-linear buckets (values < 64 ns exact, then 32 */
/* sub-buckets per power of two, so a percentile is within ~3%).         */
/* ------------------------------------------------------------------ */

#define SUB_BITS  5
#define SUB_COUNT (1 << SUB_BITS)
#define LINEAR    (2 * SUB_COUNT) /* values below this have their own bucket */
#define N_BUCKETS (LINEAR + (64 - (SUB_BITS + 1)) * SUB_COUNT)

typedef struct hist {
    uint64_t count[N_BUCKETS];
    uint64_t n, sum, min, max;
} hist_t;

static size_t hist_bucket(uint64_t v) {
    if (v < LINEAR) return (size_t)v;
    int e = 63 - __builtin_clzll(v); /* >= SUB_BITS + 1 */
    uint64_t sub = (v >> (e - SUB_BITS)) & (SUB_COUNT - 1);
    return LINEAR + (size_t)(e - (SUB_BITS + 1)) * SUB_COUNT + (size_t)sub;
}

/* Middle of bucket b's value range. */
static double hist_value(size_t b) {
    if (b < LINEAR) return (double)b;
    size_t e = (b - LINEAR) / SUB_COUNT + SUB_BITS + 1, sub = (b - LINEAR) % SUB_COUNT;
    double lo = ldexp((double)(SUB_COUNT + sub), (int)e - SUB_BITS);
    return lo + ldexp(1.0, (int)e - SUB_BITS) / 2;
}

static void hist_add(hist_t *h, uint64_t v) {
    h->count[hist_bucket(v)]++;
    if (!h->n || v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    h->n++;
    h->sum += v;
}

static double hist_pct(const hist_t *h, double p) {
    if (!h->n) return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= rank) {
            double v = hist_value(b);
            return v > (double)h->max ? (double)h->max : v;
        }
    }
    return (double)h->max;
}

/* ------------------------------------------------------------------ */
/* The components                                                       */
/* ------------------------------------------------------------------ */

/* Written by main between phases, read by the spout's ack callback. */
enum { PHASE_WARMUP = 0, PHASE_MEASURE = 1, PHASE_DONE = 2 };
static _Atomic int g_phase;

/* Bench knobs, set by main before the runtime starts (same process). */
static struct {
    bool reliable;      /* emit with message ids */
    int64_t rate;       /* tuples/s; 0 = as fast as the runtime takes them */
    uint64_t lat_every; /* stamp every n-th message id (a power of two) */
} g_spout_opts;

#define RING_BITS 16 /* > any max.spout.pending we use */
#define RING_MASK ((1u << RING_BITS) - 1)

typedef struct const_spout {
    gale_value_t value;
    bool reliable;
    int64_t period_ns, next_due;
    uint64_t next_id, lat_mask;
    struct {
        uint64_t id;
        int64_t t;
    } * ring; /* emit time by msg_id & RING_MASK */
    hist_t *hist;
    uint64_t acked, failed;
} const_spout_t;

static void const_spout_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "str");
}

static int const_spout_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    const_spout_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->value = gale_strn("some data", 9);
    s->reliable = g_spout_opts.reliable;
    s->period_ns = g_spout_opts.rate > 0 ? 1000000000 / g_spout_opts.rate : 0;
    s->next_id = 1;
    s->lat_mask = g_spout_opts.lat_every ? g_spout_opts.lat_every - 1 : 0;
    s->ring = calloc((size_t)RING_MASK + 1, sizeof(*s->ring));
    s->hist = calloc(1, sizeof(*s->hist));
    if (!s->ring || !s->hist) {
        free(s->ring);
        free(s->hist);
        free(s);
        return GALE_ENOMEM;
    }
    *state = s;
    return 0;
}

static void emit_one(const_spout_t *s, gale_spout_collector_t *c, int64_t now) {
    if (!s->reliable) {
        gale_spout_emit_values(c, NULL, &s->value, 1);
        return;
    }
    uint64_t id = s->next_id++;
    if ((id & s->lat_mask) == 0) {
        s->ring[id & RING_MASK].id = id;
        s->ring[id & RING_MASK].t = now ? now : gale__now_ns();
    }
    gale_spout_emit_id(c, NULL, &s->value, 1, id);
}

static void const_spout_next(void *state, gale_spout_collector_t *c) {
    const_spout_t *s = state;
    if (!s->period_ns) {
        emit_one(s, c, 0);
        return;
    }
    /* Throttled: emit what is due (a few at once when the executor slept
     * past the due time, so the rate holds); after a long stall restart
     * the schedule rather than bursting to catch up. */
    int64_t now = gale__now_ns();
    if (now < s->next_due) return;
    if (now - s->next_due > 100000000) s->next_due = now;
    for (int k = 0; k < 16 && now >= s->next_due; k++) {
        emit_one(s, c, now);
        s->next_due += s->period_ns;
    }
}

static void const_spout_ack(void *state, uint64_t msg_id) {
    const_spout_t *s = state;
    s->acked++;
    if ((msg_id & s->lat_mask) != 0) return;
    if (atomic_load_explicit(&g_phase, memory_order_relaxed) != PHASE_MEASURE) return;
    if (s->ring[msg_id & RING_MASK].id != msg_id) return; /* overwritten */
    hist_add(s->hist, (uint64_t)(gale__now_ns() - s->ring[msg_id & RING_MASK].t));
}

static void const_spout_fail(void *state, uint64_t msg_id, gale_fail_reason_t why) {
    (void)msg_id;
    (void)why;
    ((const_spout_t *)state)->failed++;
}

/* The spout state outlives close so main can read the histogram: close
 * hands it over instead of freeing it. */
static const_spout_t *g_closed_spout;

static void const_spout_close(void *state) {
    g_closed_spout = state;
}

const gale_spout_t bench_const_spout = {
    .declare = const_spout_declare,
    .open = const_spout_open,
    .next_tuple = const_spout_next,
    .ack = const_spout_ack,
    .fail = const_spout_fail,
    .close = const_spout_close,
};

/* Storm's DevNullBolt: acks (which also releases the tuple in Gale; with
 * no ackers it sends nothing) and does nothing else. */
static int null_bolt_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    gale_ack(c, t);
    return 0;
}

const gale_bolt_t bench_null_bolt = {.execute = null_bolt_execute};

/* Storm's IdBolt: re-emits its input anchored to it, then acks it. */
static void id_bolt_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "str");
}

static int id_bolt_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    gale_emit_values(c, NULL, t, gale_tuple_value(t, 0), 1);
    gale_ack(c, t);
    return 0;
}

const gale_bolt_t bench_id_bolt = {.declare = id_bolt_declare, .execute = id_bolt_execute};

/* ------------------------------------------------------------------ */
/* Benchmarks                                                           */
/* ------------------------------------------------------------------ */

typedef struct bench_def {
    const char *name;
    const char *title;
    bool id_bolt;
    bool acked;
    int64_t rate; /* 0 = full speed */
} bench_def_t;

static const bench_def_t benches[] = {
    {"const_null_unacked", "ConstSpoutNullBolt, unacked", false, false, 0},
    {"const_null_acked", "ConstSpoutNullBolt, acked", false, true, 0},
    {"const_null_acked_10k", "ConstSpoutNullBolt, acked, spout throttled to 10k tuples/s", false,
     true, 10000},
    {"const_id_null_unacked", "ConstSpoutIdBoltNullBolt, unacked", true, false, 0},
    {"const_id_null_acked", "ConstSpoutIdBoltNullBolt, acked", true, true, 0},
};
#define N_BENCHES (sizeof(benches) / sizeof(benches[0]))

typedef struct opts {
    double warmup, secs;
    int64_t pending, rate;
    double sample_rate;
    int64_t bolt_spin_us; /* --bolt-spin: topology.bolt.wait.spin.micros */
    double pack_cores;    /* --pack-cores: topology.worker.pack.cores (< 0: the default) */
} opts_t;

/* Topology conf: every override is set here and printed from the conf. */
static gale_conf_t *bench_conf(const bench_def_t *b, const opts_t *o) {
    gale_conf_t *c = gale_conf_new();
    if (!c) return NULL;
    int rc = gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, 1);
    rc |= gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, b->acked ? 1 : 0);
    if (b->acked) rc |= gale_conf_set_int(c, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, o->pending);
    rc |= gale_conf_set_double(c, GALE_CONF_TOPOLOGY_STATS_SAMPLE_RATE, o->sample_rate);
    /* by name, so this file still builds against a base without the key */
    if (o->bolt_spin_us)
        rc |= gale_conf_set_int(c, "topology.bolt.wait.spin.micros", o->bolt_spin_us);
    if (o->pack_cores >= 0)
        rc |= gale_conf_set_double(c, "topology.worker.pack.cores", o->pack_cores);
    if (rc) {
        gale_conf_destroy(c);
        return NULL;
    }
    return c;
}

static void print_conf(const gale_conf_t *c) {
    printf("config overrides (everything else at its default):");
    for (size_t i = 0; i < gale_conf_count(c); i++) {
        const gale_value_t *v;
        const char *k = gale_conf_key_at(c, i, &v);
        if (v->type == GALE_T_INT)
            printf(" %s=%lld", k, (long long)v->u.i);
        else if (v->type == GALE_T_DOUBLE)
            printf(" %s=%g", k, v->u.d);
        else
            printf(" %s=?", k);
    }
    printf("\n");
}

static int build_topology(const bench_def_t *b, const opts_t *o, gale__topology_t **out) {
    char err[512] = "";
    gale_builder_t *bld = gale_builder_new();
    gale_conf_t *conf = bench_conf(b, o);
    if (!bld || !conf) {
        gale_builder_destroy(bld);
        gale_conf_destroy(conf);
        fprintf(stderr, "bench: out of memory\n");
        return 1;
    }
    GALE_SPOUT(bld, "spout", bench_const_spout, 1);
    if (b->id_bolt) {
        gale_shuffle_grouping(GALE_BOLT(bld, "id", bench_id_bolt, 1), "spout", NULL);
        gale_shuffle_grouping(GALE_BOLT(bld, "bolt", bench_null_bolt, 1), "id", NULL);
    } else {
        gale_shuffle_grouping(GALE_BOLT(bld, "bolt", bench_null_bolt, 1), "spout", NULL);
    }
    gale__topology_t *t = NULL;
    int rc = gale__builder_finish(bld, b->name, conf, &t, err, sizeof err);
    if (!rc) rc = gale__topology_validate(t, resolve, NULL, err, sizeof err);
    if (!rc) rc = gale__conf_validate(t->conf, "topology conf", err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench %s: invalid topology: %s\n", b->name, err);
        gale__topology_destroy(t);
        return 1;
    }
    gale__topology_assign_tasks(t);
    *out = t;
    return 0;
}

static int run_bench(const bench_def_t *b, const opts_t *o) {
    char err[512] = "";
    gale__topology_t *topo = NULL;
    gale__rt_t *rt = NULL;
    printf("\n== %s: %s ==\n", b->name, b->title);
    if (build_topology(b, o, &topo)) return 1;
    print_conf(topo->conf);
    g_spout_opts.reliable = b->acked;
    g_spout_opts.rate = b->rate ? (o->rate ? o->rate : b->rate) : 0;
    /* Full speed: stamp 1 id in 16 (percentiles need far fewer samples
     * than we get, and a clock read per tuple would cost throughput). */
    g_spout_opts.lat_every = g_spout_opts.rate ? 1 : 16;
    atomic_store(&g_phase, PHASE_WARMUP);
    g_closed_spout = NULL;

    if (gale__rt_new(&rt, topo, NULL, NULL, resolve, NULL, err, sizeof err)) {
        fprintf(stderr, "bench %s: %s\n", b->name, err);
        return 1;
    }
    if (gale__rt_start(rt, err, sizeof err)) {
        fprintf(stderr, "bench %s: %s\n", b->name, err);
        gale__rt_stop(rt, 0);
        gale__rt_destroy(rt);
        return 1;
    }
    double start = now_s();
    sleep_until(start + o->warmup);

    gale__stats_t s0, s1, sp0, sp1;
    gale__rt_stats(rt, "bolt", &s0);
    gale__rt_stats(rt, "spout", &sp0);
    double t0 = now_s(), c0 = cpu_s(), m0 = machine_busy_s();
    atomic_store(&g_phase, PHASE_MEASURE);
    /* Per-second rates too, to show how steady the run was. */
    double min_rate = 0, max_rate = 0;
    uint64_t last = s0.executed;
    double last_t = t0, end = t0 + o->secs;
    int n_sec = 0;
    while (last_t < end - 1e-3) {
        double next = last_t + 1.0 < end ? last_t + 1.0 : end;
        sleep_until(next);
        gale__stats_t s;
        gale__rt_stats(rt, "bolt", &s);
        double tn = now_s();
        if (tn - last_t > 0.5) {
            double r = (double)(s.executed - last) / (tn - last_t);
            if (!n_sec || r < min_rate) min_rate = r;
            if (!n_sec || r > max_rate) max_rate = r;
            n_sec++;
        }
        last = s.executed;
        last_t = tn;
    }
    gale__rt_stats(rt, "bolt", &s1);
    gale__rt_stats(rt, "spout", &sp1);
    double t1 = now_s(), c1 = cpu_s(), m1 = machine_busy_s();
    atomic_store(&g_phase, PHASE_DONE);
    gale__rt_stop(rt, 5000);

    double win = t1 - t0;
    double tput = (double)(s1.executed - s0.executed) / win;
    double emit_rate = (double)(sp1.emitted - sp0.emitted) / win;
    double ack_rate = (double)(sp1.acked - sp0.acked) / win;
    uint64_t failed =
        (sp1.failed_timeout - sp0.failed_timeout) + (sp1.failed_explicit - sp0.failed_explicit);
    printf("window %.1f s after %.1f s warm-up\n", win, o->warmup);
    printf("throughput: %.0f tuples/s (null bolt executes); per-second min %.0f, max %.0f\n", tput,
           min_rate, max_rate);
    printf("spout: emitted %.0f/s, acked %.0f/s, failed %llu, max pending seen %llu\n", emit_rate,
           ack_rate, (unsigned long long)failed, (unsigned long long)sp1.max_pending_seen);
    double cores = (c1 - c0) / win, others = fmax(0, (m1 - m0 - (c1 - c0)) / win);
    printf("cpu: %.2f cores busy (process user+sys over the window), %.0f tuples per cpu-second; "
           "other processes used %.2f cores meanwhile\n",
           cores, cores > 0 ? tput / cores : 0, others);
    printf("RESULT bench=%s tput=%.0f cpu=%.2f others=%.2f per_cpu_s=%.0f failed=%llu", b->name,
           tput, cores, others, cores > 0 ? tput / cores : 0, (unsigned long long)failed);
    const_spout_t *sp = g_closed_spout;
    if (b->acked && sp && sp->hist->n) {
        hist_t *h = sp->hist;
        double p50 = hist_pct(h, 50) / 1e3, p99 = hist_pct(h, 99) / 1e3,
               p999 = hist_pct(h, 99.9) / 1e3;
        printf(" p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f lat_n=%llu\n", p50, p99, p999,
               (double)h->max / 1e3, (unsigned long long)h->n);
        printf("complete latency (emit -> ack callback, %llu samples, 1 in %llu ids): "
               "p50 %.1f us, p99 %.1f us, p99.9 %.1f us, mean %.1f us, max %.1f us\n",
               (unsigned long long)h->n, (unsigned long long)g_spout_opts.lat_every, p50, p99, p999,
               (double)h->sum / (double)h->n / 1e3, (double)h->max / 1e3);
    } else {
        printf("\n");
    }
    if (sp) {
        free(sp->ring);
        free(sp->hist);
        free(sp);
        g_closed_spout = NULL;
    }
    gale__rt_destroy(rt);
    fflush(stdout);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: bench_storm_perf [--bench NAME]... [--warmup S] [--secs S]\n"
            "                        [--pending N] [--rate N] [--sample-rate F] [--bolt-spin US]\n"
            "                        [--pack-cores F]\n"
            "  --bench NAME       run only NAME (repeatable; default: all)\n"
            "  --warmup S         seconds before the window (default 5)\n"
            "  --secs S           seconds measured (default 30)\n"
            "  --pending N        topology.max.spout.pending of acked runs (default 1000)\n"
            "  --rate N           tuples/s of the throttled run (default 10000)\n"
            "  --sample-rate F    topology.stats.sample.rate (default 0.05, Gale's default)\n"
            "  --bolt-spin US     topology.bolt.wait.spin.micros (default 0, Gale's default)\n"
            "  --pack-cores F     topology.worker.pack.cores, 0..0.8 (default 0.5, Gale's default; "
            "0: never)\n"
            "  --list             print the benchmark names\n"
            "benchmarks:");
    for (size_t i = 0; i < N_BENCHES; i++) fprintf(stderr, " %s", benches[i].name);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv) {
    opts_t o = {5, 30, 1000, 0, 0.05, 0, -1};
    bool want[N_BENCHES] = {0}, any = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        double v;
        if (strcmp(a, "--list") == 0) {
            for (size_t k = 0; k < N_BENCHES; k++) printf("%s\n", benches[k].name);
            return 0;
        } else if (strcmp(a, "--bench") == 0 && has) {
            size_t k = 0;
            while (k < N_BENCHES && strcmp(benches[k].name, argv[i + 1])) k++;
            if (k == N_BENCHES) {
                fprintf(stderr, "bench_storm_perf: unknown benchmark '%s' (--list names them)\n",
                        argv[i + 1]);
                return 2;
            }
            want[k] = any = true;
            i++;
        } else if (strcmp(a, "--warmup") == 0 && has && parse_num(argv[i + 1], 0, &v)) {
            o.warmup = v;
            i++;
        } else if (strcmp(a, "--secs") == 0 && has && parse_num(argv[i + 1], 0.1, &v)) {
            o.secs = v;
            i++;
        } else if (strcmp(a, "--pending") == 0 && has && parse_num(argv[i + 1], 1, &v) &&
                   v <= RING_MASK) {
            o.pending = (int64_t)v;
            i++;
        } else if (strcmp(a, "--rate") == 0 && has && parse_num(argv[i + 1], 1, &v) && v <= 1e9) {
            o.rate = (int64_t)v;
            i++;
        } else if (strcmp(a, "--sample-rate") == 0 && has && parse_num(argv[i + 1], 0, &v) &&
                   v <= 1) {
            o.sample_rate = v;
            i++;
        } else if (strcmp(a, "--bolt-spin") == 0 && has && parse_num(argv[i + 1], 0, &v) &&
                   v <= 1e6) {
            o.bolt_spin_us = (int64_t)v;
            i++;
        } else if (strcmp(a, "--pack-cores") == 0 && has && parse_num(argv[i + 1], 0, &v) &&
                   v <= 0.8) {
            o.pack_cores = v;
            i++;
        } else {
            fprintf(stderr, "bench_storm_perf: bad option '%s'\n", a);
            usage();
            return 2;
        }
    }
    gale__log_set_level(GALE_LOG_WARN);
    int rc = 0;
    for (size_t k = 0; k < N_BENCHES; k++)
        if (!any || want[k]) rc |= run_bench(&benches[k], &o);
    return rc;
}
