/*
 * histogram.c — quantiles over the half-octave histogram (histogram.h).
 */
#include "common/histogram.h"

uint64_t gale__hist_count(const uint64_t bins[GALE__HIST_BINS]) {
    uint64_t n = 0;
    for (unsigned k = 0; k < GALE__HIST_BINS; k++) n += bins[k];
    return n;
}

double gale__hist_quantile(const uint64_t bins[GALE__HIST_BINS], double q) {
    uint64_t n = gale__hist_count(bins);
    if (n == 0) return 0;
    if (q <= 0) q = 0;
    if (q > 1) q = 1;
    double rank = q * (double)n; /* the sample of this rank (1-based, fractional) */
    double seen = 0;
    for (unsigned k = 0; k < GALE__HIST_BINS; k++) {
        if (!bins[k]) continue;
        if (seen + (double)bins[k] >= rank) {
            double f = (rank - seen) / (double)bins[k];
            double lo = gale__hist_lower(k), hi = gale__hist_upper(k);
            return lo + f * (hi - lo);
        }
        seen += (double)bins[k];
    }
    return gale__hist_upper(GALE__HIST_BINS - 1);
}
