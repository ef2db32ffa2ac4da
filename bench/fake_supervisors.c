/*
 * fake_supervisors.c — N supervisors that talk to a real nimbus the way
 * `gale supervisor` does (supervisor/sync.c), without starting a worker:
 * a supervisor_heartbeat every --period seconds with their slots and, for
 * every slot nimbus assigned them, a "running" worker with a fresh
 * heartbeat and a stats blob (common/wstats.h) like a worker's, so nimbus
 * does the real ingest work (nimbus/stats.c) for many executors on a
 * small machine. When the heartbeat reply's assignment version differs
 * from the one held: assignment_fetch{supervisor}, as a supervisor does.
 * The supervisors heartbeat spread over the period (supervisor i at
 * i/N of it), from one thread, each with its own control client.
 *
 * The stats: every counter grows as if each executor handled --rate
 * tuples/s since its slot was assigned (start_ms then), latencies sampled
 * at the default 5 % into a few histogram bins around 0.2 ms; a component
 * named "spout*" is a spout (emitted, transferred, acked, complete
 * latency), "__acker" an acker, any other a bolt (executed, acked,
 * execute and process latency; emitted too unless its name starts with
 * "sink"); one stream "default" per emitting executor.
 *
 *   bench_fake_supervisors --port P [--supervisors 10] [--slots 5] [--period 1]
 *                          [--rate 1000] [--secs S] [--status FILE]
 *
 * Every second it rewrites FILE (when given) with one line:
 *   joined=J workers=W executors=E blob_bytes=B hb_calls=C hb_max_ms=M hb_mean_ms=A fetches=F
 * errors=X (J = supervisors nimbus answered; W, E = what the last heartbeats reported; B = stats
 * bytes per period; hb_* = heartbeat round trips in the last second). Runs --secs seconds (0 =
 * until SIGTERM or SIGINT), then prints a RESULT line with its own CPU.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bench/measure.h"
#include "common/ctl_socket.h"
#include "common/wstats.h"
#include "topology/topology.h"

typedef struct fexec {
    char comp[GALE__WS_NAME_MAX + 1];
    uint64_t start, end;
} fexec_t;

typedef struct fslot {
    char topo[256];
    int port;
    uint64_t start_ms;
    fexec_t *ex;
    size_t n_ex, cap_ex;
} fslot_t;

typedef struct fsup {
    char id[64];
    gale__ctl_client_t cl;
    bool joined;
    uint64_t version;
    fslot_t *slots;
    size_t n_slots;
    uint64_t last_execs, last_bytes; /* what its last heartbeat reported */
} fsup_t;

static struct {
    int port, n_sups, n_slots;
    double period, rate, secs;
    const char *status;
} g_opt = {0, 10, 5, 1, 1000, 0, NULL};

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static void free_slots(fslot_t *s, size_t n) {
    for (size_t i = 0; i < n; i++) free(s[i].ex);
    free(s);
}

/* Slot (topo, port) in v[0..*n), added when missing; NULL on out of memory. */
static fslot_t *slot_of(fslot_t **v, size_t *n, size_t *cap, const char *topo, int port) {
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].port == port && strcmp((*v)[i].topo, topo) == 0) return &(*v)[i];
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 8;
        fslot_t *g = realloc(*v, c * sizeof *g);
        if (!g) return NULL;
        *v = g;
        *cap = c;
    }
    fslot_t *s = &(*v)[(*n)++];
    memset(s, 0, sizeof *s);
    snprintf(s->topo, sizeof s->topo, "%s", topo);
    s->port = port;
    return s;
}

/* The supervisor's slots from an assignment_reply; slots held before
 * keep their start_ms (the "worker" was not restarted). */
static void take_assignment(fsup_t *sp, const gale__ctl_assignment_reply_t *r) {
    fslot_t *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t now_ms = (uint64_t)gale__wall_ms();
    for (uint32_t t = 0; t < r->topologies.n; t++) {
        const gale__ctl_topology_assignment_t *a = &r->topologies.items[t];
        for (uint32_t k = 0; k < a->executors.n; k++) {
            const gale__ctl_executor_slot_t *e = &a->executors.items[k];
            if (strcmp(e->supervisor, sp->id) != 0) continue;
            fslot_t *s = slot_of(&v, &n, &cap, a->id, (int)e->port);
            if (!s) continue;
            if (s->n_ex == s->cap_ex) {
                size_t c = s->cap_ex ? 2 * s->cap_ex : 16;
                fexec_t *g = realloc(s->ex, c * sizeof *g);
                if (!g) continue;
                s->ex = g;
                s->cap_ex = c;
            }
            fexec_t *x = &s->ex[s->n_ex++];
            snprintf(x->comp, sizeof x->comp, "%s", e->component ? e->component : "bolt");
            x->start = e->start;
            x->end = e->end;
        }
    }
    for (size_t i = 0; i < n; i++) {
        v[i].start_ms = now_ms;
        for (size_t j = 0; j < sp->n_slots; j++)
            if (sp->slots[j].port == v[i].port && strcmp(sp->slots[j].topo, v[i].topo) == 0)
                v[i].start_ms = sp->slots[j].start_ms;
    }
    free_slots(sp->slots, sp->n_slots);
    sp->slots = v;
    sp->n_slots = n;
}

/* Latency samples n spread over five bins around mean_ns. */
static void fill_hist(uint64_t *bins, uint64_t n, int64_t mean_ns) {
    static const double share[5] = {0.1, 0.2, 0.4, 0.2, 0.1};
    unsigned b = gale__hist_bin(mean_ns);
    for (int k = 0; k < 5; k++) {
        int bb = (int)b + k - 2;
        if (bb >= 0 && bb < GALE__HIST_BINS) bins[bb] += (uint64_t)((double)n * share[k]);
    }
}

/* One worker's stats blob, as worker/stats_report.c would encode it. */
static int encode_slot(const fslot_t *s, gale__ws_exec_t *ex, msgpack_sbuffer *out) {
    double secs = (double)((uint64_t)gale__wall_ms() - s->start_ms) / 1000.0;
    uint64_t n = (uint64_t)(g_opt.rate * (secs > 0 ? secs : 0)), samples = n / 20;
    for (size_t i = 0; i < s->n_ex; i++) {
        const fexec_t *f = &s->ex[i];
        gale__ws_exec_t *x = &ex[i];
        memset(x, 0, sizeof *x);
        snprintf(x->component, sizeof x->component, "%s", f->comp);
        x->start = f->start;
        x->end = f->end;
        uint64_t *c = x->c;
        bool spout = strncmp(f->comp, "spout", 5) == 0;
        bool acker = strcmp(f->comp, GALE__ACKER_COMPONENT) == 0;
        bool emits = spout || (!acker && strncmp(f->comp, "sink", 4) != 0);
        c[GALE__WS_QUEUE_DEPTH] = n % 7;
        c[GALE__WS_QUEUE_CAPACITY] = 1024;
        if (spout) {
            c[GALE__WS_ACKED] = n;
            c[GALE__WS_COMPLETE_SAMPLES] = samples;
            c[GALE__WS_COMPLETE_NS] = samples * 200000;
            fill_hist(x->hist[GALE__LAT_COMPLETE], samples, 200000);
        } else {
            c[GALE__WS_EXECUTED] = acker ? 3 * n : n;
            c[GALE__WS_ACKED] = acker ? 0 : n;
            c[GALE__WS_EXECUTE_SAMPLES] = samples;
            c[GALE__WS_EXECUTE_NS] = samples * 2000;
            c[GALE__WS_PROCESS_SAMPLES] = acker ? 0 : samples;
            c[GALE__WS_PROCESS_NS] = acker ? 0 : samples * 5000;
            fill_hist(x->hist[GALE__LAT_EXECUTE], samples, 2000);
            if (!acker) fill_hist(x->hist[GALE__LAT_PROCESS], samples, 5000);
        }
        if (emits) {
            c[GALE__WS_EMITTED] = n;
            c[GALE__WS_TRANSFERRED] = n;
            x->n_streams = 1;
            snprintf(x->streams[0].id, sizeof x->streams[0].id, "default");
            x->streams[0].emitted = n;
            x->streams[0].transferred = n;
        }
    }
    gale__wstats_t w = {s->start_ms, ex, (uint32_t)s->n_ex};
    return gale__wstats_encode(&w, out);
}

/* heartbeats of the current second */
static struct {
    uint64_t calls, fetches, errors;
    double max_ms, sum_ms;
} g_sec;

static void fetch_assignment(fsup_t *sp, uint64_t version) {
    gale__ctl_assignment_fetch_t f = {sp->id, NULL};
    gale__ctl_msg_t r;
    char err[512];
    g_sec.fetches++;
    if (gale__ctl_call(&sp->cl, GALE_CTL_ASSIGNMENT_FETCH, &f, GALE_CTL_ASSIGNMENT_REPLY, 5000, &r,
                       err, sizeof err)) {
        fprintf(stderr, "fake supervisor %s: assignment_fetch: %s\n", sp->id, err);
        g_sec.errors++;
        return;
    }
    if (r.type == GALE_CTL_ASSIGNMENT_REPLY && r.u.assignment_reply.ok) {
        take_assignment(sp, &r.u.assignment_reply);
        sp->version = version;
    } else {
        g_sec.errors++;
    }
    gale__ctl_msg_destroy(&r);
}

static void heartbeat(fsup_t *sp, int index, double t_start) {
    uint64_t ports[1024];
    for (int k = 0; k < g_opt.n_slots; k++) ports[k] = (uint64_t)(6700 + k);
    gale__ctl_worker_state_t *ws = calloc(sp->n_slots ? sp->n_slots : 1, sizeof *ws);
    msgpack_sbuffer *blobs = calloc(sp->n_slots ? sp->n_slots : 1, sizeof *blobs);
    gale__ws_exec_t *ex = calloc(GALE__WS_MAX_EXECS, sizeof *ex);
    if (!ws || !blobs || !ex) {
        free(ws);
        free(blobs);
        free(ex);
        g_sec.errors++;
        return;
    }
    sp->last_execs = sp->last_bytes = 0;
    for (size_t i = 0; i < sp->n_slots; i++) {
        const fslot_t *s = &sp->slots[i];
        msgpack_sbuffer_init(&blobs[i]);
        bool ok = s->n_ex <= GALE__WS_MAX_EXECS && encode_slot(s, ex, &blobs[i]) == 0;
        ws[i] = (gale__ctl_worker_state_t){
            s->topo,
            (uint64_t)s->port,
            (uint64_t)(100000 + index * 100 + (int)i),
            "running",
            200,
            0,
            false,
            {ok ? (const uint8_t *)blobs[i].data : NULL, ok ? blobs[i].size : 0}};
        sp->last_bytes += ok ? blobs[i].size : 0;
        sp->last_execs += s->n_ex;
    }
    gale__ctl_supervisor_heartbeat_t h = {sp->id,
                                          "127.0.0.1",
                                          {ports, (uint32_t)g_opt.n_slots},
                                          GALE_CTL_UNSET,
                                          (uint64_t)(now_s() - t_start),
                                          sp->version,
                                          {ws, (uint32_t)sp->n_slots}};
    gale__ctl_msg_t r;
    char err[512];
    double t0 = now_s();
    int rc = gale__ctl_call(&sp->cl, GALE_CTL_SUPERVISOR_HEARTBEAT, &h, GALE_CTL_HEARTBEAT_REPLY,
                            1500, &r, err, sizeof err);
    double ms = (now_s() - t0) * 1e3;
    for (size_t i = 0; i < sp->n_slots; i++) msgpack_sbuffer_destroy(&blobs[i]);
    free(blobs);
    free(ws);
    free(ex);
    g_sec.calls++;
    g_sec.sum_ms += ms;
    if (ms > g_sec.max_ms) g_sec.max_ms = ms;
    if (ms > 50)
        fprintf(stderr, "fake supervisor %s: heartbeat round trip %.1f ms at +%.3f s\n", sp->id, ms,
                t0 - t_start);
    if (rc) {
        fprintf(stderr, "fake supervisor %s: heartbeat: %s\n", sp->id, err);
        g_sec.errors++;
        return;
    }
    if (r.type == GALE_CTL_HEARTBEAT_REPLY && r.u.heartbeat_reply.ok) {
        sp->joined = true;
        uint64_t v = r.u.heartbeat_reply.assignment_version;
        gale__ctl_msg_destroy(&r);
        if (v != sp->version) fetch_assignment(sp, v);
        return;
    }
    g_sec.errors++;
    gale__ctl_msg_destroy(&r);
}

static void write_status(const fsup_t *sups) {
    if (!g_opt.status) return;
    int joined = 0;
    uint64_t workers = 0, execs = 0, bytes = 0;
    for (int i = 0; i < g_opt.n_sups; i++) {
        joined += sups[i].joined;
        workers += sups[i].n_slots;
        execs += sups[i].last_execs;
        bytes += sups[i].last_bytes;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_opt.status);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f,
            "joined=%d workers=%llu executors=%llu blob_bytes=%llu hb_calls=%llu hb_max_ms=%.2f "
            "hb_mean_ms=%.2f fetches=%llu errors=%llu\n",
            joined, (unsigned long long)workers, (unsigned long long)execs,
            (unsigned long long)bytes, (unsigned long long)g_sec.calls, g_sec.max_ms,
            g_sec.calls ? g_sec.sum_ms / (double)g_sec.calls : 0, (unsigned long long)g_sec.fetches,
            (unsigned long long)g_sec.errors);
    fclose(f);
    rename(tmp, g_opt.status);
}

static void usage(void) {
    fprintf(stderr, "usage: bench_fake_supervisors --port P [--supervisors N] [--slots N] "
                    "[--period S] [--rate N] [--secs S] [--status FILE]\n");
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
        bool has = i + 1 < argc;
        if (strcmp(a, "--status") == 0 && has) {
            g_opt.status = argv[++i];
        } else if (has && parse_num(argv[i + 1], 0, &v) &&
                   (strcmp(a, "--port") == 0 || strcmp(a, "--supervisors") == 0 ||
                    strcmp(a, "--slots") == 0)) {
            int *dst = strcmp(a, "--port") == 0          ? &g_opt.port
                       : strcmp(a, "--supervisors") == 0 ? &g_opt.n_sups
                                                         : &g_opt.n_slots;
            *dst = v < 1e6 ? (int)v : 0;
            i++;
        } else if (has && parse_num(argv[i + 1], 0, &v) &&
                   (strcmp(a, "--period") == 0 || strcmp(a, "--rate") == 0 ||
                    strcmp(a, "--secs") == 0)) {
            *(strcmp(a, "--period") == 0 ? &g_opt.period
              : strcmp(a, "--rate") == 0 ? &g_opt.rate
                                         : &g_opt.secs) = v;
            i++;
        } else {
            fprintf(stderr, "bench_fake_supervisors: bad option '%s'\n", a);
            usage();
            return 2;
        }
    }
    if (g_opt.port < 1 || g_opt.port > 65535 || g_opt.n_sups < 1 || g_opt.n_sups > 1000 ||
        g_opt.n_slots < 1 || g_opt.n_slots > 1024 || g_opt.period < 0.01) {
        fprintf(stderr, "bench_fake_supervisors: --port 1..65535, --supervisors 1..1000, "
                        "--slots 1..1024 and --period >= 0.01 are needed\n");
        usage();
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    void *zctx = zmq_ctx_new();
    fsup_t *sups = calloc((size_t)g_opt.n_sups, sizeof *sups);
    char endpoint[GALE_ENDPOINT_MAX], err[512];
    gale__endpoint_tcp(endpoint, sizeof endpoint, "127.0.0.1", g_opt.port);
    if (!zctx || !sups) return 1;
    for (int i = 0; i < g_opt.n_sups; i++) {
        snprintf(sups[i].id, sizeof sups[i].id, "fake-supervisor-%03d", i);
        if (gale__ctl_client_open(&sups[i].cl, zctx, endpoint, err, sizeof err)) {
            fprintf(stderr, "bench_fake_supervisors: %s\n", err);
            return 1;
        }
    }
    double t_start = now_s(), c_start = cpu_s(), next_status = t_start + 1;
    for (long tick = 0; !g_stop; tick++) {
        double t_tick = t_start + (double)tick * g_opt.period;
        if (g_opt.secs > 0 && t_tick - t_start >= g_opt.secs) break;
        for (int i = 0; i < g_opt.n_sups && !g_stop; i++) {
            sleep_until(t_tick + g_opt.period * i / g_opt.n_sups);
            heartbeat(&sups[i], i, t_start);
            if (now_s() >= next_status) {
                write_status(sups);
                memset(&g_sec, 0, sizeof g_sec);
                next_status += 1;
            }
        }
    }
    double secs = now_s() - t_start, cpu = cpu_s() - c_start;
    printf("RESULT bench=fake_supervisors secs=%.1f cpu_s=%.2f cores=%.3f\n", secs, cpu,
           secs > 0 ? cpu / secs : 0);
    for (int i = 0; i < g_opt.n_sups; i++) {
        gale__ctl_client_close(&sups[i].cl);
        free_slots(sups[i].slots, sups[i].n_slots);
    }
    free(sups);
    zmq_ctx_term(zctx);
    return 0;
}
