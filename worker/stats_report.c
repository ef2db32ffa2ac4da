/*
 * stats_report.c — a cluster worker's stats for its heartbeat: the
 * counters of every executor this process runs, read from the heartbeat
 * thread with relaxed loads (the executors never lock for them), into
 * the wire record of common/wstats.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/wstats.h"
#include "worker/runtime.h"

static void fill(gale__exec_t *e, gale__ws_exec_t *x) {
    gale__stats_t s;
    gale__sstats_t ss[GALE__WS_MAX_STREAMS];
    gale__istats_t is[GALE__WS_MAX_INPUTS];
    gale__err_t errs[GALE__ERRS_KEPT];
    size_t n_errs = 0;
    /* a component with more streams or inputs than a heartbeat carries
     * reports none of them rather than some */
    gale__sstats_t *sp = e->comp->n_streams <= GALE__WS_MAX_STREAMS ? ss : NULL;
    gale__istats_t *ip = e->comp->n_inputs <= GALE__WS_MAX_INPUTS ? is : NULL;
    gale__rt_exec_stats(e, &s, sp, ip, errs, &n_errs);
    snprintf(x->component, sizeof x->component, "%s", e->comp->id);
    x->start = (uint64_t)e->tasks[0].id;
    x->end = (uint64_t)e->tasks[e->n_tasks - 1].id;
    uint64_t *c = x->c;
    c[GALE__WS_EMITTED] = s.emitted;
    c[GALE__WS_TRANSFERRED] = s.transferred;
    c[GALE__WS_EXECUTED] = s.executed;
    c[GALE__WS_ACKED] = s.acked;
    c[GALE__WS_FAILED_TIMEOUT] = s.failed_timeout;
    c[GALE__WS_FAILED_EXPLICIT] = s.failed_explicit;
    c[GALE__WS_EXECUTE_SAMPLES] = s.execute_samples;
    c[GALE__WS_EXECUTE_NS] = s.execute_ns_sum;
    c[GALE__WS_PROCESS_SAMPLES] = s.process_samples;
    c[GALE__WS_PROCESS_NS] = s.process_ns_sum;
    c[GALE__WS_COMPLETE_SAMPLES] = s.complete_samples;
    c[GALE__WS_COMPLETE_NS] = s.complete_ns_sum;
    c[GALE__WS_BACKPRESSURE_WAITS] = s.backpressure_waits;
    c[GALE__WS_BACKPRESSURE_NS] = s.backpressure_ns;
    c[GALE__WS_ERRORS] = s.errors;
    c[GALE__WS_QUEUE_DEPTH] = gale__queue_depth(&e->queue);
    c[GALE__WS_QUEUE_CAPACITY] = gale__queue_capacity(&e->queue);
    for (int h = 0; h < GALE__LAT_N; h++)
        for (unsigned k = 0; k < GALE__HIST_BINS; k++) x->hist[h][k] = s.hist[h][k];
    /* user streams only (system streams are the acker's business) */
    x->n_streams = 0;
    for (size_t i = 0; sp && i < e->comp->n_streams; i++) {
        const gale__rstream_t *r = &e->comp->streams[i];
        if (!r->def || strlen(r->id) > GALE__WS_NAME_MAX) continue;
        gale__ws_stream_t *d = &x->streams[x->n_streams++];
        snprintf(d->id, sizeof d->id, "%s", r->id);
        d->emitted = ss[i].emitted;
        d->transferred = ss[i].transferred;
        d->acked = ss[i].acked;
        d->failed = ss[i].failed;
        d->complete_samples = ss[i].complete_samples;
        d->complete_ns = ss[i].complete_ns_sum;
    }
    x->n_inputs = 0;
    for (size_t i = 0; ip && i < e->comp->n_inputs; i++) {
        const gale__rstream_t *r = e->comp->in_streams[i];
        if (!r || strlen(r->component) > GALE__WS_NAME_MAX || strlen(r->id) > GALE__WS_NAME_MAX)
            continue;
        gale__ws_input_t *d = &x->inputs[x->n_inputs++];
        snprintf(d->component, sizeof d->component, "%s", r->component);
        snprintf(d->stream, sizeof d->stream, "%s", r->id);
        d->executed = is[i].executed;
        d->acked = is[i].acked;
        d->failed = is[i].failed;
        d->execute_samples = is[i].execute_samples;
        d->execute_ns = is[i].execute_ns_sum;
        d->process_samples = is[i].process_samples;
        d->process_ns = is[i].process_ns_sum;
    }
    x->n_errors = (uint32_t)n_errs;
    for (size_t k = 0; k < n_errs; k++) {
        x->errors[k].epoch_ms = errs[k].epoch_ms;
        x->errors[k].task = errs[k].task;
        snprintf(x->errors[k].msg, sizeof x->errors[k].msg, "%s", errs[k].msg);
    }
}

/* The stats of the executors of this process (every worker marked local)
 * encoded into out. Heartbeat thread; 0 or GALE_ENOMEM. */
int gale__rt_wstats(gale__rt_t *rt, uint64_t start_ms, msgpack_sbuffer *out) {
    size_t n = 0;
    for (size_t w = 0; w < rt->n_workers; w++)
        if (rt->workers[w].local) n += rt->workers[w].n_execs;
    if (n > GALE__WS_MAX_EXECS) n = GALE__WS_MAX_EXECS;
    gale__wstats_t s = {start_ms, calloc(n ? n : 1, sizeof(gale__ws_exec_t)), 0};
    if (!s.execs) return GALE_ENOMEM;
    for (size_t w = 0; w < rt->n_workers; w++) {
        gale__worker_t *wk = &rt->workers[w];
        for (size_t i = 0; wk->local && i < wk->n_execs && s.n_execs < n; i++)
            fill(wk->execs[i], &s.execs[s.n_execs++]);
    }
    int rc = gale__wstats_encode(&s, out);
    free(s.execs);
    return rc;
}
