/*
 * histogram.h — the latency histogram that travels with the stats: a
 * fixed array of GALE__HIST_BINS counters over half-octave buckets, so
 * two histograms merge by adding their bins and a window is a newer
 * cumulative histogram minus an older one (bin by bin).
 *
 * The choice: bucket 0 holds everything below 1 µs (1024 ns); bucket k ≥ 1
 * holds [2^l, 1.5 * 2^l) or [1.5 * 2^l, 2^(l+1)) ns with l = 10 + (k-1)/2,
 * so each bucket is at most 1.5x wider than its lower bound (a percentile
 * read from it is off by at most ~25% around its midpoint); the last
 * bucket (63) takes everything from 2^41 ns (~37 min) up. Indexing is a
 * count-leading-zeros and a shift: cheap enough for every sampled tuple
 * (only sampled tuples are timed, topology.stats.sample.rate). Even
 * buckets' lower bounds are powers of two from 1 µs: Prometheus's `le`
 * bounds (ui/metrics.c) are those, so its cumulative counts are exact.
 */
#ifndef GALE_COMMON_HISTOGRAM_H
#define GALE_COMMON_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define GALE__HIST_BINS 64

/* The three sampled latencies, in this order wherever they are kept:
 * execute (inside execute()), process (arrival to ack/fail), complete
 * (spout emit to the tree's ack). */
enum { GALE__LAT_EXECUTE = 0, GALE__LAT_PROCESS, GALE__LAT_COMPLETE, GALE__LAT_N };

/** @brief The bucket of a latency of ns nanoseconds (negative = 0). */
static inline unsigned gale__hist_bin(int64_t ns) {
    if (ns < 1024) return 0;
    uint64_t v = (uint64_t)ns;
    unsigned l = 63u - (unsigned)__builtin_clzll(v); /* floor(log2 v) >= 10 */
    unsigned half = (unsigned)(v >> (l - 1)) & 1u;   /* the bit after the top one */
    unsigned k = 2u * (l - 10u) + half + 1u;
    return k < GALE__HIST_BINS ? k : GALE__HIST_BINS - 1;
}

/** @brief The lower bound of bucket k in nanoseconds (0 for bucket 0). */
static inline double gale__hist_lower(unsigned k) {
    if (k == 0) return 0;
    unsigned l = 10u + (k - 1u) / 2u;
    double p = (double)(1ull << l);
    return (k - 1u) % 2u ? 1.5 * p : p;
}

/** @brief The upper bound of bucket k in nanoseconds (the last: its lower x 2). */
static inline double gale__hist_upper(unsigned k) {
    return k + 1 < GALE__HIST_BINS ? gale__hist_lower(k + 1) : 2 * gale__hist_lower(k);
}

/**
 * @brief The q-quantile (0 < q <= 1) of bins, in nanoseconds, linearly
 * interpolated inside its bucket; 0 when the histogram is empty.
 */
double gale__hist_quantile(const uint64_t bins[GALE__HIST_BINS], double q);

/** @brief Sum of the bins. */
uint64_t gale__hist_count(const uint64_t bins[GALE__HIST_BINS]);

#endif
