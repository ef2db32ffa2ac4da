/*
 * zipf_corpus.c — a word corpus for bench/trident.sh: --words words drawn
 * from a Zipf distribution (exponent --s) over --distinct distinct words,
 * --per-line words a line, to stdout. Deterministic for a --seed.
 *
 *   bench_zipf_corpus --words 20000000 --distinct 100000 > corpus.txt
 *
 * The word of rank r (1 = the most frequent) is 1-5 lowercase letters
 * (from a hash of r) followed by r in decimal: unique, 3-11 characters.
 * stderr gets one line: words, lines, distinct words that occur.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static uint64_t rng_state;

/* xorshift64*: fast, and good enough to draw ranks */
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int word_of(uint64_t rank, char *out) {
    uint64_t h = mix(rank);
    int n = 1 + (int)(h % 5), len = 0;
    h /= 5;
    for (int i = 0; i < n; i++, h /= 26) out[len++] = (char)('a' + h % 26);
    return len + sprintf(out + len, "%" PRIu64, rank);
}

static int usage(const char *why) {
    fprintf(stderr,
            "zipf_corpus: %s\nusage: bench_zipf_corpus [--words N] [--distinct N] [--s X] "
            "[--per-line N] [--seed N] > corpus.txt\n",
            why);
    return 2;
}

int main(int argc, char **argv) {
    uint64_t words = 20000000, distinct = 100000, per_line = 10, seed = 9;
    double s = 1.0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) return usage("every option takes a value");
        char *end;
        const char *o = argv[i], *v = argv[++i];
        if (strcmp(o, "--s") == 0) {
            s = strtod(v, &end);
            if (*end || s <= 0) return usage("--s wants a positive number");
            continue;
        }
        uint64_t n = strtoull(v, &end, 10);
        if (*end || n == 0) return usage("options want positive integers");
        if (strcmp(o, "--words") == 0)
            words = n;
        else if (strcmp(o, "--distinct") == 0)
            distinct = n;
        else if (strcmp(o, "--per-line") == 0)
            per_line = n;
        else if (strcmp(o, "--seed") == 0)
            seed = n;
        else
            return usage("unknown option");
    }
    double *cdf = malloc(distinct * sizeof *cdf);
    unsigned char *seen = calloc(distinct, 1);
    if (!cdf || !seen) return usage("out of memory");
    double sum = 0;
    for (uint64_t r = 0; r < distinct; r++) cdf[r] = sum += pow((double)(r + 1), -s);
    rng_state = mix(seed) | 1;
    static char buf[1 << 16];
    size_t used = 0;
    uint64_t lines = 0, occurring = 0;
    for (uint64_t w = 0; w < words; w++) {
        /* inverse CDF: the first rank whose cumulative weight reaches u */
        double u = (double)(rng() >> 11) / 9007199254740992.0 * sum;
        uint64_t lo = 0, hi = distinct - 1;
        while (lo < hi) {
            uint64_t mid = (lo + hi) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (!seen[lo]) seen[lo] = 1, occurring++;
        used += (size_t)word_of(lo + 1, buf + used);
        int eol = (w + 1) % per_line == 0 || w + 1 == words;
        buf[used++] = eol ? '\n' : ' ';
        lines += eol;
        if (used > sizeof buf - 64) {
            if (fwrite(buf, 1, used, stdout) != used) return usage("cannot write stdout");
            used = 0;
        }
    }
    if (used && fwrite(buf, 1, used, stdout) != used) return usage("cannot write stdout");
    fprintf(stderr,
            "zipf_corpus: %" PRIu64 " words, %" PRIu64 " lines, %" PRIu64
            " distinct words occur (of %" PRIu64 ", s=%.2f)\n",
            words, lines, occurring, distinct, s);
    free(cdf);
    free(seen);
    return fflush(stdout) ? 1 : 0;
}
