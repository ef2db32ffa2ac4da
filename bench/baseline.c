/*
 * baseline.c — what the ConstSpoutNullBolt work costs without a
 * framework, so bench/run.sh can say how far Gale is from it.
 *
 *   loop  one thread: make the constant value ("some data" as a
 *         gale_value_t) and hand it to a function through a volatile
 *         function pointer, so the compiler can neither inline nor drop
 *         the call; the function adds the length to a volatile sink.
 *   spsc  two threads: a producer puts a pointer to the value into a
 *         single-producer single-consumer ring (1024 slots, cached
 *         indices, no batching), a consumer takes it and calls the same
 *         function. The cheapest possible "spout thread -> bolt thread".
 *
 * Throughput is calls of the function per second over a window after a
 * warm-up, like the topology benchmarks. Prints "RESULT ..." lines.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/measure.h"
#include "gale/gale.h"

static volatile uint64_t g_sink;

static void null_fn(const gale_value_t *v) {
    g_sink += v->len;
}

static void (*volatile g_fn)(const gale_value_t *) = null_fn;

static void report(const char *name, double tput, double cpu, double others) {
    printf("throughput: %.0f tuples/s (%.2f ns per tuple), cpu %.2f cores; other processes used "
           "%.2f cores meanwhile\n",
           tput, 1e9 / tput, cpu, others);
    printf("RESULT bench=%s tput=%.0f cpu=%.2f others=%.2f\n", name, tput, cpu, others);
    fflush(stdout);
}

/* ---------- plain loop ---------- */

static void run_loop(double warmup, double secs) {
    printf("\n== loop: plain loop, constant value -> opaque function call ==\n");
    double start = now_s(), t0 = 0, c0 = 0, m0 = 0, t1;
    uint64_t n = 0, n0 = 0;
    bool measuring = false;
    for (;;) {
        for (int i = 0; i < 65536; i++) {
            gale_value_t v = gale_strn("some data", 9);
            g_fn(&v);
        }
        n += 65536;
        double t = now_s();
        if (!measuring && t - start >= warmup) {
            measuring = true;
            t0 = t;
            n0 = n;
            c0 = cpu_s();
            m0 = machine_busy_s();
        } else if (measuring && t - t0 >= secs) {
            t1 = t;
            break;
        }
    }
    double c1 = cpu_s(), m1 = machine_busy_s();
    report("loop", (double)(n - n0) / (t1 - t0), (c1 - c0) / (t1 - t0),
           fmax(0, (m1 - m0 - (c1 - c0)) / (t1 - t0)));
}

/* ---------- SPSC ring ---------- */

#define RING 1024

static struct {
    _Alignas(64) _Atomic uint64_t head; /* consumer */
    _Alignas(64) _Atomic uint64_t tail; /* producer */
    _Alignas(64) _Atomic uint64_t consumed;
    _Alignas(64) atomic_bool stop;
    _Alignas(64) const gale_value_t *slots[RING];
} g_ring;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *producer(void *arg) {
    (void)arg;
    static const gale_value_t value = {GALE_T_STR, 9, {.s = "some data"}};
    uint64_t tail = 0, head_cache = 0;
    while (!atomic_load_explicit(&g_ring.stop, memory_order_relaxed)) {
        if (tail - head_cache == RING) {
            head_cache = atomic_load_explicit(&g_ring.head, memory_order_acquire);
            if (tail - head_cache == RING) {
                cpu_relax();
                continue;
            }
        }
        g_ring.slots[tail & (RING - 1)] = &value;
        atomic_store_explicit(&g_ring.tail, ++tail, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    uint64_t head = 0, tail_cache = 0, done = 0;
    while (!atomic_load_explicit(&g_ring.stop, memory_order_relaxed)) {
        if (head == tail_cache) {
            tail_cache = atomic_load_explicit(&g_ring.tail, memory_order_acquire);
            if (head == tail_cache) {
                cpu_relax();
                continue;
            }
        }
        g_fn(g_ring.slots[head & (RING - 1)]);
        atomic_store_explicit(&g_ring.head, ++head, memory_order_release);
        /* single writer: publish the count for the sampling thread */
        atomic_store_explicit(&g_ring.consumed, ++done, memory_order_relaxed);
    }
    return NULL;
}

static int run_spsc(double warmup, double secs) {
    printf("\n== spsc: two threads, value pointer through an SPSC ring (%d slots) -> opaque "
           "function call ==\n",
           RING);
    pthread_t p, c;
    if (pthread_create(&c, NULL, consumer, NULL)) return 1;
    if (pthread_create(&p, NULL, producer, NULL)) {
        atomic_store(&g_ring.stop, true);
        pthread_join(c, NULL);
        return 1;
    }
    struct timespec w = {(time_t)warmup, (long)((warmup - (double)(time_t)warmup) * 1e9)};
    nanosleep(&w, NULL);
    double t0 = now_s(), c0 = cpu_s(), m0 = machine_busy_s();
    uint64_t n0 = atomic_load(&g_ring.consumed);
    struct timespec m = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&m, NULL);
    uint64_t n1 = atomic_load(&g_ring.consumed);
    double t1 = now_s(), c1 = cpu_s(), m1 = machine_busy_s();
    atomic_store(&g_ring.stop, true);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    report("spsc", (double)(n1 - n0) / (t1 - t0), (c1 - c0) / (t1 - t0),
           fmax(0, (m1 - m0 - (c1 - c0)) / (t1 - t0)));
    return 0;
}

int main(int argc, char **argv) {
    double warmup = 5, secs = 30;
    bool loop = false, spsc = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--warmup") == 0 && has && parse_num(argv[i + 1], 0, &warmup)) {
            i++;
        } else if (strcmp(a, "--secs") == 0 && has && parse_num(argv[i + 1], 0.1, &secs)) {
            i++;
        } else if (strcmp(a, "--bench") == 0 && has &&
                   (strcmp(argv[i + 1], "loop") == 0 || strcmp(argv[i + 1], "spsc") == 0)) {
            if (strcmp(argv[++i], "loop") == 0)
                loop = true;
            else
                spsc = true;
        } else if (strcmp(a, "--list") == 0) {
            printf("loop\nspsc\n");
            return 0;
        } else {
            fprintf(stderr, "usage: bench_baseline [--bench loop|spsc]... [--warmup S] [--secs S]"
                            "\n  defaults: both, 5 s warm-up, 30 s measured\n");
            return 2;
        }
    }
    if (!loop && !spsc) loop = spsc = true;
    if (loop) run_loop(warmup, secs);
    return spsc ? run_spsc(warmup, secs) : 0;
}
