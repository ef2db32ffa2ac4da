/*
 * packing.h — a nearly idle worker runs its threads on one CPU.
 *
 * Why. A parked executor is woken by the thread that hands it a tuple.
 * The scheduler wakes it on an idle CPU when there is one; on a virtual
 * machine an idle vCPU is halted, and waking it costs 10–30 µs — per hop,
 * so a spout -> bolt -> acker -> spout round trip pays it three times.
 * Woken on the CPU of the thread that woke it, the same hop is a context
 * switch of 1–3 µs. At low rates a worker needs well under one CPU, so
 * while it does, all its threads share one: complete latency at 10 k
 * tuples/s falls by more than half and the CPU the process uses by a
 * third (bench/RESULTS.md).
 *
 * How. One thread per runtime looks every 500 ms at the CPU the process
 * used (CLOCK_PROCESS_CPUTIME_ID) and at how busy each CPU was
 * (/proc/stat). Below topology.worker.pack.cores for two looks in a row,
 * it sets the affinity of every thread of the process that still has the
 * process's own mask to the least busy CPU of that mask. Packed, when that
 * CPU is more than 85 % busy (the worker's load grew, or another process
 * took the CPU), it gives those threads the whole mask back and does not
 * pack again for 10 s. A thread whose affinity someone else set is left
 * alone both ways; so is a process allowed a single CPU.
 */
#ifndef GALE_WORKER_PACKING_H
#define GALE_WORKER_PACKING_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

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
} gale__pack_state_t;

/**
 * @brief One look's decision: +1 pack, -1 spread, 0 stay. used: cores the
 * process used since the last look; cpu_busy: 0..1, how busy the CPU it
 * would pack onto (the least busy one), or is packed on, was meanwhile.
 */
int gale__pack_decide(gale__pack_state_t *s, double below, double used, double cpu_busy,
                      int64_t now_ns);

/** @brief Give every thread of the process whose mask is `from` the mask
 * `to`; returns how many moved. */
int gale__pack_retarget(const cpu_set_t *from, const cpu_set_t *to);

#endif
