/*
 * cluster_perf.c — ConstSpoutNullBolt across two worker processes over
 * ZeroMQ tcp on loopback, beside raw ZeroMQ PUSH/PULL at the message
 * size Gale produced in the same run (issue 8's benchmark).
 *
 * Each worker is a child process running the cluster worker's runtime
 * (gale__rt_new_placed, the call `gale worker` makes) with a placement
 * made here: the spout alone in worker 1, the null bolt alone in worker
 * 2, and in the acked runs the acker in worker 1 (with --acker-worker 2,
 * in worker 2). So every data tuple crosses tcp: the spout's worker sends
 * batches, the bolt's worker receives them (and, acked, sends the acks
 * back to the acker). What `gale worker` adds around that runtime —
 * heartbeats to a supervisor, its log file, signals — is not on the data
 * path; bench/cluster.sh measures the real daemons separately.
 *
 * The parent drives both children over pipes: after a warm-up it takes a
 * snapshot of their counters (executor stats and the transfer counters:
 * tuples, ZeroMQ messages and bytes), another after the window; then the
 * spout stops emitting and, once everything in flight has arrived, the
 * bench checks that the tuples worker 1 sent over tcp equal the spout's
 * emits and those worker 2 received and executed (exit 1 otherwise).
 *
 * The raw baseline then forks a PULL process and sends from a PUSH in
 * the parent, over tcp loopback, messages of two frames sized like
 * Gale's (header + mean batch body) for the same warm-up and window.
 *
 * Prints one "RESULT bench=NAME key=value ..." line per figure, for
 * bench/cluster.sh.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench/measure.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/log.h"
#include "topology/topology.h"
#include "worker/runtime.h"

/* ---------- the components (found by dlsym: linked with -rdynamic) ---------- */

static struct {
    bool reliable;
    atomic_bool quiet; /* stop emitting (before the final count) */
} g_spout;

typedef struct cspout {
    gale_value_t value;
    uint64_t next_id;
} cspout_t;

static void cspout_declare(gale_declarer_t *d, const gale_conf_t *conf) {
    (void)conf;
    gale_declare(d, "str");
}

static int cspout_open(void **state, const gale_context_t *ctx, gale_spout_collector_t *c) {
    (void)ctx;
    (void)c;
    cspout_t *s = calloc(1, sizeof(*s));
    if (!s) return GALE_ENOMEM;
    s->value = gale_strn("some data", 9);
    s->next_id = 1;
    *state = s;
    return 0;
}

static void cspout_next(void *state, gale_spout_collector_t *c) {
    cspout_t *s = state;
    if (atomic_load_explicit(&g_spout.quiet, memory_order_relaxed)) return;
    if (g_spout.reliable)
        gale_spout_emit_id(c, NULL, &s->value, 1, s->next_id++);
    else
        gale_spout_emit_values(c, NULL, &s->value, 1);
}

static void cspout_close(void *state) {
    free(state);
}

const gale_spout_t cbench_const_spout = {
    .declare = cspout_declare,
    .open = cspout_open,
    .next_tuple = cspout_next,
    .close = cspout_close,
};

static int cnull_execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    (void)state;
    gale_ack(c, t);
    return 0;
}

const gale_bolt_t cbench_null_bolt = {.execute = cnull_execute};

/* ---------- options ---------- */

typedef struct opts {
    double warmup, secs;
    int64_t pending;
    int acker_worker; /* 1 or 2 */
    bool want_unacked, want_acked;
    const char *conf[32]; /* -c key=value, applied to the topology conf */
    int n_conf;
} opts_t;

/* -c key=value: an int, else a double, else a string. */
static int set_kv(gale_conf_t *c, const char *kv) {
    const char *eq = strchr(kv, '=');
    char key[256];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) return -1;
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    char *end;
    long long i = strtoll(eq + 1, &end, 10);
    if (eq[1] && !*end) return gale_conf_set_int(c, key, i);
    double d = strtod(eq + 1, &end);
    if (eq[1] && !*end) return gale_conf_set_double(c, key, d);
    return gale_conf_set_str(c, key, eq + 1);
}

/* A tcp port on loopback that nothing listens on now. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* ---------- one worker process ---------- */

/* What a child reports: its clock, CPU and counters. */
typedef struct snap {
    double t, cpu;
    uint64_t emitted, acked, failed, executed, acker_executed;
    uint64_t complete_samples, complete_ns_sum;
    gale__xfer_counts_t x;
    uint64_t rx_rejected, rx_dropped, tx_errors;
} snap_t;

typedef struct child {
    pid_t pid;
    int cmd, rep; /* parent's ends: commands to, replies from */
} child_t;

static gale_conf_t *topo_conf(bool acked, const opts_t *o) {
    gale_conf_t *c = gale_conf_new();
    if (!c) return NULL;
    int rc = gale_conf_set_int(c, GALE_CONF_TOPOLOGY_WORKERS, 2);
    rc |= gale_conf_set_int(c, GALE_CONF_TOPOLOGY_ACKER_EXECUTORS, acked ? 1 : 0);
    if (acked) rc |= gale_conf_set_int(c, GALE_CONF_TOPOLOGY_MAX_SPOUT_PENDING, o->pending);
    for (int i = 0; i < o->n_conf; i++) rc |= set_kv(c, o->conf[i]);
    if (rc) {
        gale_conf_destroy(c);
        return NULL;
    }
    return c;
}

static gale__topology_t *build(bool acked, const opts_t *o, char *err, size_t errlen) {
    gale_builder_t *b = gale_builder_new();
    gale_conf_t *conf = topo_conf(acked, o);
    if (!b || !conf) {
        gale_builder_destroy(b);
        gale_conf_destroy(conf);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    GALE_SPOUT(b, "spout", cbench_const_spout, 1);
    gale_shuffle_grouping(GALE_BOLT(b, "bolt", cbench_null_bolt, 1), "spout", NULL);
    gale__topology_t *t = NULL;
    int rc =
        gale__builder_finish(b, acked ? "cluster-acked" : "cluster-unacked", conf, &t, err, errlen);
    if (!rc) rc = gale__topology_validate(t, resolve, NULL, err, errlen);
    if (!rc) rc = gale__conf_validate(t->conf, "topology conf", err, errlen);
    if (rc) {
        gale__topology_destroy(t);
        return NULL;
    }
    gale__topology_assign_tasks(t);
    return t;
}

static const gale__component_t *component(const gale__topology_t *t, const char *id) {
    for (size_t i = 0; i < t->n_components; i++)
        if (strcmp(t->components[i].id, id) == 0) return &t->components[i];
    return NULL;
}

static void take_snap(gale__rt_t *rt, int here, snap_t *s) {
    gale__stats_t sp, bo, ak;
    memset(s, 0, sizeof *s);
    gale__rt_stats(rt, "spout", &sp);
    gale__rt_stats(rt, "bolt", &bo);
    memset(&ak, 0, sizeof ak);
    if (rt->acker) gale__rt_stats(rt, rt->acker->id, &ak);
    s->t = now_s();
    s->cpu = cpu_s();
    s->emitted = sp.emitted;
    s->acked = sp.acked;
    s->failed = sp.failed_timeout + sp.failed_explicit;
    s->complete_samples = sp.complete_samples;
    s->complete_ns_sum = sp.complete_ns_sum;
    s->executed = bo.executed;
    s->acker_executed = ak.executed;
    gale__worker_t *w = &rt->workers[here];
    gale__transfer_counts(w, &s->x);
    s->rx_rejected = atomic_load(&w->rx_rejected);
    s->rx_dropped = atomic_load(&w->rx_dropped);
    s->tx_errors = atomic_load(&w->tx_errors);
}

static bool write_all(int fd, const void *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p = (const char *)p + k;
        n -= (size_t)k;
    }
    return true;
}

static bool read_all(int fd, void *p, size_t n) {
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p = (char *)p + k;
        n -= (size_t)k;
    }
    return true;
}

/* Worker `here` (0 = the spout's, 1 = the bolt's) of the run; serves
 * commands: 'S' snapshot, 'Q' quiet the spout, 'X' stop and exit. */
static int child_main(int here, bool acked, const opts_t *o, const int ports[2], int cmd, int rep) {
    char err[1024] = "";
    gale__topology_t *t = build(acked, o, err, sizeof err);
    if (!t) {
        fprintf(stderr, "bench_cluster_perf: worker %d: %s\n", here + 1, err);
        return 1;
    }
    const gale__component_t *sp = component(t, "spout"), *bo = component(t, "bolt");
    char ep0[64], ep1[64];
    snprintf(ep0, sizeof ep0, "tcp://127.0.0.1:%d", ports[0]);
    snprintf(ep1, sizeof ep1, "tcp://127.0.0.1:%d", ports[1]);
    char *eps[2] = {ep0, ep1};
    gale__place_exec_t ex[3] = {{sp->first_task, sp->first_task, 0},
                                {bo->first_task, bo->first_task, 1},
                                {t->n_tasks + 1, t->n_tasks + 1, o->acker_worker - 1}};
    gale__rt_place_t place = {2, here, eps, ex, acked ? 3 : 2};
    g_spout.reliable = acked;
    gale__rt_t *rt = NULL;
    if (gale__rt_new_placed(&rt, t, NULL, NULL, resolve, NULL, &place, err, sizeof err) ||
        gale__rt_start(rt, err, sizeof err)) {
        fprintf(stderr, "bench_cluster_perf: worker %d: %s\n", here + 1, err);
        return 1;
    }
    char c = 'R';
    if (!write_all(rep, &c, 1)) return 1;
    while (read_all(cmd, &c, 1)) {
        snap_t s;
        if (c == 'Q') atomic_store(&g_spout.quiet, true);
        if (c == 'X') gale__rt_stop(rt, 2000);
        take_snap(rt, here, &s);
        if (!write_all(rep, &s, sizeof s)) break;
        if (c == 'X') break;
    }
    gale__rt_destroy(rt);
    return 0;
}

static int spawn(child_t *ch, int here, bool acked, const opts_t *o, const int ports[2]) {
    int to[2], from[2];
    if (pipe(to) || pipe(from)) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(to[1]);
        close(from[0]);
        _exit(child_main(here, acked, o, ports, to[0], from[1]));
    }
    close(to[0]);
    close(from[1]);
    *ch = (child_t){pid, to[1], from[0]};
    return 0;
}

static bool ask(child_t *ch, char c, snap_t *s) {
    return write_all(ch->cmd, &c, 1) && read_all(ch->rep, s, sizeof *s);
}

static bool ask_both(child_t ch[2], char c, snap_t s[2]) {
    /* send both first, so the two snapshots are close in time */
    if (!write_all(ch[0].cmd, &c, 1) || !write_all(ch[1].cmd, &c, 1)) return false;
    return read_all(ch[0].rep, &s[0], sizeof s[0]) && read_all(ch[1].rep, &s[1], sizeof s[1]);
}

static void reap(child_t ch[2]) {
    for (int i = 0; i < 2; i++) {
        if (ch[i].pid <= 0) continue;
        close(ch[i].cmd);
        close(ch[i].rep);
        int st;
        if (waitpid(ch[i].pid, &st, WNOHANG) == 0) {
            /* a child that did not exit after 'X' (or a failed run) */
            usleep(200000);
            if (waitpid(ch[i].pid, &st, WNOHANG) == 0) {
                kill(ch[i].pid, SIGKILL);
                waitpid(ch[i].pid, &st, 0);
            }
        }
        ch[i].pid = 0;
    }
}

typedef struct gale_result {
    double tput, msgs_s, bytes_s, tuples_per_msg, bytes_per_msg;
    size_t hdr_bytes;
} gale_result_t;

/* ---------- the Gale run ---------- */

static int run_gale(bool acked, const opts_t *o, gale_result_t *res) {
    const char *name = acked ? "cluster_const_null_acked" : "cluster_const_null_unacked";
    printf(
        "\n== %s: ConstSpoutNullBolt, spout in worker 1, bolt in worker 2, tcp loopback, %s ==\n",
        name, acked ? "acked" : "unacked");
    int ports[2] = {free_port(), free_port()};
    if (ports[0] <= 0 || ports[1] <= 0 || ports[0] == ports[1]) {
        fprintf(stderr, "bench_cluster_perf: no free loopback ports\n");
        return 1;
    }
    printf("workers: 1 = spout on tcp://127.0.0.1:%d, 2 = bolt on tcp://127.0.0.1:%d; %s\n",
           ports[0], ports[1],
           acked ? (o->acker_worker == 1 ? "acker in worker 1 (with the spout)"
                                         : "acker in worker 2 (with the bolt)")
                 : "no acker");
    printf("config overrides (everything else at its default): topology.workers=2 "
           "topology.acker.executors=%d",
           acked ? 1 : 0);
    if (acked) printf(" topology.max.spout.pending=%lld", (long long)o->pending);
    for (int i = 0; i < o->n_conf; i++) printf(" %s", o->conf[i]);
    printf("\n");

    child_t ch[2] = {{0}, {0}};
    snap_t a[2], b[2], f[2];
    int rc = 1;
    if (spawn(&ch[1], 1, acked, o, ports) || spawn(&ch[0], 0, acked, o, ports)) {
        fprintf(stderr, "bench_cluster_perf: cannot start the workers: %s\n", strerror(errno));
        reap(ch);
        return 1;
    }
    char r0 = 0, r1 = 0;
    if (!read_all(ch[0].rep, &r0, 1) || !read_all(ch[1].rep, &r1, 1)) {
        fprintf(stderr, "bench_cluster_perf: a worker failed to start (see above)\n");
        reap(ch);
        return 1;
    }
    double start = now_s();
    sleep_until(start + o->warmup);
    double m0 = machine_busy_s();
    if (!ask_both(ch, 'S', a)) goto lost;
    /* per-second rates of the bolt, to show how steady the run was */
    double min_rate = 0, max_rate = 0, end = a[1].t + o->secs;
    snap_t last = a[1];
    int n_sec = 0;
    while (last.t < end - 1e-3) {
        sleep_until(last.t + 1.0 < end ? last.t + 1.0 : end);
        snap_t s;
        if (!ask(&ch[1], 'S', &s)) goto lost;
        if (s.t - last.t > 0.5) {
            double r = (double)(s.executed - last.executed) / (s.t - last.t);
            if (!n_sec || r < min_rate) min_rate = r;
            if (!n_sec || r > max_rate) max_rate = r;
            n_sec++;
        }
        last = s;
    }
    if (!ask_both(ch, 'S', b)) goto lost;
    double m1 = machine_busy_s();

    /* quiet the spout, then wait until what it emitted has arrived */
    snap_t q[2];
    if (!ask(&ch[0], 'Q', &q[0])) goto lost;
    uint64_t per_tuple = acked && o->acker_worker == 2 ? 2 : 1; /* data (+ the acker's init) */
    double deadline = now_s() + 20;
    for (;;) {
        if (!ask_both(ch, 'S', q)) goto lost;
        bool arrived = q[0].x.tuples_sent == per_tuple * q[0].emitted &&
                       q[1].x.tuples_received >= q[0].x.tuples_sent &&
                       q[1].executed == q[0].emitted && (!acked || q[0].acked == q[0].emitted);
        if (arrived || now_s() > deadline) break;
        usleep(20000);
    }
    if (!ask_both(ch, 'X', f)) goto lost;

    double win = b[1].t - a[1].t;
    uint64_t msgs = b[0].x.batches_sent - a[0].x.batches_sent;
    uint64_t bytes = b[0].x.bytes_sent - a[0].x.bytes_sent;
    uint64_t tuples = b[0].x.tuples_sent - a[0].x.tuples_sent;
    res->tput = (double)(b[1].executed - a[1].executed) / win;
    res->msgs_s = (double)msgs / win;
    res->bytes_s = (double)bytes / win;
    res->tuples_per_msg = msgs ? (double)tuples / (double)msgs : 0;
    res->bytes_per_msg = msgs ? (double)bytes / (double)msgs : 0;
    double cpu1 = (b[0].cpu - a[0].cpu) / win, cpu2 = (b[1].cpu - a[1].cpu) / win;
    double others = fmax(0, (m1 - m0) / win - cpu1 - cpu2);
    printf("window %.1f s after %.1f s warm-up\n", win, o->warmup);
    printf("throughput: %.0f tuples/s (null bolt executes in worker 2); per-second min %.0f, max "
           "%.0f\n",
           res->tput, min_rate, max_rate);
    printf("worker 1 -> 2: %.0f messages/s, %.2f MB/s, %.1f tuples and %.0f bytes per message\n",
           res->msgs_s, res->bytes_s / 1e6, res->tuples_per_msg, res->bytes_per_msg);
    double ack_tpm = 0, lat_us = 0;
    if (acked) {
        uint64_t am = b[1].x.batches_sent - a[1].x.batches_sent;
        ack_tpm = am ? (double)(b[1].x.tuples_sent - a[1].x.tuples_sent) / (double)am : 0;
        uint64_t ns = b[0].complete_samples - a[0].complete_samples;
        lat_us = ns ? (double)(b[0].complete_ns_sum - a[0].complete_ns_sum) / (double)ns / 1e3 : 0;
        printf(
            "worker 2 -> 1: %.0f messages/s, %.1f tuples per message (acks); spout acked %.0f/s, "
            "mean complete latency %.0f us (sampled)\n",
            (double)am / win, ack_tpm, (double)(b[0].acked - a[0].acked) / win, lat_us);
        /* Little's law: at most `pending` trees in flight, each taking the
         * complete latency, so the rate cannot exceed pending / latency */
        if (lat_us > 0)
            printf("bound: max.spout.pending %lld / mean complete latency = %.0f tuples/s\n",
                   (long long)o->pending, (double)o->pending / (lat_us / 1e6));
    }
    /* CPU per tuple depends less on what else runs than tuples/s does */
    double ns_per = res->tput > 0 ? (cpu1 + cpu2) * 1e9 / res->tput : 0;
    printf("cpu: worker 1 %.2f cores, worker 2 %.2f cores (%.0f ns of CPU per tuple); other "
           "processes used %.2f cores meanwhile\n",
           cpu1, cpu2, ns_per, others);

    /* remote-transferred == emitted, over the whole run */
    bool ok = f[0].x.tuples_sent == per_tuple * f[0].emitted &&
              f[1].x.tuples_received == f[0].x.tuples_sent && f[1].executed == f[0].emitted &&
              f[0].emitted > 0 && f[1].rx_dropped == 0 && f[0].tx_errors == 0 &&
              (!acked || (f[0].acked == f[0].emitted && f[0].failed == 0));
    printf("check: spout emitted %llu, worker 1 sent %llu tuples over tcp in %llu messages, worker "
           "2 received %llu and its bolt executed %llu",
           (unsigned long long)f[0].emitted, (unsigned long long)f[0].x.tuples_sent,
           (unsigned long long)f[0].x.batches_sent, (unsigned long long)f[1].x.tuples_received,
           (unsigned long long)f[1].executed);
    if (acked)
        printf("; acked %llu, failed %llu", (unsigned long long)f[0].acked,
               (unsigned long long)f[0].failed);
    printf(": %s\n", ok ? "remote-transferred == emitted" : "MISMATCH");
    printf("RESULT bench=%s tput=%.0f msgs_s=%.0f mb_s=%.2f tuples_per_msg=%.1f bytes_per_msg=%.0f "
           "cpu_w1=%.2f cpu_w2=%.2f cpu_ns_per_tuple=%.0f others=%.2f transferred_eq_emitted=%d",
           name, res->tput, res->msgs_s, res->bytes_s / 1e6, res->tuples_per_msg,
           res->bytes_per_msg, cpu1, cpu2, ns_per, others, ok ? 1 : 0);
    if (acked) printf(" ack_tuples_per_msg=%.1f complete_us=%.0f", ack_tpm, lat_us);
    printf("\n");
    rc = ok ? 0 : 1;
    reap(ch);
    return rc;
lost:
    fprintf(stderr, "bench_cluster_perf: lost a worker process (see above)\n");
    reap(ch);
    return 1;
}

/* ---------- raw ZeroMQ PUSH/PULL ---------- */

typedef struct raw_shared {
    _Atomic uint64_t msgs, bytes;
    _Atomic int ready;
} raw_shared_t;

static int raw_receiver(int port, raw_shared_t *sh) {
    void *ctx = zmq_ctx_new(), *pull = zmq_socket(ctx, ZMQ_PULL);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    if (!pull || zmq_bind(pull, ep)) return 1;
    atomic_store(&sh->ready, 1);
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, pull, 0) < 0) {
            zmq_msg_close(&m);
            if (zmq_errno() == EINTR) continue;
            break;
        }
        uint64_t n = zmq_msg_size(&m);
        bool more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        atomic_fetch_add_explicit(&sh->bytes, n, memory_order_relaxed);
        if (!more) atomic_fetch_add_explicit(&sh->msgs, 1, memory_order_relaxed);
    }
    return 0;
}

/* CPU seconds of process pid so far (/proc, clock-tick resolution). */
static double proc_cpu_s(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long ut = 0, st = 0;
    int n = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    fclose(f);
    return n == 2 ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : 0;
}

static int run_raw(const char *gale_name, const gale_result_t *g, const opts_t *o) {
    size_t hdr = g->hdr_bytes, total = (size_t)llround(g->bytes_per_msg);
    size_t body = total > hdr ? total - hdr : 1;
    char name[96];
    snprintf(name, sizeof name, "raw_zmq_%s", strstr(gale_name, "unacked") ? "unacked" : "acked");
    printf("\n== %s: raw ZeroMQ PUSH -> PULL over tcp loopback, 2 processes, messages of %zu + "
           "%zu bytes (%s's header and mean batch) ==\n",
           name, hdr, body, gale_name);
    int port = free_port();
    raw_shared_t *sh =
        mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (port <= 0 || sh == MAP_FAILED) {
        fprintf(stderr, "bench_cluster_perf: raw: no port or shared memory\n");
        return 1;
    }
    memset(sh, 0, sizeof *sh);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(raw_receiver(port, sh));
    while (!atomic_load(&sh->ready)) usleep(1000);
    void *ctx = zmq_ctx_new(), *push = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    int rc = 1;
    char *hbuf = calloc(1, hdr ? hdr : 1), *bbuf = malloc(body);
    if (!push || zmq_connect(push, ep) || !hbuf || !bbuf) goto out;
    memset(bbuf, 0xa5, body);
    double start = now_s(), t0 = 0, t1 = 0, c0 = 0, r0 = 0, m0 = 0;
    uint64_t n0 = 0, b0 = 0;
    bool measuring = false;
    for (;;) {
        for (int i = 0; i < 256; i++) {
            zmq_send(push, hbuf, hdr, ZMQ_SNDMORE);
            zmq_send(push, bbuf, body, 0);
        }
        double t = now_s();
        if (!measuring && t - start >= o->warmup) {
            measuring = true;
            t0 = t;
            n0 = atomic_load(&sh->msgs);
            b0 = atomic_load(&sh->bytes);
            c0 = cpu_s();
            r0 = proc_cpu_s(pid);
            m0 = machine_busy_s();
        } else if (measuring && t - t0 >= o->secs) {
            t1 = t;
            break;
        }
    }
    uint64_t n1 = atomic_load(&sh->msgs), b1 = atomic_load(&sh->bytes);
    double c1 = cpu_s(), r1 = proc_cpu_s(pid), m1 = machine_busy_s();
    double win = t1 - t0, msgs_s = (double)(n1 - n0) / win, bytes_s = (double)(b1 - b0) / win;
    double cpu_tx = (c1 - c0) / win, cpu_rx = (r1 - r0) / win;
    double others = fmax(0, (m1 - m0) / win - cpu_tx - cpu_rx);
    printf("window %.1f s after %.1f s warm-up\n", win, o->warmup);
    printf("raw: %.0f messages/s, %.2f MB/s (received); sender %.2f cores, receiver %.2f cores; "
           "other processes used %.2f cores meanwhile\n",
           msgs_s, bytes_s / 1e6, cpu_tx, cpu_rx, others);
    printf("Gale / raw: %.3f of the bytes/s, %.3f of the messages/s\n",
           bytes_s > 0 ? g->bytes_s / bytes_s : 0, msgs_s > 0 ? g->msgs_s / msgs_s : 0);
    printf("RESULT bench=%s msgs_s=%.0f mb_s=%.2f bytes_per_msg=%zu cpu_tx=%.2f cpu_rx=%.2f "
           "others=%.2f gale_over_raw_bytes=%.3f\n",
           name, msgs_s, bytes_s / 1e6, hdr + body, cpu_tx, cpu_rx, others,
           bytes_s > 0 ? g->bytes_s / bytes_s : 0);
    rc = 0;
out:
    if (push) zmq_close(push);
    zmq_ctx_term(ctx);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    free(hbuf);
    free(bbuf);
    munmap(sh, sizeof *sh);
    fflush(stdout);
    return rc;
}

/* ---------- main ---------- */

static void usage(void) {
    fprintf(stderr,
            "usage: bench_cluster_perf [--warmup S] [--secs S] [--pending N] [--acker-worker 1|2]\n"
            "                          [--bench unacked|acked]... [-c key=value]...\n"
            "  --warmup S         seconds before each window (default 5)\n"
            "  --secs S           seconds measured (default 30)\n"
            "  --pending N        topology.max.spout.pending of the acked run (default 1000)\n"
            "  --acker-worker W   the worker that runs the acker in the acked run (default 1)\n"
            "  --bench B          run only B (repeatable; default both), each followed by\n"
            "                     raw ZeroMQ at its message size\n"
            "  -c key=value       a topology conf key for both runs (e.g.\n"
            "                     topology.batch.flush.interval.micros=200)\n");
}

int main(int argc, char **argv) {
    opts_t o = {.warmup = 5, .secs = 30, .pending = 1000, .acker_worker = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        double v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            return 0;
        } else if (strcmp(a, "--warmup") == 0 && has && parse_num(argv[i + 1], 0, &v)) {
            o.warmup = v;
        } else if (strcmp(a, "--secs") == 0 && has && parse_num(argv[i + 1], 0.5, &v)) {
            o.secs = v;
        } else if (strcmp(a, "--pending") == 0 && has && parse_num(argv[i + 1], 1, &v)) {
            o.pending = (int64_t)v;
        } else if (strcmp(a, "--acker-worker") == 0 && has &&
                   (strcmp(argv[i + 1], "1") == 0 || strcmp(argv[i + 1], "2") == 0)) {
            o.acker_worker = atoi(argv[i + 1]);
        } else if (strcmp(a, "--bench") == 0 && has && strcmp(argv[i + 1], "unacked") == 0) {
            o.want_unacked = true;
        } else if (strcmp(a, "--bench") == 0 && has && strcmp(argv[i + 1], "acked") == 0) {
            o.want_acked = true;
        } else if (strcmp(a, "-c") == 0 && has && strchr(argv[i + 1], '=') && o.n_conf < 32) {
            o.conf[o.n_conf++] = argv[i + 1];
        } else {
            fprintf(stderr, "bench_cluster_perf: bad option '%s'\n", a);
            usage();
            return 2;
        }
        i++;
    }
    if (!o.want_unacked && !o.want_acked) o.want_unacked = o.want_acked = true;
    gale__log_set_level(GALE_LOG_WARN);
    signal(SIGPIPE, SIG_IGN);
    msgpack_sbuffer h;
    msgpack_sbuffer_init(&h);
    gale__wire_header_pack(&h, GALE_WIRE_BATCH, 0, 1); /* a real batch header's size */
    int rc = 0;
    for (int acked = 0; acked < 2; acked++) {
        if (acked ? !o.want_acked : !o.want_unacked) continue;
        gale_result_t g = {.hdr_bytes = h.size};
        int r = run_gale(acked, &o, &g);
        rc |= r;
        if (g.bytes_per_msg > 0)
            rc |=
                run_raw(acked ? "cluster_const_null_acked" : "cluster_const_null_unacked", &g, &o);
    }
    msgpack_sbuffer_destroy(&h);
    return rc;
}
