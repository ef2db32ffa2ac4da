/*
 * aggregators.c — the built-in combiner aggregators (Storm's Count, Sum,
 * Min, Max). Results point into their inputs or are scalars: the runtime
 * copies them (gale_combiner_t's memory rule).
 */
#include <string.h>

#include "gale/trident.h"

static gale_value_t zero_int(void) {
    return gale_int(0);
}
static gale_value_t zero_nil(void) {
    return gale_nil();
}

static int count_init(const gale_value_t *in, size_t n, gale_value_t *out) {
    (void)in;
    (void)n;
    *out = gale_int(1);
    return 0;
}

/* a + b for ints (overflow refused) and doubles (an int mixed in counts). */
static int add(const gale_value_t *a, const gale_value_t *b, gale_value_t *out) {
    if (a->type == GALE_T_NIL) return *out = *b, 0;
    if (b->type == GALE_T_NIL) return *out = *a, 0;
    if (a->type == GALE_T_INT && b->type == GALE_T_INT) {
        int64_t r;
        if (__builtin_add_overflow(a->u.i, b->u.i, &r)) return GALE_ERANGE;
        *out = gale_int(r);
        return 0;
    }
    if ((a->type != GALE_T_INT && a->type != GALE_T_DOUBLE) ||
        (b->type != GALE_T_INT && b->type != GALE_T_DOUBLE))
        return GALE_ETYPE;
    double x = a->type == GALE_T_INT ? (double)a->u.i : a->u.d;
    double y = b->type == GALE_T_INT ? (double)b->u.i : b->u.d;
    *out = gale_double(x + y);
    return 0;
}

static int first_init(const gale_value_t *in, size_t n, gale_value_t *out) {
    if (n < 1) return GALE_EINVAL; /* sum/min/max need their one input field */
    *out = in[0];
    return 0;
}

static int sum_init(const gale_value_t *in, size_t n, gale_value_t *out) {
    if (n < 1) return GALE_EINVAL;
    if (in[0].type != GALE_T_INT && in[0].type != GALE_T_DOUBLE) return GALE_ETYPE;
    *out = in[0];
    return 0;
}

/* <0, 0, >0; numbers by value, strings bytewise; other mixes: GALE_ETYPE */
static int cmp(const gale_value_t *a, const gale_value_t *b, int *r) {
    bool an = a->type == GALE_T_INT || a->type == GALE_T_DOUBLE;
    bool bn = b->type == GALE_T_INT || b->type == GALE_T_DOUBLE;
    if (an && bn) {
        if (a->type == GALE_T_INT && b->type == GALE_T_INT) {
            *r = (a->u.i > b->u.i) - (a->u.i < b->u.i);
            return 0;
        }
        double x = a->type == GALE_T_INT ? (double)a->u.i : a->u.d;
        double y = b->type == GALE_T_INT ? (double)b->u.i : b->u.d;
        *r = (x > y) - (x < y);
        return 0;
    }
    if (a->type == GALE_T_STR && b->type == GALE_T_STR) {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = n ? memcmp(a->u.s, b->u.s, n) : 0;
        *r = c ? c : (a->len > b->len) - (a->len < b->len);
        return 0;
    }
    return GALE_ETYPE;
}

static int pick(const gale_value_t *a, const gale_value_t *b, gale_value_t *out, int sign) {
    if (a->type == GALE_T_NIL) return *out = *b, 0;
    if (b->type == GALE_T_NIL) return *out = *a, 0;
    int r, rc = cmp(a, b, &r);
    if (rc) return rc;
    *out = (r * sign <= 0) ? *a : *b;
    return 0;
}
static int min_combine(const gale_value_t *a, const gale_value_t *b, gale_value_t *out) {
    return pick(a, b, out, 1);
}
static int max_combine(const gale_value_t *a, const gale_value_t *b, gale_value_t *out) {
    return pick(a, b, out, -1);
}

const gale_combiner_t gale_count_agg = {count_init, add, zero_int};
const gale_combiner_t gale_sum_agg = {sum_init, add, zero_int};
const gale_combiner_t gale_min_agg = {first_init, min_combine, zero_nil};
const gale_combiner_t gale_max_agg = {first_init, max_combine, zero_nil};
