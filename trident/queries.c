/*
 * queries.c — built-in state query, filter and put combiner: Storm's
 * MapGet and FilterNull, and gale_last_agg for partition_persist.
 */
#include "gale/trident.h"

static void map_get_execute(void *state, const gale_value_t *in, size_t n,
                            const gale_value_t *value, gale_trident_collector_t *c) {
    (void)state;
    (void)in;
    (void)n;
    gale_trident_emit(c, value, 1);
}

const gale_trident_query_t gale_map_get_query = {NULL, map_get_execute, NULL};

static bool not_null(void *state, const gale_value_t *in, size_t n) {
    (void)state;
    for (size_t i = 0; i < n; i++)
        if (in[i].type == GALE_T_NIL) return false;
    return true;
}

const gale_trident_filter_t gale_filter_null = {NULL, not_null, NULL};

static int last_init(const gale_value_t *in, size_t n, gale_value_t *out) {
    *out = n ? in[n - 1] : gale_nil();
    return 0;
}
static int last_combine(const gale_value_t *a, const gale_value_t *b, gale_value_t *out) {
    (void)a;
    *out = *b;
    return 0;
}
static gale_value_t last_zero(void) {
    return gale_nil();
}

const gale_combiner_t gale_last_agg = {last_init, last_combine, last_zero};
