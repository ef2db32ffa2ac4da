/*
 * packing.c — a nearly idle worker runs its threads on one CPU (see
 * packing.h for why). The packer thread is the only one that calls these
 * statics; gale__packer_packed may be read from any thread.
 */
#include "worker/packing.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

enum { LOOK_MS = 400, LOOK_JITTER_MS = 200, LOW_LOOKS = 2 };
#define HOLD_NS        (10 * (int64_t)1000000000) /* no packing this long after a spread, */
#define HOLD_JITTER_NS (5 * (int64_t)1000000000)  /* plus up to this */
#define FULL           0.85                       /* a CPU this busy is full */

typedef struct {
    unsigned long long busy, total; /* /proc/stat ticks */
} cpu_ticks_t;

struct gale__packer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;          /* under lock */
    atomic_bool packed; /* written by the packer thread only */
    double below;
    gale__pack_set_t set; /* the masks, and what a pack moved */
    int home_cpu;
    uint64_t rng; /* jitter of the looks and holds */
    cpu_ticks_t last[CPU_SETSIZE], now[CPU_SETSIZE];
    char topology[64];
};

/* One packer per process: it moves every thread of the process. */
static atomic_bool running;

static int64_t process_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t next_rand(uint64_t *x) { /* xorshift64 */
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Per-CPU ticks from /proc/stat ("cpuN user nice system idle iowait irq
 * softirq steal ..."). false when it cannot be read or lists no CPU: the
 * packer then cannot tell a CPU that another process took. */
static bool read_ticks(cpu_ticks_t *t) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return false;
    memset(t, 0, sizeof(cpu_ticks_t) * CPU_SETSIZE);
    char line[512];
    int cpus = 0;
    while (fgets(line, sizeof line, f)) {
        int cpu;
        unsigned long long v[8] = {0};
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]) < 5 ||
            cpu < 0 || cpu >= CPU_SETSIZE)
            continue;
        t[cpu].busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        t[cpu].total = t[cpu].busy + v[3] + v[4];
        cpus++;
    }
    fclose(f);
    return cpus > 0;
}

/* How busy a CPU was between the last two looks, 0..1; -1 unknown (a
 * CPU /proc/stat does not list, or whose counters did not move: offline,
 * or restarted by going offline and back). */
static double busy(const gale__packer_t *p, int cpu) {
    const cpu_ticks_t *a = &p->last[cpu], *b = &p->now[cpu];
    if (!a->total || b->total <= a->total || b->busy < a->busy) return -1;
    double f = (double)(b->busy - a->busy) / (double)(b->total - a->total);
    return f > 1 ? 1 : f;
}

/* -1 when no CPU of the mask has figures */
static int least_busy(const gale__packer_t *p) {
    int best = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &p->set.all) && busy(p, c) >= 0 &&
            (best < 0 || busy(p, c) < busy(p, best)))
            best = c;
    return best;
}

/* true when told to stop; else after ms */
static bool wait_stop(gale__packer_t *p, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    pthread_mutex_lock(&p->lock);
    while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock, &ts) == 0) {
    }
    bool stop = p->stop;
    pthread_mutex_unlock(&p->lock);
    return stop;
}

static void pack(gale__packer_t *p, int cpu, double used) {
    CPU_ZERO(&p->set.home);
    CPU_SET(cpu, &p->set.home);
    p->home_cpu = cpu;
    int n = gale__pack_move(&p->set);
    atomic_store(&p->packed, true);
    GALE_DEBUG(NULL, 0, "topology '%s': %d threads share CPU %d while they use %.2f cores",
               p->topology, n, cpu, used);
}

static void spread(gale__packer_t *p, const char *why) {
    int n = gale__pack_restore(&p->set);
    atomic_store(&p->packed, false);
    GALE_DEBUG(NULL, 0, "topology '%s': %d threads spread over %d CPUs again (%s)", p->topology, n,
               CPU_COUNT(&p->set.all), why);
}

int gale__pack_decide(gale__pack_state_t *s, double below, double used, double cpu_busy,
                      int64_t now_ns) {
    if (!s->packed) {
        s->low = used < below ? s->low + 1 : 0;
        /* the CPU's own load counts twice when part of it is ours: this
         * errs on the side of not packing */
        if (s->low < LOW_LOOKS || now_ns < s->hold_until || cpu_busy < 0 || cpu_busy + used >= FULL)
            return 0;
        s->packed = true;
        return 1;
    }
    if (used <= FULL && cpu_busy >= 0 && cpu_busy <= FULL) return 0;
    s->packed = false;
    s->low = 0;
    s->hold_until = now_ns + (s->hold_ns ? s->hold_ns : HOLD_NS);
    return -1;
}

static void *packer_main(void *arg) {
    gale__packer_t *p = arg;
    pthread_setname_np(pthread_self(), "gale-packer");
    bool ticks = true; /* read into p->last at the start */
    int64_t cpu0 = process_cpu_ns(), wall0 = gale__now_ns();
    gale__pack_state_t st = {0};
    while (!wait_stop(p, LOOK_MS + (int)(next_rand(&p->rng) % LOOK_JITTER_MS))) {
        int64_t cpu1 = process_cpu_ns(), wall1 = gale__now_ns();
        ticks = ticks && read_ticks(p->now);
        double used = wall1 > wall0 ? (double)(cpu1 - cpu0) / (double)(wall1 - wall0) : 0;
        int cpu = st.packed ? p->home_cpu : ticks ? least_busy(p) : -1;
        double cpu_busy = ticks && cpu >= 0 ? busy(p, cpu) : -1;
        st.hold_ns = HOLD_NS + (int64_t)(next_rand(&p->rng) % (uint64_t)HOLD_JITTER_NS);
        int d = gale__pack_decide(&st, p->below, used, cpu_busy, wall1);
        if (d > 0) pack(p, cpu, used);
        if (d < 0)
            spread(p, used > FULL    ? "the worker's load grew"
                      : cpu_busy < 0 ? "its CPU's load cannot be read"
                                     : "its CPU is busy");
        memcpy(p->last, p->now, sizeof p->last);
        cpu0 = cpu1;
        wall0 = wall1;
    }
    if (atomic_load(&p->packed)) spread(p, "the topology stops");
    gale__pack_set_free(&p->set);
    return NULL;
}

gale__packer_t *gale__packer_start(double below_cores, const char *topology) {
    if (below_cores <= 0) return NULL;
    bool no = false;
    if (!atomic_compare_exchange_strong(&running, &no, true)) return NULL;
    gale__packer_t *p = calloc(1, sizeof *p);
    if (!p || sched_getaffinity(0, sizeof p->set.all, &p->set.all) || CPU_COUNT(&p->set.all) < 2)
        goto fail;
    /* without per-CPU figures it could not see another process take
     * the CPU it packed onto: no packing then */
    if (!read_ticks(p->last)) {
        GALE_DEBUG(NULL, 0, "topology '%s': no per-CPU figures in /proc/stat: threads stay spread",
                   topology ? topology : "");
        goto fail;
    }
    p->below = below_cores;
    p->rng = ((uint64_t)gale__now_ns() ^ ((uint64_t)getpid() << 32)) | 1; /* never 0 */
    snprintf(p->topology, sizeof p->topology, "%s", topology ? topology : "");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p->lock, NULL);
    /* once, so a user who sees every thread on one CPU knows why; the
     * packs and spreads themselves are debug lines */
    GALE_INFO(NULL, 0,
              "topology '%s': its threads share one CPU while they use less than %.2f cores "
              "(topology.worker.pack.cores; 0 turns it off)",
              p->topology, below_cores);
    if (pthread_create(&p->thread, NULL, packer_main, p)) {
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        goto fail;
    }
    return p;
fail:
    free(p);
    atomic_store(&running, false);
    return NULL;
}

bool gale__packer_packed(gale__packer_t *p) {
    return p && atomic_load(&p->packed);
}

void gale__packer_stop(gale__packer_t *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
    atomic_store(&running, false);
}
