/*
 * packing.h — a nearly idle worker runs its threads on one CPU.
 *
 * Why. A parked executor is woken by the thread that hands it a tuple.
 * The scheduler wakes it on an idle CPU when there is one; on a virtual
 * machine an idle vCPU is halted, and waking it costs 10 µs or more
 * (12–15 µs here, by perf sched) — per hop, so a spout -> bolt -> acker
 * -> spout round trip pays it three times. Woken on the CPU of the
 * thread that woke it, the same hop is a context switch of 1–3 µs. At
 * low rates a worker needs well under one CPU, so while it does, all its
 * threads share one: complete latency at 10 k tuples/s falls by more
 * than half and the CPU the process uses by a third (bench/RESULTS.md).
 *
 * How. One thread per runtime looks every 400-600 ms at the CPU the process
 * used (CLOCK_PROCESS_CPUTIME_ID) and at how busy each CPU was
 * (/proc/stat). Below topology.worker.pack.cores for two looks in a row,
 * it sets the affinity of every thread of the process that still has the
 * process's own mask to the least busy CPU of that mask. Packed, when that
 * CPU is more than 85 % busy (the worker's load grew, or another process
 * took the CPU), or its load cannot be read, it gives those threads the
 * whole mask back and does not pack again for 10-15 s. A thread whose
 * affinity someone else set is left alone both ways (pack_moves.c); so is
 * a process allowed a single CPU. Without per-CPU figures it never packs:
 * it could not see another process take the CPU. The gap between looks
 * and the hold after a spread are random within their ranges, so workers
 * of one host started together do not pack and spread in step.
 */
#ifndef GALE_WORKER_PACKING_H
#define GALE_WORKER_PACKING_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct gale__packer gale__packer_t;

/**
 * @brief Start packing this process's threads while it uses less than
 * `below_cores` cores. NULL (and nothing started) when below_cores <= 0,
 * when the process may run on one CPU only, or when the thread cannot
 * start. Call from any thread; gale__packer_stop ends it.
 */
gale__packer_t *gale__packer_start(double below_cores, const char *topology);

/** @brief Whether the threads are packed now (tests). NULL: false. */
bool gale__packer_packed(gale__packer_t *p);

/**
 * @brief Stop the packer thread, give every thread it packed the
 * process's mask back and free it. Accepts NULL.
 */
void gale__packer_stop(gale__packer_t *p);

/* Inside the packer, exposed for tests. */

typedef struct {
    bool packed;
    int low;            /* looks in a row below the limit */
    int64_t hold_until; /* no packing before (after a spread) */
    int64_t hold_ns;    /* how long a spread holds (10 s + jitter) */
} gale__pack_state_t;

/**
 * @brief One look's decision: +1 pack, -1 spread, 0 stay. used: cores the
 * process used since the last look; cpu_busy: 0..1, how busy the CPU it
 * would pack onto (the least busy one), or is packed on, was meanwhile;
 * below 0 when that is unknown (/proc/stat unreadable, or a CPU it does
 * not list): then it never packs, and spreads when packed.
 */
int gale__pack_decide(gale__pack_state_t *s, double below, double used, double cpu_busy,
                      int64_t now_ns);

/* Thread ids, sorted. */
typedef struct {
    pid_t *v;
    size_t n, cap;
} gale__tids_t;

/* What a pack moved (pack_moves.c). */
typedef struct {
    cpu_set_t all;         /* the process's mask */
    cpu_set_t home;        /* the one CPU */
    gale__tids_t known;    /* every thread at the pack */
    gale__tids_t moved;    /* those the pack moved onto home */
    gale__tids_t children; /* direct child processes at the pack */
} gale__pack_set_t;

/** @brief Move every thread of the process whose mask is s->all onto
 * s->home, noting which; returns how many moved. */
int gale__pack_move(gale__pack_set_t *s);

/** @brief Give s->all back to the threads the pack moved and to those
 * created since (if their mask is still s->home), and to direct child
 * processes started since with exactly s->home; returns how many threads
 * moved. */
int gale__pack_restore(gale__pack_set_t *s);

void gale__pack_set_free(gale__pack_set_t *s);

#endif
