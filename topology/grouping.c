/*
 * grouping.c — the grouper: which of a subscriber's tasks get one emitted
 * tuple (rules in grouping.h, DESIGN §2).
 *
 * One grouper per (emitting task, subscription), so choose() keeps its
 * state (permutation position, partial-key counts) without locks, and it
 * runs once per emitted tuple: everything it needs is allocated by init,
 * choose() itself never allocates. The fields hash is the fixed,
 * unseeded gale__values_hash, so every worker of every run sends the same
 * key to the same task.
 */
#include <stdlib.h>
#include <string.h>

#include "common/value.h"
#include "topology/grouping.h"

/* Grouping fields are gathered on the stack for hashing; validation
 * (topology.c) refuses more. */
#define MAX_GROUPING_FIELDS 64

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t xorshift64star(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static void reshuffle(gale__grouper_t *g) {
    for (size_t i = 0; i < g->perm_len; i++) g->perm[i] = (int)i;
    for (size_t i = g->perm_len; i > 1; i--) {
        size_t j = (size_t)(xorshift64star(&g->rng) % i);
        int tmp = g->perm[i - 1];
        g->perm[i - 1] = g->perm[j];
        g->perm[j] = tmp;
    }
    g->pos = 0;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static bool uses_fields(gale__grouping_t k) {
    return k == GALE_GROUPING_FIELDS || k == GALE_GROUPING_PARTIAL_KEY;
}

static bool uses_shuffle(gale__grouping_t k) {
    return k == GALE_GROUPING_SHUFFLE || k == GALE_GROUPING_NONE ||
           k == GALE_GROUPING_LOCAL_OR_SHUFFLE;
}

int gale__grouper_init(gale__grouper_t *g, const gale__input_t *in, const gale__stream_t *src,
                       const int *targets, size_t n_targets, const int *local, size_t n_local,
                       uint64_t seed, const gale_grouping_t *custom) {
    if (!g) return GALE_EINVAL;
    memset(g, 0, sizeof *g);
    if (!in || !targets || n_targets == 0 || (int)in->grouping < 0 ||
        in->grouping >= GALE_GROUPING__COUNT)
        return GALE_EINVAL;
    gale__grouping_t kind = in->grouping;
    if (kind == GALE_GROUPING_CUSTOM && (!custom || !custom->choose)) return GALE_EINVAL;
    if (uses_fields(kind) && (!src || in->n_fields == 0 || in->n_fields > MAX_GROUPING_FIELDS))
        return GALE_EINVAL;
    g->kind = kind;

    g->targets = malloc(n_targets * sizeof *g->targets);
    if (!g->targets) goto oom;
    memcpy(g->targets, targets, n_targets * sizeof *targets);
    /* Sorted order is what makes hash % n name the same task everywhere. */
    qsort(g->targets, n_targets, sizeof *g->targets, cmp_int);
    g->n_targets = n_targets;

    if (kind == GALE_GROUPING_LOCAL_OR_SHUFFLE && local && n_local > 0) {
        g->local = malloc(n_local * sizeof *g->local);
        if (!g->local) goto oom;
        memcpy(g->local, local, n_local * sizeof *local);
        qsort(g->local, n_local, sizeof *g->local, cmp_int);
        g->n_local = n_local;
    }

    if (uses_fields(kind)) {
        g->field_idx = malloc(in->n_fields * sizeof *g->field_idx);
        if (!g->field_idx) goto oom;
        for (size_t i = 0; i < in->n_fields; i++) {
            int ix = gale__stream_field_index(src, in->fields[i]);
            if (ix < 0) {
                gale__grouper_destroy(g);
                return GALE_EINVAL;
            }
            g->field_idx[i] = (size_t)ix;
        }
        g->n_field_idx = in->n_fields;
    }

    if (kind == GALE_GROUPING_PARTIAL_KEY) {
        g->sent = calloc(n_targets, sizeof *g->sent);
        if (!g->sent) goto oom;
    }

    if (uses_shuffle(kind)) {
        g->perm_len = g->n_local ? g->n_local : g->n_targets;
        g->perm = malloc(g->perm_len * sizeof *g->perm);
        if (!g->perm) goto oom;
        g->rng = splitmix64(seed);
        if (g->rng == 0) g->rng = 0x9e3779b97f4a7c15ULL; /* xorshift's fixed point */
        reshuffle(g);
    }

    if (kind == GALE_GROUPING_CUSTOM) {
        g->custom = custom;
        if (custom->prepare) {
            int rc = custom->prepare(&g->custom_state, g->targets, g->n_targets);
            if (rc) {
                g->custom = NULL; /* nothing to clean up */
                gale__grouper_destroy(g);
                return rc < 0 ? rc : GALE_EINVAL;
            }
        }
    }
    return 0;
oom:
    gale__grouper_destroy(g);
    return GALE_ENOMEM;
}

void gale__grouper_destroy(gale__grouper_t *g) {
    if (!g) return;
    if (g->custom && g->custom->cleanup) g->custom->cleanup(g->custom_state);
    free(g->targets);
    free(g->local);
    free(g->perm);
    free(g->field_idx);
    free(g->sent);
    memset(g, 0, sizeof *g);
}

/* Hash of the grouping fields' values, in grouping-field order. */
static uint64_t key_hash(const gale__grouper_t *g, const gale_value_t *vals, size_t n) {
    gale_value_t sel[MAX_GROUPING_FIELDS];
    for (size_t i = 0; i < g->n_field_idx; i++) {
        size_t ix = g->field_idx[i];
        /* A short tuple is the emitter's bug; hash nil rather than read past it. */
        sel[i] = ix < n && vals ? vals[ix] : gale_nil();
    }
    return gale__values_hash(sel, g->n_field_idx);
}

size_t gale__grouper_choose(gale__grouper_t *g, const gale_value_t *vals, size_t n, int *out,
                            size_t cap) {
    if (!g || !g->targets) return 0;
    switch (g->kind) {
        case GALE_GROUPING_SHUFFLE:
        case GALE_GROUPING_NONE:
        case GALE_GROUPING_LOCAL_OR_SHUFFLE: {
            if (cap == 0) return 1; /* keep the position for the caller's retry */
            if (g->pos >= g->perm_len) reshuffle(g);
            const int *active = g->n_local ? g->local : g->targets;
            out[0] = active[g->perm[g->pos++]];
            return 1;
        }
        case GALE_GROUPING_FIELDS: {
            if (cap) out[0] = g->targets[key_hash(g, vals, n) % g->n_targets];
            return 1;
        }
        case GALE_GROUPING_PARTIAL_KEY: {
            if (cap == 0) return 1;
            uint64_t h1 = key_hash(g, vals, n);
            size_t a = (size_t)(h1 % g->n_targets);
            size_t b = (size_t)(splitmix64(h1) % g->n_targets);
            size_t pick = g->sent[b] < g->sent[a] ? b : a;
            g->sent[pick]++;
            out[0] = g->targets[pick];
            return 1;
        }
        case GALE_GROUPING_ALL: {
            size_t w = cap < g->n_targets ? cap : g->n_targets;
            if (w) memcpy(out, g->targets, w * sizeof *out);
            return g->n_targets;
        }
        case GALE_GROUPING_GLOBAL:
            if (cap) out[0] = g->targets[0];
            return 1;
        case GALE_GROUPING_DIRECT:
            return 0;
        case GALE_GROUPING_CUSTOM:
            return g->custom->choose(g->custom_state, g->targets, g->n_targets, vals, n, out, cap);
        default:
            return 0;
    }
}
