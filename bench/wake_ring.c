/*
 * wake_ring.c — the floor under a parked executor's paced latency: three
 * threads (spout, bolt, acker) pass one token around a ring, each
 * sleeping on a futex until it is woken, as a packed worker's executors
 * do between tuples. The "spout" starts a round every --gap-us (the paced
 * rate's gap, 100 µs at 10 k/s), so every hop finds its thread asleep.
 * It reports the round trip's p50/p99: three wakes and three context
 * switches with no work, what no parked design on one CPU can go under.
 *
 *   bench_wake_ring [--rounds N] [--gap-us US] [--cpu C | --cpus-apart]
 *
 * --cpu C (default 0) pins all three threads to CPU C (Gale's packing);
 * --cpus-apart pins each thread to CPU (i % ncpus) (the cross-CPU wake).
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"

#define HOPS 3

static _Atomic uint32_t turn; /* whose turn: 0 spout, 1 bolt, 2 acker; a futex word */
static _Atomic bool stop;

static void wait_turn(uint32_t me) {
    uint32_t t;
    while ((t = atomic_load(&turn)) != me && !atomic_load(&stop))
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, t, NULL, NULL, 0);
}

static void pass_turn(uint32_t next) {
    atomic_store(&turn, next);
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, HOPS, NULL, NULL, 0);
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set))
        fprintf(stderr, "wake_ring: cannot pin to CPU %d (runs unpinned)\n", cpu);
}

static int cpu_of[HOPS];

static void *hop_main(void *arg) {
    uint32_t me = (uint32_t)(uintptr_t)arg;
    pin(cpu_of[me]);
    for (;;) {
        wait_turn(me);
        if (atomic_load(&stop)) return NULL;
        pass_turn((me + 1) % HOPS);
    }
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    double rounds_d = 20000, gap_d = 100, cpu_d = 0;
    bool apart = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--rounds") == 0 && has && parse_num(argv[i + 1], 1, &rounds_d)) {
            i++;
        } else if (strcmp(a, "--gap-us") == 0 && has && parse_num(argv[i + 1], 0, &gap_d)) {
            i++;
        } else if (strcmp(a, "--cpu") == 0 && has && parse_num(argv[i + 1], 0, &cpu_d)) {
            i++;
        } else if (strcmp(a, "--cpus-apart") == 0) {
            apart = true;
        } else {
            fprintf(stderr, "usage: %s [--rounds N>=1] [--gap-us US>=0] [--cpu C | --cpus-apart]\n",
                    argv[0]);
            return 2;
        }
    }
    long rounds = (long)rounds_d, gap_us = (long)gap_d;
    int cpu = (int)cpu_d;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 0; i < HOPS; i++) cpu_of[i] = apart ? (int)(i % ncpu) : cpu;
    int64_t *rt = malloc((size_t)rounds * sizeof *rt);
    if (!rt) return 1;
    pthread_t th[HOPS];
    for (uint32_t i = 1; i < HOPS; i++)
        pthread_create(&th[i], NULL, hop_main, (void *)(uintptr_t)i);
    pin(cpu_of[0]);
    for (long r = 0; r < rounds; r++) {
        struct timespec gap = {gap_us / 1000000, gap_us % 1000000 * 1000};
        nanosleep(&gap, NULL); /* the paced spout's timer: the others park meanwhile */
        int64_t t0 = gale__now_ns();
        pass_turn(1);
        wait_turn(0);
        rt[r] = gale__now_ns() - t0;
    }
    atomic_store(&stop, true);
    pass_turn(HOPS); /* nobody's turn: wakes all to see stop */
    for (int i = 1; i < HOPS; i++) pthread_join(th[i], NULL);
    qsort(rt, (size_t)rounds, sizeof *rt, cmp_i64);
    printf("wake_ring %s gap=%ldus rounds=%ld: round trip p50 %.1f us p99 %.1f us\n",
           apart ? "cpus-apart" : "one-cpu", gap_us, rounds, rt[rounds / 2] / 1e3,
           rt[rounds * 99 / 100] / 1e3);
    free(rt);
    return 0;
}
