/*
 * bolt.c — the coordinated bolts of the micro-batch layer: "spout0" (the
 * batch spout's executor) and every "b-N" run this engine on their plan
 * (plan.h).
 *
 * Coordination (Storm's CoordinatedBolt): data tuples inside a batch are
 * emitted unanchored. At the end of a batch a task sends every task of
 * each downstream component a count tuple (direct stream "$coord-S",
 * [txid, attempt, n]) anchored to the coordination tuples it received
 * for the batch, then acks those. A task finishes a batch when it has a
 * count from every upstream task and has received that many tuples;
 * then it emits its aggregations, stashes its state updates (committers)
 * and sends its own counts. So the coordinator's batch tree completes
 * exactly when every task finished the batch; a lost tuple leaves the
 * counts short, the tree times out and the batch is replayed. spout0's
 * coordination input is the coordinator's $batch tuple: it emits the
 * batch and finishes at once.
 *
 * Attempts: per txid the task keeps the newest attempt it saw; tuples
 * of an older attempt are dropped (acked, never processed). A finished
 * batch stays as a tombstone so late tuples of it are dropped too.
 *
 * Committers (persist ops) keep each finished batch's per-group deltas
 * until the coordinator's $commit for that txid, then write them with
 * one state update per op (the coordinator's epoch fences it) and ack the
 * commit only when it succeeded.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/builtin.h"
#include "drpc/client.h"
#include "trident/plan.h"
#include "trident/spout_meta.h"
#include "trident/state.h"
#include "trident/state_json.h"
#include "trident/vmap.h"

#define MAX_VALS  (2 * GALE__TRIDENT_MAX_FIELDS + 2)
#define MAX_TOMBS 64

typedef struct out_rt {
    char *count_stream;
    int *tasks; /* every task of every subscriber, sorted by component */
    size_t n_tasks;
} out_rt_t;

typedef struct op_rt {
    const void *impl; /* function, filter, combiner or reducer */
    void *state;      /* function/filter state */
    int *children;
    size_t n_children;
    gale__map_state_t *store; /* persist */
    bool prepared;
} op_rt_t;

typedef struct batch {
    uint64_t txid;
    uint32_t attempt;
    bool tomb; /* finished: later tuples of it are dropped */
    bool failed;
    char why[200];
    size_t n_counts; /* count tuples received */
    int64_t expected, received;
    const gale_tuple_t **held;
    size_t n_held, cap_held;
    gale__vmap_t *maps; /* per op (aggregations) */
    uint32_t **sent;    /* per output: per target task index */
    /* a DRPC_RETURN op's batch: the result tuples and the request */
    json_t *drpc_res;
    bool drpc_has;
    uint64_t drpc_id;
    int drpc_port;
    char drpc_host[256];
} batch_t;

typedef struct pending {
    uint64_t txid;
    uint32_t attempt;
    int op;
    gale__vmap_t map;
} pending_t;

typedef struct eng {
    const gale_context_t *ctx;
    gale_collector_t *c;
    gale__plan_t *plan;
    op_rt_t *ops;
    out_rt_t *outs;
    size_t upstream_tasks; /* count tuples per batch */
    batch_t *batches;
    size_t n_batches, cap_batches;
    pending_t *pend;
    size_t n_pend, cap_pend;
    char epoch_key[512];
    int *targets; /* emit's tasks_out */
    size_t max_targets;
    gale__spout_meta_t *spout;  /* spout0 only */
    gale__drpc_invoker_t *drpc; /* a DRPC_RETURN op's */
} eng_t;

struct gale_trident_collector {
    eng_t *e;
    batch_t *b;
    int op; /* the op emitting (-1: the spout) */
    const gale_value_t *v;
    size_t n;
};

static void run_children(eng_t *e, batch_t *b, int op, const gale_value_t *v, size_t n);

static void batch_fail(batch_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void batch_fail(batch_t *b, const char *fmt, ...) {
    if (b->failed) return;
    b->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->why, sizeof b->why, fmt, ap);
    va_end(ap);
}

uint64_t gale_trident_txid(const gale_trident_collector_t *c) {
    return c && c->b ? c->b->txid : 0;
}
uint32_t gale_trident_attempt(const gale_trident_collector_t *c) {
    return c && c->b ? c->b->attempt : 0;
}
void gale_trident_fail(gale_trident_collector_t *c, const char *why) {
    if (c && c->b) batch_fail(c->b, "failed by the topology: %s", why ? why : "(no reason)");
}

int gale_trident_emit(gale_trident_collector_t *c, const gale_value_t *v, size_t n) {
    if (!c || !c->e || (n && !v)) return GALE_EINVAL;
    eng_t *e = c->e;
    if (c->op < 0) { /* the spout: its tuples enter op 0 */
        if (n != e->plan->spout_fields) {
            batch_fail(c->b, "the batch spout emitted %zu values for %zu fields", n,
                       e->plan->spout_fields);
            return GALE_EINVAL;
        }
        if (e->plan->n_ops) {
            const gale__pop_t *op0 = &e->plan->ops[0];
            (void)op0;
            run_children(e, c->b, -2, v, n);
        }
        return 0;
    }
    const gale__pop_t *op = &e->plan->ops[c->op];
    if (n != op->n_out) {
        batch_fail(c->b, "%s emitted %zu values for %zu output fields", op->symbol, n, op->n_out);
        return GALE_EINVAL;
    }
    gale_value_t vals[MAX_VALS];
    size_t k = 0;
    if (op->kind == GALE__TOP_EACH || op->kind == GALE__TOP_QUERY) {
        if (c->n + n > MAX_VALS) return GALE_ERANGE;
        memcpy(vals, c->v, c->n * sizeof *vals);
        k = c->n;
    }
    if (n) memcpy(vals + k, v, n * sizeof *vals);
    run_children(e, c->b, c->op, vals, k + n);
    return 0;
}

/* ------------------------------------------------------------------ */
/* batches                                                              */
/* ------------------------------------------------------------------ */

static void batch_release(eng_t *e, batch_t *b, bool ack) {
    for (size_t i = 0; i < b->n_held; i++) {
        if (ack)
            gale_ack(e->c, b->held[i]);
        else
            gale_fail(e->c, b->held[i]);
    }
    free(b->held);
    b->held = NULL;
    b->n_held = b->cap_held = 0;
    if (b->drpc_res) json_decref(b->drpc_res);
    b->drpc_res = NULL;
    b->drpc_has = false;
    if (b->maps) {
        for (size_t i = 0; i < e->plan->n_ops; i++) gale__vmap_clear(&b->maps[i]);
        free(b->maps);
        b->maps = NULL;
    }
    if (b->sent) {
        for (size_t i = 0; i < e->plan->n_outputs; i++) free(b->sent[i]);
        free(b->sent);
        b->sent = NULL;
    }
}

static int batch_setup(eng_t *e, batch_t *b, uint64_t txid, uint32_t attempt) {
    memset(b, 0, sizeof *b);
    b->txid = txid;
    b->attempt = attempt;
    b->maps = calloc(e->plan->n_ops + 1, sizeof *b->maps);
    b->sent = calloc(e->plan->n_outputs + 1, sizeof *b->sent);
    if (!b->maps || !b->sent) return GALE_ENOMEM;
    for (size_t i = 0; i < e->plan->n_ops; i++)
        gale__vmap_init(&b->maps[i], e->plan->ops[i].n_group);
    for (size_t i = 0; i < e->plan->n_outputs; i++)
        if (!(b->sent[i] = calloc(e->outs[i].n_tasks + 1, sizeof **b->sent))) return GALE_ENOMEM;
    return 0;
}

/* The batch for (txid, attempt), created or reset as needed; NULL when the
 * tuple is of an old attempt or of a finished batch (drop it). */
static batch_t *batch_for(eng_t *e, uint64_t txid, uint32_t attempt) {
    for (size_t i = 0; i < e->n_batches; i++) {
        batch_t *b = &e->batches[i];
        if (b->txid != txid) continue;
        if (attempt < b->attempt || (attempt == b->attempt && b->tomb)) return NULL;
        if (attempt == b->attempt) return b;
        /* a newer attempt: the old one's tree is failed already */
        batch_release(e, b, true);
        if (batch_setup(e, b, txid, attempt)) return NULL;
        return b;
    }
    if (e->n_batches == e->cap_batches) {
        /* drop the oldest tombstones first */
        size_t tombs = 0;
        for (size_t i = 0; i < e->n_batches; i++) tombs += e->batches[i].tomb;
        if (tombs > MAX_TOMBS) {
            size_t w = 0;
            uint64_t min = UINT64_MAX;
            for (size_t i = 0; i < e->n_batches; i++)
                if (e->batches[i].tomb && e->batches[i].txid < min) min = e->batches[i].txid;
            for (size_t i = 0; i < e->n_batches; i++)
                if (!(e->batches[i].tomb && e->batches[i].txid == min))
                    e->batches[w++] = e->batches[i];
            e->n_batches = w;
        }
    }
    if (e->n_batches == e->cap_batches) {
        size_t cap = e->cap_batches ? e->cap_batches * 2 : 16;
        batch_t *n = realloc(e->batches, cap * sizeof *n);
        if (!n) return NULL;
        e->batches = n;
        e->cap_batches = cap;
    }
    batch_t *b = &e->batches[e->n_batches];
    if (batch_setup(e, b, txid, attempt)) {
        batch_release(e, b, true);
        return NULL;
    }
    e->n_batches++;
    return b;
}

/* ------------------------------------------------------------------ */
/* ops                                                                  */
/* ------------------------------------------------------------------ */

static bool select_in(batch_t *b, const gale__pop_t *op, const int *idx, size_t n_idx,
                      const gale_value_t *v, size_t n, gale_value_t *out) {
    for (size_t i = 0; i < n_idx; i++) {
        if ((size_t)idx[i] >= n) {
            batch_fail(b, "op %s reads field %d of a %zu-value tuple",
                       op->symbol ? op->symbol : "?", idx[i], n);
            return false;
        }
        out[i] = v[idx[i]];
    }
    return true;
}

static void emit_out(eng_t *e, batch_t *b, int oi, const gale_value_t *v, size_t n) {
    gale_value_t vals[MAX_VALS + 2];
    if (n > MAX_VALS) return batch_fail(b, "a tuple of %zu values is too wide", n);
    vals[0] = gale_int((int64_t)b->txid);
    vals[1] = gale_int(b->attempt);
    memcpy(vals + 2, v, n * sizeof *v);
    gale_emit_t em = {
        e->plan->outputs[oi].stream, vals, n + 2, NULL, 0, NULL, 0, e->targets, e->max_targets};
    int k = gale_emit(e->c, &em);
    if (k < 0) return batch_fail(b, "emit on %s: %s", em.stream, gale_strerror(k));
    out_rt_t *o = &e->outs[oi];
    for (int i = 0; i < k && (size_t)i < e->max_targets; i++)
        for (size_t t = 0; t < o->n_tasks; t++)
            if (o->tasks[t] == e->targets[i]) {
                b->sent[oi][t]++;
                break;
            }
}

static void aggregate(eng_t *e, batch_t *b, int oi, const gale__pop_t *op, const gale_value_t *v,
                      size_t n) {
    gale_value_t in[GALE__TRIDENT_MAX_FIELDS], key[GALE__TRIDENT_MAX_FIELDS];
    if (!select_in(b, op, op->in, op->n_in, v, n, in) ||
        !select_in(b, op, op->group, op->n_group, v, n, key))
        return;
    bool added;
    gale__ventry_t *ent = gale__vmap_get(&b->maps[oi], key, &added);
    if (!ent) return batch_fail(b, "out of memory aggregating");
    gale_value_t r;
    int rc;
    if (op->kind == GALE__TOP_AGG_REDUCE) {
        const gale_reducer_t *red = e->ops[oi].impl;
        if (added) {
            gale_value_t init;
            if ((rc = red->init(&init)) || (rc = gale__vmap_set(ent, &init)))
                return batch_fail(b, "%s init: %s", op->symbol, gale_strerror(rc));
        }
        rc = red->reduce(&ent->val, in, op->n_in, &r);
    } else {
        const gale_combiner_t *cb = e->ops[oi].impl;
        gale_value_t one;
        /* a partial from upstream is combined as it is (no init) */
        if (op->flags & GALE__TOP_F_PARTIAL_IN) {
            one = in[0];
            rc = 0;
        } else {
            rc = cb->init(in, op->n_in, &one);
        }
        if (!rc) {
            if (added)
                r = one;
            else
                rc = cb->combine(&ent->val, &one, &r);
        }
    }
    if (rc || (rc = gale__vmap_set(ent, &r)))
        batch_fail(b, "aggregator %s: %s", op->symbol, gale_strerror(rc));
}

/* The key of a global state (no key fields), as commits write it. */
static const gale_value_t global_key = {GALE_T_STR, 7, {.s = "$global"}};

/* A state query: the committed value of the tuple's key, then the query. */
static void query(eng_t *e, batch_t *b, int oi, const gale_value_t *v, size_t n) {
    const gale__pop_t *op = &e->plan->ops[oi];
    op_rt_t *rt = &e->ops[oi];
    gale_value_t key[GALE__TRIDENT_MAX_FIELDS], val;
    if (!select_in(b, op, op->in, op->n_in, v, n, key)) return;
    const gale_value_t *kp = op->n_in ? key : &global_key;
    char err[400];
    int rc = gale__redis_ensure(gale__map_state_redis(rt->store), err, sizeof err);
    if (rc) return batch_fail(b, "state_query %s: %s", op->symbol, err);
    if ((rc = gale__map_state_get(rt->store, 1, &kp, op->n_in ? op->n_in : 1, &val, err,
                                  sizeof err)))
        return batch_fail(b, "state_query %s: %s (%s)", op->symbol, err, gale_strerror(rc));
    const gale_trident_query_t *q = rt->impl;
    gale_trident_collector_t c = {e, b, oi, v, n};
    q->execute(rt->state, key, op->n_in, &val, &c);
}

/* A DRPC result tuple: kept as JSON until the batch ends. */
static void drpc_result(batch_t *b, const gale_value_t *v, size_t n) {
    if (!b->drpc_res && !(b->drpc_res = json_array()))
        return batch_fail(b, "out of memory keeping a DRPC result");
    json_t *t = json_array();
    if (!t) return batch_fail(b, "out of memory keeping a DRPC result");
    for (size_t i = 0; i < n; i++) {
        int rc;
        char err[200];
        json_t *j = gale__value_to_json(&v[i], &rc, err, sizeof err);
        if (!j) {
            json_decref(t);
            return batch_fail(b, "a DRPC result value has no JSON form: %s", err);
        }
        json_array_append_new(t, j);
    }
    json_array_append_new(b->drpc_res, t);
}

/* The value of key in map m, or NULL. */
static const gale_value_t *map_get(const gale_value_t *m, const char *key) {
    if (m->type != GALE_T_MAP) return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < m->len; i++) {
        const gale_value_t *k = &m->u.a[2 * i];
        if (k->type == GALE_T_STR && k->len == n && memcmp(k->u.s, key, n) == 0)
            return &m->u.a[2 * i + 1];
    }
    return NULL;
}

/* The DRPC spout's [args, {id, host, port}]: the request to answer. */
static void drpc_info(batch_t *b, const gale_value_t *v, size_t n) {
    const gale_value_t *ri = n == 2 ? &v[1] : NULL, *id, *host, *port;
    if (!ri || !(id = map_get(ri, "id")) || !(host = map_get(ri, "host")) ||
        !(port = map_get(ri, "port")) || id->type != GALE_T_INT || id->u.i < 0 ||
        host->type != GALE_T_STR || host->len >= sizeof b->drpc_host || port->type != GALE_T_INT ||
        port->u.i < 1 || port->u.i > 65535)
        return batch_fail(b, "a DRPC return info that is not {id, host, port}");
    if (b->drpc_has) return batch_fail(b, "two DRPC requests in one batch");
    b->drpc_has = true;
    b->drpc_id = (uint64_t)id->u.i;
    memcpy(b->drpc_host, host->u.s, host->len);
    b->drpc_host[host->len] = 0;
    b->drpc_port = (int)port->u.i;
}

static void run_op(eng_t *e, batch_t *b, int oi, const gale_value_t *v, size_t n) {
    const gale__pop_t *op = &e->plan->ops[oi];
    op_rt_t *rt = &e->ops[oi];
    gale_value_t sel[GALE__TRIDENT_MAX_FIELDS];
    switch (op->kind) {
        case GALE__TOP_PASS:
            run_children(e, b, oi, v, n);
            return;
        case GALE__TOP_PROJECT:
            if (select_in(b, op, op->in, op->n_in, v, n, sel))
                run_children(e, b, oi, sel, op->n_in);
            return;
        case GALE__TOP_FILTER: {
            const gale_trident_filter_t *f = rt->impl;
            if (select_in(b, op, op->in, op->n_in, v, n, sel) && f->keep(rt->state, sel, op->n_in))
                run_children(e, b, oi, v, n);
            return;
        }
        case GALE__TOP_EACH:
        case GALE__TOP_MAP:
        case GALE__TOP_FLAT_MAP: {
            const gale_trident_function_t *fn = rt->impl;
            if (!select_in(b, op, op->in, op->n_in, v, n, sel)) return;
            gale_trident_collector_t c = {e, b, oi, v, n};
            fn->execute(rt->state, sel, op->n_in, &c);
            return;
        }
        case GALE__TOP_QUERY:
            query(e, b, oi, v, n);
            return;
        case GALE__TOP_AGG_COMBINE:
        case GALE__TOP_AGG_REDUCE:
        case GALE__TOP_PERSIST:
            aggregate(e, b, oi, op, v, n);
            return;
        case GALE__TOP_DRPC_RETURN:
            drpc_result(b, v, n);
            return;
        case GALE__TOP_OUT:
            emit_out(e, b, op->out, v, n);
            return;
        default:
            return;
    }
}

/* op -2: the spout's entry (op 0 itself); -1 is never a parent here */
static void run_children(eng_t *e, batch_t *b, int op, const gale_value_t *v, size_t n) {
    if (b->failed) return; /* the batch replays anyway */
    if (op == -2) {
        run_op(e, b, 0, v, n);
        return;
    }
    op_rt_t *rt = &e->ops[op];
    for (size_t i = 0; i < rt->n_children; i++) run_op(e, b, rt->children[i], v, n);
}

/* ------------------------------------------------------------------ */
/* the batch end                                                        */
/* ------------------------------------------------------------------ */

static void stash(eng_t *e, batch_t *b, int oi) {
    /* a replayed batch's older stash of the same op is superseded */
    for (size_t i = 0; i < e->n_pend; i++)
        if (e->pend[i].txid == b->txid && e->pend[i].op == oi) {
            gale__vmap_clear(&e->pend[i].map);
            e->pend[i] = e->pend[--e->n_pend];
            break;
        }
    if (e->n_pend == e->cap_pend) {
        size_t cap = e->cap_pend ? e->cap_pend * 2 : 8;
        pending_t *n = realloc(e->pend, cap * sizeof *n);
        if (!n) return batch_fail(b, "out of memory keeping the batch for its commit");
        e->pend = n;
        e->cap_pend = cap;
    }
    pending_t *p = &e->pend[e->n_pend++];
    p->txid = b->txid;
    p->attempt = b->attempt;
    p->op = oi;
    p->map = b->maps[oi]; /* moved */
    gale__vmap_init(&b->maps[oi], e->plan->ops[oi].n_group);
}

/* Return the batch's result to the DRPC server that asked (Storm's
 * ReturnResultsReducer: a JSON array of the result tuples). An empty
 * batch (no request) returns nothing; a server that does not take it
 * fails the batch, which is replayed with the same request. */
static void drpc_send(eng_t *e, batch_t *b) {
    if (!b->drpc_has) return;
    char *text = b->drpc_res ? json_dumps(b->drpc_res, JSON_COMPACT) : strdup("[]");
    if (!text) return batch_fail(b, "out of memory encoding a DRPC result");
    char err[400];
    int rc = gale__drpc_invoker_result(e->drpc, b->drpc_host, b->drpc_port, b->drpc_id, text,
                                       strlen(text), err, sizeof err);
    free(text);
    if (rc) batch_fail(b, "DRPC result of request %" PRIu64 ": %s", b->drpc_id, err);
}

static void finish(eng_t *e, batch_t *b) {
    for (size_t oi = 0; oi < e->plan->n_ops && !b->failed; oi++) {
        const gale__pop_t *op = &e->plan->ops[oi];
        if (op->kind == GALE__TOP_PERSIST) {
            stash(e, b, (int)oi);
            continue;
        }
        if (op->kind == GALE__TOP_DRPC_RETURN) {
            drpc_send(e, b);
            continue;
        }
        if (op->kind != GALE__TOP_AGG_COMBINE && op->kind != GALE__TOP_AGG_REDUCE) continue;
        gale__vmap_t *m = &b->maps[oi];
        gale_value_t vals[GALE__TRIDENT_MAX_FIELDS + 1];
        if (m->n == 0 && op->n_group == 0 && !(op->flags & GALE__TOP_F_PARTIAL_OUT)) {
            /* an ungrouped aggregation of an empty partition: its zero */
            gale_value_t z = gale_nil();
            if (op->kind == GALE__TOP_AGG_REDUCE)
                ((const gale_reducer_t *)e->ops[oi].impl)->init(&z);
            else
                z = ((const gale_combiner_t *)e->ops[oi].impl)->zero();
            run_children(e, b, (int)oi, &z, 1);
            continue;
        }
        for (size_t s = 0; s < m->cap; s++) {
            if (!m->slots[s].used) continue;
            memcpy(vals, m->slots[s].key, op->n_group * sizeof *vals);
            vals[op->n_group] = m->slots[s].val;
            run_children(e, b, (int)oi, vals, op->n_group + 1);
        }
    }
    if (b->failed) {
        gale_log(e->ctx, GALE_LOG_WARN, "batch %" PRIu64 " attempt %u failed: %s", b->txid,
                 b->attempt, b->why);
        batch_release(e, b, false);
        b->tomb = true;
        return;
    }
    /* counts, anchored to every coordination tuple of the batch */
    for (size_t oi = 0; oi < e->plan->n_outputs; oi++) {
        out_rt_t *o = &e->outs[oi];
        for (size_t t = 0; t < o->n_tasks; t++) {
            gale_value_t v[3] = {gale_int((int64_t)b->txid), gale_int(b->attempt),
                                 gale_int(b->sent[oi][t])};
            gale_emit_t em = {o->count_stream, v,    3, b->held, b->n_held, NULL,
                              o->tasks[t],     NULL, 0};
            int rc = gale_emit(e->c, &em);
            if (rc < 0)
                gale_log(e->ctx, GALE_LOG_ERROR, "count to task %d on %s: %s", o->tasks[t],
                         o->count_stream, gale_strerror(rc));
        }
    }
    batch_release(e, b, true);
    b->tomb = true;
}

static void check_done(eng_t *e, batch_t *b) {
    if (!b->tomb && b->n_counts == e->upstream_tasks && b->received == b->expected) finish(e, b);
}

/* ------------------------------------------------------------------ */
/* commits                                                              */
/* ------------------------------------------------------------------ */

static int combine_cb(void *ud, const gale_value_t *old, const gale_value_t *delta,
                      gale_value_t *out) {
    const gale_combiner_t *cb = ud;
    if (!old) {
        gale_value_t z = cb->zero();
        if (z.type == GALE_T_NIL) return *out = *delta, 0;
        return cb->combine(&z, delta, out);
    }
    return cb->combine(old, delta, out);
}

static void commit(eng_t *e, const gale_tuple_t *t) {
    int64_t txid = gale_tuple_int(t, 0, -1), attempt = gale_tuple_int(t, 1, -1),
            epoch = gale_tuple_int(t, 2, -1);
    if (txid < 1 || attempt < 0 || epoch < 0) {
        gale_log(e->ctx, GALE_LOG_ERROR, "malformed $commit tuple: dropped");
        gale_fail(e->c, t);
        return;
    }
    gale__epoch_t ep = {e->epoch_key, epoch};
    for (size_t oi = 0; oi < e->plan->n_ops; oi++) {
        if (e->plan->ops[oi].kind != GALE__TOP_PERSIST) continue;
        pending_t *p = NULL;
        for (size_t i = 0; i < e->n_pend; i++)
            if (e->pend[i].txid == (uint64_t)txid && e->pend[i].op == (int)oi) p = &e->pend[i];
        if (!p || p->attempt != (uint32_t)attempt) {
            /* e.g. this task restarted after the batch: replay it */
            gale_log(e->ctx, GALE_LOG_WARN,
                     "commit of batch %" PRId64 " attempt %" PRId64
                     ": this task holds no result of that attempt; failing it for a replay",
                     txid, attempt);
            gale_fail(e->c, t);
            return;
        }
    }
    for (size_t oi = 0; oi < e->plan->n_ops; oi++) {
        const gale__pop_t *op = &e->plan->ops[oi];
        if (op->kind != GALE__TOP_PERSIST) continue;
        pending_t *p = NULL;
        for (size_t i = 0; i < e->n_pend; i++)
            if (e->pend[i].txid == (uint64_t)txid && e->pend[i].op == (int)oi) p = &e->pend[i];
        if (!p) continue; /* updated by an earlier try of this loop */
        size_t n = p->map.n, k = 0;
        const gale_value_t **keys = calloc(n + 1, sizeof *keys);
        gale_value_t *deltas = calloc(n + 1, sizeof *deltas);
        if (!keys || !deltas) {
            free(keys);
            free(deltas);
            gale_fail(e->c, t);
            return;
        }
        for (size_t s = 0; s < p->map.cap; s++)
            if (p->map.slots[s].used) {
                keys[k] = op->n_group ? p->map.slots[s].key : &global_key;
                deltas[k++] = p->map.slots[s].val;
            }
        char err[400];
        gale__redis_ensure(gale__map_state_redis(e->ops[oi].store), err, sizeof err);
        int rc = gale__map_state_update(e->ops[oi].store, (uint64_t)txid, &ep, k, keys,
                                        op->n_group ? op->n_group : 1, deltas, combine_cb,
                                        (void *)e->ops[oi].impl, NULL, err, sizeof err);
        free(keys);
        free(deltas);
        if (rc) {
            if (rc == GALE_ESTATE)
                gale_log(e->ctx, GALE_LOG_ERROR,
                         "commit of batch %" PRId64 " refused: %s (a newer coordinator owns the "
                         "state; this writer is stale)",
                         txid, err);
            else
                gale_log(e->ctx, GALE_LOG_WARN, "commit of batch %" PRId64 " failed: %s (%s)", txid,
                         err, gale_strerror(rc));
            gale_fail(e->c, t);
            return;
        }
        gale__vmap_clear(&p->map);
        *p = e->pend[--e->n_pend];
    }
    /* older stashes can never commit now */
    for (size_t i = 0; i < e->n_pend;)
        if (e->pend[i].txid <= (uint64_t)txid) {
            gale__vmap_clear(&e->pend[i].map);
            e->pend[i] = e->pend[--e->n_pend];
        } else {
            i++;
        }
    gale_ack(e->c, t);
}

/* ------------------------------------------------------------------ */
/* the bolt                                                             */
/* ------------------------------------------------------------------ */

static void declare(gale_declarer_t *d, const gale_conf_t *conf) {
    gale__plan_t *p;
    char err[300];
    if (gale__plan_decode(conf, false, &p, err, sizeof err)) return; /* prepare says why */
    for (size_t i = 0; i < p->n_outputs; i++) {
        char fields[2048], cs[300];
        size_t off = (size_t)snprintf(fields, sizeof fields, "%s", GALE__TRIDENT_TX_FIELDS);
        for (size_t k = 0; k < p->outputs[i].n_fields && off < sizeof fields; k++)
            off +=
                (size_t)snprintf(fields + off, sizeof fields - off, ",%s", p->outputs[i].fields[k]);
        gale_declare_stream(d, p->outputs[i].stream, fields, false);
        snprintf(cs, sizeof cs, GALE__TRIDENT_COUNT_PREFIX "%s", p->outputs[i].stream);
        gale_declare_stream(d, cs, "txid,attempt,count", true);
    }
    gale__plan_free(p);
}

static void eng_free(eng_t *e) {
    if (!e) return;
    for (size_t i = 0; i < e->n_batches; i++) batch_release(e, &e->batches[i], true);
    free(e->batches);
    for (size_t i = 0; i < e->n_pend; i++) gale__vmap_clear(&e->pend[i].map);
    free(e->pend);
    if (e->plan) {
        for (size_t i = 0; e->ops && i < e->plan->n_ops; i++) {
            op_rt_t *o = &e->ops[i];
            int k = e->plan->ops[i].kind;
            if (o->prepared &&
                (k == GALE__TOP_EACH || k == GALE__TOP_MAP || k == GALE__TOP_FLAT_MAP)) {
                const gale_trident_function_t *fn = o->impl;
                if (fn->cleanup) fn->cleanup(o->state);
            }
            if (o->prepared && k == GALE__TOP_QUERY) {
                const gale_trident_query_t *q = o->impl;
                if (q->cleanup) q->cleanup(o->state);
            }
            if (o->prepared && k == GALE__TOP_FILTER) {
                const gale_trident_filter_t *f = o->impl;
                if (f->cleanup) f->cleanup(o->state);
            }
            free(o->children);
            gale__map_state_close(o->store);
        }
        for (size_t i = 0; e->outs && i < e->plan->n_outputs; i++) {
            free(e->outs[i].count_stream);
            free(e->outs[i].tasks);
        }
    }
    free(e->ops);
    free(e->outs);
    free(e->targets);
    gale__spout_meta_free(e->spout);
    gale__drpc_invoker_destroy(e->drpc);
    gale__plan_free(e->plan);
    free(e);
}

static int prepare(void **state, const gale_context_t *ctx, gale_collector_t *c) {
    char err[400];
    eng_t *e = calloc(1, sizeof *e);
    if (!e) return GALE_ENOMEM;
    e->ctx = ctx;
    e->c = c;
    const gale_conf_t *conf = gale_context_conf(ctx);
    int rc = gale__plan_decode(conf, false, &e->plan, err, sizeof err);
    if (rc) {
        gale_log(ctx, GALE_LOG_ERROR, "%s", err);
        eng_free(e);
        return rc;
    }
    gale__plan_t *p = e->plan;
    gale__trident_key(e->epoch_key, sizeof e->epoch_key, gale_context_topology_name(ctx),
                      p->txid_name, "epoch");
    e->ops = calloc(p->n_ops + 1, sizeof *e->ops);
    e->outs = calloc(p->n_outputs + 1, sizeof *e->outs);
    if (!e->ops || !e->outs) goto nomem;
    for (size_t i = 0; i < p->n_ops; i++) {
        gale__pop_t *op = &p->ops[i];
        op_rt_t *o = &e->ops[i];
        if (op->parent >= 0) {
            op_rt_t *par = &e->ops[op->parent];
            int *n = realloc(par->children, (par->n_children + 1) * sizeof *n);
            if (!n) goto nomem;
            par->children = n;
            par->children[par->n_children++] = (int)i;
        }
        if (op->kind == GALE__TOP_DRPC_RETURN && !e->drpc) {
            e->drpc = gale__drpc_invoker_new(conf, err, sizeof err);
            if (!e->drpc) {
                gale_log(ctx, GALE_LOG_ERROR, "DRPC results: %s", err);
                eng_free(e);
                return GALE_EINVAL;
            }
        }
        if (!op->symbol) continue;
        o->impl = gale__context_resolve(ctx, op->symbol);
        if (!o->impl) {
            gale_log(ctx, GALE_LOG_ERROR,
                     "micro-batch op '%s' does not resolve: export it (a non-static global) "
                     "from the topology library",
                     op->symbol);
            eng_free(e);
            return GALE_ENOENT;
        }
        if (op->kind == GALE__TOP_EACH || op->kind == GALE__TOP_MAP ||
            op->kind == GALE__TOP_FLAT_MAP) {
            const gale_trident_function_t *fn = o->impl;
            if (fn->prepare && (rc = fn->prepare(&o->state, ctx))) {
                gale_log(ctx, GALE_LOG_ERROR, "prepare of %s: %s", op->symbol, gale_strerror(rc));
                eng_free(e);
                return rc;
            }
            o->prepared = true;
        } else if (op->kind == GALE__TOP_FILTER) {
            const gale_trident_filter_t *f = o->impl;
            if (f->prepare && (rc = f->prepare(&o->state, ctx))) {
                gale_log(ctx, GALE_LOG_ERROR, "prepare of %s: %s", op->symbol, gale_strerror(rc));
                eng_free(e);
                return rc;
            }
            o->prepared = true;
        } else if (op->kind == GALE__TOP_PERSIST || op->kind == GALE__TOP_QUERY) {
            const gale_trident_query_t *q = o->impl;
            if (op->kind == GALE__TOP_QUERY) {
                if (q->prepare && (rc = q->prepare(&o->state, ctx))) {
                    gale_log(ctx, GALE_LOG_ERROR, "prepare of %s: %s", op->symbol,
                             gale_strerror(rc));
                    eng_free(e);
                    return rc;
                }
                o->prepared = true;
            }
            gale_state_spec_t spec = {(gale_state_kind_t)op->spec.kind, op->spec.key_prefix,
                                      op->spec.hash_key, NULL, op->spec.key_fn_symbol};
            if (op->spec.key_fn_symbol) {
                const void *fn = gale__context_resolve(ctx, op->spec.key_fn_symbol);
                if (!fn) {
                    gale_log(ctx, GALE_LOG_ERROR, "state key function '%s' does not resolve",
                             op->spec.key_fn_symbol);
                    eng_free(e);
                    return GALE_ENOENT;
                }
                /* an object pointer to a function: dlsym's own convention */
                memcpy(&spec.key_fn, &fn, sizeof fn);
            }
            o->store = gale__map_state_open(conf, &spec, gale_context_component_id(ctx),
                                            gale_context_task_id(ctx));
            if (!o->store) goto nomem;
        }
    }
    size_t max_targets = 0;
    for (size_t i = 0; i < p->n_outputs; i++) {
        out_rt_t *o = &e->outs[i];
        char cs[300];
        snprintf(cs, sizeof cs, GALE__TRIDENT_COUNT_PREFIX "%s", p->outputs[i].stream);
        if (!(o->count_stream = strdup(cs))) goto nomem;
        for (size_t s = 0; s < p->outputs[i].n_subs; s++) {
            const int *tasks;
            size_t n = gale_context_component_tasks(ctx, p->outputs[i].subs[s], &tasks);
            int *nt = realloc(o->tasks, (o->n_tasks + n + 1) * sizeof *nt);
            if (!nt) goto nomem;
            o->tasks = nt;
            memcpy(o->tasks + o->n_tasks, tasks, n * sizeof *tasks);
            o->n_tasks += n;
        }
        max_targets += o->n_tasks;
    }
    e->max_targets = max_targets ? max_targets : 1;
    if (!(e->targets = calloc(e->max_targets, sizeof *e->targets))) goto nomem;
    for (size_t i = 0; i < p->n_inputs; i++)
        e->upstream_tasks += gale_context_component_tasks(ctx, p->inputs[i].source, NULL);
    if (p->spout_symbol) {
        const gale_batch_spout_t *sp = gale__context_resolve(ctx, p->spout_symbol);
        if (!sp) {
            gale_log(ctx, GALE_LOG_ERROR, "batch spout '%s' does not resolve: export it",
                     p->spout_symbol);
            eng_free(e);
            return GALE_ENOENT;
        }
        if ((rc = gale__spout_meta_open(&e->spout, ctx, sp, p->txid_name))) {
            eng_free(e);
            return rc;
        }
    }
    *state = e;
    return 0;
nomem:
    eng_free(e);
    return GALE_ENOMEM;
}

static int input_of(const eng_t *e, const char *stream, bool *is_count) {
    size_t pl = sizeof GALE__TRIDENT_COUNT_PREFIX - 1;
    *is_count = strncmp(stream, GALE__TRIDENT_COUNT_PREFIX, pl) == 0;
    const char *s = *is_count ? stream + pl : stream;
    for (size_t i = 0; i < e->plan->n_inputs; i++)
        if (strcmp(e->plan->inputs[i].stream, s) == 0) return (int)i;
    return -1;
}

/* spout0: the coordinator asks for a batch */
static void on_batch(eng_t *e, const gale_tuple_t *t) {
    int64_t txid = gale_tuple_int(t, 0, -1), attempt = gale_tuple_int(t, 1, -1);
    if (txid < 1 || attempt < 0 || attempt > UINT32_MAX) {
        gale_log(e->ctx, GALE_LOG_ERROR, "malformed $batch tuple: dropped");
        gale_fail(e->c, t);
        return;
    }
    batch_t *b = batch_for(e, (uint64_t)txid, (uint32_t)attempt);
    if (!b) {
        gale_ack(e->c, t);
        return;
    }
    gale_trident_collector_t c = {e, b, -1, NULL, 0};
    char err[400];
    int rc =
        gale__spout_meta_emit(e->spout, (uint64_t)txid, (uint32_t)attempt, &c, err, sizeof err);
    if (rc) batch_fail(b, "%s", err);
    b->held = malloc(sizeof *b->held);
    if (b->held)
        b->held[b->n_held++] = t;
    else
        gale_fail(e->c, t);
    finish(e, b);
}

static int execute(void *state, const gale_tuple_t *t, gale_collector_t *c) {
    eng_t *e = state;
    (void)c;
    const char *stream = gale_tuple_stream(t);
    if (strcmp(stream, GALE__TRIDENT_BATCH_STREAM) == 0 && e->spout) {
        on_batch(e, t);
        return 0;
    }
    if (strcmp(stream, GALE__TRIDENT_COMMIT_STREAM) == 0) {
        commit(e, t);
        return 0;
    }
    bool is_count;
    int in = input_of(e, stream, &is_count);
    int64_t txid = gale_tuple_int(t, 0, -1), attempt = gale_tuple_int(t, 1, -1);
    if (in < 0 || txid < 1 || attempt < 0 || attempt > UINT32_MAX) {
        gale_report_error(e->c, "unexpected tuple on stream %s (not a batch tuple): dropped",
                          stream);
        gale_ack(e->c, t);
        return 0;
    }
    batch_t *b = batch_for(e, (uint64_t)txid, (uint32_t)attempt);
    if (!b) { /* an older attempt, or a finished batch */
        gale_ack(e->c, t);
        return 0;
    }
    if (is_count) {
        int64_t n = gale_tuple_int(t, 2, -1);
        if (n < 0) {
            gale_report_error(e->c, "malformed count tuple on %s: dropped", stream);
            gale_ack(e->c, t);
            return 0;
        }
        if (b->n_held == b->cap_held) {
            size_t cap = b->cap_held ? b->cap_held * 2 : 8;
            const gale_tuple_t **h = realloc(b->held, cap * sizeof *h);
            if (!h) {
                gale_fail(e->c, t);
                return 0;
            }
            b->held = h;
            b->cap_held = cap;
        }
        b->held[b->n_held++] = t;
        b->n_counts++;
        b->expected += n;
    } else {
        b->received++;
        size_t n = gale_tuple_size(t);
        gale_value_t vals[MAX_VALS];
        if (n - 2 > MAX_VALS) {
            batch_fail(b, "a tuple of %zu values is too wide", n);
        } else {
            for (size_t i = 2; i < n; i++) vals[i - 2] = *gale_tuple_value(t, i);
            int entry = e->plan->inputs[in].entry;
            if (e->plan->ops[entry].kind == GALE__TOP_DRPC_RETURN && e->plan->ops[entry].out == in)
                drpc_info(b, vals, n - 2);
            else
                run_op(e, b, entry, vals, n - 2);
        }
        gale_ack(e->c, t);
    }
    check_done(e, b);
    return 0;
}

static void cleanup(void *state) {
    eng_free(state);
}

const gale_bolt_t gale_trident_bolt = {declare, prepare, execute, cleanup, false};
/* The same engine; its own symbol so the topology names what it runs. */
const gale_bolt_t gale_trident_spout_bolt = {declare, prepare, execute, cleanup, false};
const gale_bolt_t gale_trident_drpc_spout_bolt = {declare, prepare, execute, cleanup, false};
