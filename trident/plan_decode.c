/*
 * plan_decode.c — decode a component's micro-batch plan (plan.h) from its
 * conf. The plan is built by trident/api.c but travels with the topology,
 * so every type and index is checked as if it came from the wire.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trident/plan.h"

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...) {
    int n = snprintf(err, errlen, "micro-batch plan (conf %s): ", GALE__TRIDENT_PLAN_KEY);
    if (n < 0 || (size_t)n >= errlen) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return GALE_EPROTO;
}

static const gale_value_t *arr(const gale_value_t *v, size_t min) {
    return v && v->type == GALE_T_ARRAY && v->len >= min ? v->u.a : NULL;
}
static bool is_str(const gale_value_t *v) {
    return v->type == GALE_T_STR && v->u.s;
}
static char *dup_str(const gale_value_t *v) {
    return v->type == GALE_T_STR && v->u.s ? strndup(v->u.s, v->len) : NULL;
}
static bool get_int(const gale_value_t *v, int64_t lo, int64_t hi, int64_t *out) {
    if (v->type != GALE_T_INT || v->u.i < lo || v->u.i > hi) return false;
    *out = v->u.i;
    return true;
}
static bool int_list(const gale_value_t *v, int *out, size_t *n) {
    if (v->type != GALE_T_ARRAY || v->len > GALE__TRIDENT_MAX_FIELDS) return false;
    for (size_t i = 0; i < v->len; i++) {
        int64_t x;
        if (!get_int(&v->u.a[i], 0, GALE__TRIDENT_MAX_FIELDS - 1, &x)) return false;
        out[i] = (int)x;
    }
    *n = v->len;
    return true;
}
static char **str_list(const gale_value_t *v, size_t *n) {
    if (v->type != GALE_T_ARRAY) return NULL;
    char **l = calloc(v->len + 1, sizeof *l);
    if (!l) return NULL;
    for (size_t i = 0; i < v->len; i++)
        if (!is_str(&v->u.a[i]) || !(l[i] = dup_str(&v->u.a[i]))) {
            for (size_t k = 0; k < i; k++) free(l[k]);
            free(l);
            return NULL;
        }
    *n = v->len;
    return l;
}

void gale__plan_free(gale__plan_t *p) {
    if (!p) return;
    free(p->txid_name);
    for (size_t i = 0; i < p->n_inputs; i++) {
        free(p->inputs[i].source);
        free(p->inputs[i].stream);
    }
    free(p->inputs);
    for (size_t i = 0; i < p->n_ops; i++) {
        free(p->ops[i].symbol);
        free(p->ops[i].spec.key_prefix);
        free(p->ops[i].spec.hash_key);
        free(p->ops[i].spec.key_fn_symbol);
    }
    free(p->ops);
    for (size_t i = 0; i < p->n_outputs; i++) {
        free(p->outputs[i].stream);
        for (size_t k = 0; k < p->outputs[i].n_subs; k++) free(p->outputs[i].subs[k]);
        free(p->outputs[i].subs);
        for (size_t k = 0; k < p->outputs[i].n_fields; k++) free(p->outputs[i].fields[k]);
        free(p->outputs[i].fields);
    }
    free(p->outputs);
    free(p->spout_symbol);
    free(p->spout_comp);
    for (size_t i = 0; i < p->n_committers; i++) free(p->committers[i]);
    free(p->committers);
    free(p);
}

static int decode_op(const gale_value_t *v, size_t i, size_t n_ops, gale__pop_t *op, char *err,
                     size_t errlen) {
    const gale_value_t *a = arr(v, 8);
    int64_t x;
    if (!a) return bad(err, errlen, "op %zu is not an array of 8", i);
    if (!get_int(&a[0], 0, GALE__TOP__COUNT - 1, &x))
        return bad(err, errlen, "op %zu: bad kind", i);
    op->kind = (int)x;
    /* parents come first, so the graph has no cycles */
    if (!get_int(&a[1], -1, (int64_t)i - 1, &x)) return bad(err, errlen, "op %zu: bad parent", i);
    op->parent = (int)x;
    if (a[2].type != GALE_T_NIL && !(op->symbol = dup_str(&a[2])))
        return bad(err, errlen, "op %zu: bad symbol", i);
    if (!int_list(&a[3], op->in, &op->n_in)) return bad(err, errlen, "op %zu: bad input fields", i);
    if (!get_int(&a[4], 0, GALE__TRIDENT_MAX_FIELDS, &x))
        return bad(err, errlen, "op %zu: bad output count", i);
    op->n_out = (size_t)x;
    if (!int_list(&a[5], op->group, &op->n_group))
        return bad(err, errlen, "op %zu: bad group fields", i);
    if (a[6].type != GALE_T_NIL) {
        const gale_value_t *s = arr(&a[6], 4);
        if (!s || !get_int(&s[0], 0, 2, &x)) return bad(err, errlen, "op %zu: bad state spec", i);
        op->has_spec = true;
        op->spec.kind = (int)x;
        if (s[1].type != GALE_T_NIL) op->spec.key_prefix = dup_str(&s[1]);
        if (s[2].type != GALE_T_NIL) op->spec.hash_key = dup_str(&s[2]);
        if (s[3].type != GALE_T_NIL) op->spec.key_fn_symbol = dup_str(&s[3]);
    }
    if (!get_int(&a[7], -1, 1 << 20, &x)) return bad(err, errlen, "op %zu: bad output", i);
    op->out = (int)x;
    if (v->len > 8) {
        if (!get_int(&a[8], 0, GALE__TOP_F_PARTIAL_OUT | GALE__TOP_F_PARTIAL_IN, &x))
            return bad(err, errlen, "op %zu: bad flags", i);
        op->flags = (int)x;
    }
    if ((op->flags & GALE__TOP_F_PARTIAL_OUT) && op->kind != GALE__TOP_AGG_COMBINE)
        return bad(err, errlen, "op %zu: a partial aggregation that is not a combiner's", i);
    if ((op->flags & GALE__TOP_F_PARTIAL_IN) &&
        ((op->kind != GALE__TOP_AGG_COMBINE && op->kind != GALE__TOP_PERSIST) || op->n_in != 1))
        return bad(err, errlen, "op %zu: a combine of partials needs a combiner and one input", i);
    bool needs_sym = op->kind != GALE__TOP_PASS && op->kind != GALE__TOP_PROJECT &&
                     op->kind != GALE__TOP_OUT && op->kind != GALE__TOP_DRPC_RETURN;
    if (needs_sym && !op->symbol) return bad(err, errlen, "op %zu: no symbol", i);
    if (op->kind == GALE__TOP_OUT && op->out < 0) return bad(err, errlen, "op %zu: no output", i);
    if ((op->kind == GALE__TOP_PERSIST || op->kind == GALE__TOP_QUERY) && !op->has_spec)
        return bad(err, errlen, "op %zu: no state spec", i);
    (void)n_ops;
    return 0;
}

int gale__plan_decode(const gale_conf_t *conf, bool coord, gale__plan_t **out, char *err,
                      size_t errlen) {
    *out = NULL;
    const gale_value_t *root = gale_conf_get(conf, GALE__TRIDENT_PLAN_KEY);
    if (!root) return bad(err, errlen, "missing: build the topology with gale_trident_build");
    gale__plan_t *p = calloc(1, sizeof *p);
    if (!p) return GALE_ENOMEM;
    int rc = 0;
    const gale_value_t *a = arr(root, coord ? 4 : 6);
    int64_t x;
    if (!a || !get_int(&a[0], 1, 1, &x) || !is_str(&a[1])) {
        rc = bad(err, errlen, "not a version-1 plan");
        goto out;
    }
    p->txid_name = dup_str(&a[1]);
    if (coord) {
        if (!is_str(&a[2]) || !(p->spout_comp = dup_str(&a[2])) ||
            !(p->committers = str_list(&a[3], &p->n_committers))) {
            rc = bad(err, errlen, "bad coordinator plan");
            goto out;
        }
        goto out;
    }
    const gale_value_t *ins = arr(&a[2], 0), *ops = arr(&a[3], 0), *outs = arr(&a[4], 0);
    if (a[2].type != GALE_T_ARRAY || a[3].type != GALE_T_ARRAY || a[4].type != GALE_T_ARRAY) {
        rc = bad(err, errlen, "inputs, ops and outputs must be arrays");
        goto out;
    }
    p->inputs = calloc(a[2].len + 1, sizeof *p->inputs);
    p->ops = calloc(a[3].len + 1, sizeof *p->ops);
    p->outputs = calloc(a[4].len + 1, sizeof *p->outputs);
    if (!p->inputs || !p->ops || !p->outputs) {
        rc = GALE_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < a[3].len; i++) {
        p->n_ops++;
        if ((rc = decode_op(&ops[i], i, a[3].len, &p->ops[i], err, errlen))) goto out;
    }
    for (size_t i = 0; i < a[2].len; i++) {
        const gale_value_t *in = arr(&ins[i], 3);
        gale__pinput_t *pi = &p->inputs[p->n_inputs++];
        if (!in || !is_str(&in[0]) || !is_str(&in[1]) ||
            !get_int(&in[2], 0, (int64_t)p->n_ops - 1, &x)) {
            rc = bad(err, errlen, "input %zu is not [component, stream, op]", i);
            goto out;
        }
        pi->source = dup_str(&in[0]);
        pi->stream = dup_str(&in[1]);
        pi->entry = (int)x;
    }
    for (size_t i = 0; i < a[4].len; i++) {
        const gale_value_t *o = arr(&outs[i], 3);
        gale__poutput_t *po = &p->outputs[p->n_outputs++];
        if (!o || !is_str(&o[0]) || !(po->stream = dup_str(&o[0])) ||
            !(po->subs = str_list(&o[1], &po->n_subs)) ||
            !(po->fields = str_list(&o[2], &po->n_fields))) {
            rc = bad(err, errlen, "output %zu is not [stream, [subscribers], [fields]]", i);
            goto out;
        }
    }
    for (size_t i = 0; i < p->n_ops; i++)
        if (p->ops[i].kind == GALE__TOP_OUT && (size_t)p->ops[i].out >= p->n_outputs) {
            rc = bad(err, errlen, "op %zu: output %d out of range", i, p->ops[i].out);
            goto out;
        } else if (p->ops[i].kind == GALE__TOP_DRPC_RETURN &&
                   (p->ops[i].out < 0 || (size_t)p->ops[i].out >= p->n_inputs ||
                    p->inputs[p->ops[i].out].entry != (int)i)) {
            rc = bad(err, errlen, "op %zu: return-info input %d is not one of its inputs", i,
                     p->ops[i].out);
            goto out;
        }
    if (a[5].type != GALE_T_NIL) {
        const gale_value_t *s = arr(&a[5], 2);
        if (!s || !is_str(&s[0]) || !get_int(&s[1], 0, GALE__TRIDENT_MAX_FIELDS, &x)) {
            rc = bad(err, errlen, "bad spout entry");
            goto out;
        }
        p->spout_symbol = dup_str(&s[0]);
        p->spout_fields = (size_t)x;
    }
out:
    if (rc) {
        gale__plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

const char *gale__trident_key(char *buf, size_t cap, const char *topology, const char *txid_name,
                              const char *what) {
    snprintf(buf, cap, "gale:trident:%s:%s:%s", topology, txid_name, what);
    return buf;
}
