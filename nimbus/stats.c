/*
 * stats.c — the stats workers report, as nimbus keeps them: in memory
 * only (a restarted nimbus starts again from what workers report next:
 * their counters are cumulative since their own start, so "all time"
 * then means "since the workers started"), per topology and executor
 * (task range), per output stream, over Storm's windows.
 *
 * Incarnations. A worker's counters start from 0 when its process
 * restarts (start_ms moves on); nimbus adds what the last incarnation
 * reached to a base, so an executor's totals only grow. A report from an
 * older incarnation than the one held (an old process still beating
 * while its replacement runs) is ignored, so nothing counts twice.
 *
 * Windows. Each executor keeps snapshots of its totals in three rings
 * (TIERS): one per minute for the last 10 minutes, one per 18 minutes
 * for 3 hours, one per 2.4 hours for a day. A window of W seconds is
 * the totals now minus the oldest snapshot not older than W (zero when
 * the executor is younger than W), so a window may be up to one step of
 * its ring shorter than asked (10 min = 9..10 min). Gauges (queue depth)
 * are the newest value. Memory: ~130 KiB per executor (30 snapshots of
 * counters, three 64-bin histograms, 32 output streams and 16 inputs).
 *
 * Streams. Per output stream: emitted, transferred and, for spouts, the
 * acked, failed and complete latency of the trees rooted on it; per
 * input (a source component's stream) of a bolt: executed, acked,
 * failed, execute and process latency: Storm's outputStats and
 * inputStats, exact for a component with several of either.
 *
 * The answer (stats_reply.json) is one JSON document, see nimbus/stats.h.
 * Main thread only, like the rest of nimbus.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/wstats.h"
#include "nimbus/nimbus.h"

#define NB        "nimbus"
#define TIER_N    3
#define TIER_SLOT 10
#define STALE_NS  (600 * 1000000000LL) /* an executor not reported for 10 min is forgotten */

static const int64_t tier_step_ns[TIER_N] = {60 * 1000000000LL, 1080 * 1000000000LL,
                                             8640 * 1000000000LL};

/* per output stream and per input counters, in gale__ws_stream_t and
 * gale__ws_input_t order */
enum { S_EMITTED, S_TRANSFERRED, S_ACKED, S_FAILED, S_COMPLETE_SAMPLES, S_COMPLETE_NS, S_N };
enum {
    I_EXECUTED,
    I_ACKED,
    I_FAILED,
    I_EXECUTE_SAMPLES,
    I_EXECUTE_NS,
    I_PROCESS_SAMPLES,
    I_PROCESS_NS,
    I_N
};
static const char *const s_names[S_N] = {"emitted", "transferred",      "acked",
                                         "failed",  "complete_samples", "complete_ns"};
static const char *const i_names[I_N] = {"executed",        "acked",      "failed",
                                         "execute_samples", "execute_ns", "process_samples",
                                         "process_ns"};

typedef struct tot {
    uint64_t c[GALE__WS_N];
    uint64_t hist[GALE__LAT_N][GALE__HIST_BINS];
    uint64_t s[GALE__WS_MAX_STREAMS][S_N];
    uint64_t in[GALE__WS_MAX_INPUTS][I_N];
} tot_t;

typedef struct snap {
    int64_t t_ns; /* 0: empty */
    tot_t tot;
} snap_t;

typedef struct nb_estat {
    char topology_id[200];
    char component[GALE__WS_NAME_MAX + 1];
    uint64_t start, end;
    char host[256], supervisor[130];
    int port;
    uint64_t start_ms; /* the incarnation held */
    int64_t first_ns, last_ns;
    tot_t base, last; /* earlier incarnations; the current one's latest */
    char streams[GALE__WS_MAX_STREAMS][GALE__WS_NAME_MAX + 1];
    uint32_t n_streams;
    char inputs[GALE__WS_MAX_INPUTS][2][GALE__WS_NAME_MAX + 1]; /* source, stream */
    uint32_t n_inputs;
    gale__ws_error_t errors[GALE__WS_MAX_ERRS];
    uint32_t n_errors;
    snap_t ring[TIER_N][TIER_SLOT];
    unsigned head[TIER_N];
} nb_estat_t;

struct nb_stats {
    nb_estat_t **e;
    size_t n, cap;
};

static void total(const nb_estat_t *x, tot_t *out) {
    for (int k = 0; k < GALE__WS_N; k++)
        out->c[k] = GALE__WS_IS_GAUGE(k) ? x->last.c[k] : x->base.c[k] + x->last.c[k];
    for (int h = 0; h < GALE__LAT_N; h++)
        for (int b = 0; b < GALE__HIST_BINS; b++)
            out->hist[h][b] = x->base.hist[h][b] + x->last.hist[h][b];
    for (int s = 0; s < GALE__WS_MAX_STREAMS; s++)
        for (int k = 0; k < S_N; k++) out->s[s][k] = x->base.s[s][k] + x->last.s[s][k];
    for (int i = 0; i < GALE__WS_MAX_INPUTS; i++)
        for (int k = 0; k < I_N; k++) out->in[i][k] = x->base.in[i][k] + x->last.in[i][k];
}

static void fold_into_base(nb_estat_t *x) {
    tot_t t;
    total(x, &t);
    x->base = t;
    for (int k = 0; k < GALE__WS_N; k++)
        if (GALE__WS_IS_GAUGE(k)) x->base.c[k] = 0;
    memset(&x->last, 0, sizeof x->last);
}

/* Take a snapshot in every ring whose step has passed. */
static void snapshot(nb_estat_t *x, int64_t now) {
    for (int t = 0; t < TIER_N; t++) {
        const snap_t *newest = &x->ring[t][(x->head[t] + TIER_SLOT - 1) % TIER_SLOT];
        if (newest->t_ns && now - newest->t_ns < tier_step_ns[t]) continue;
        snap_t *s = &x->ring[t][x->head[t]];
        s->t_ns = now;
        total(x, &s->tot);
        x->head[t] = (x->head[t] + 1) % TIER_SLOT;
    }
}

static nb_estat_t *find(struct nb_stats *st, const char *topo, uint64_t start, uint64_t end) {
    for (size_t i = 0; i < st->n; i++)
        if (st->e[i]->start == start && st->e[i]->end == end &&
            strcmp(st->e[i]->topology_id, topo) == 0)
            return st->e[i];
    return NULL;
}

static int stream_slot(nb_estat_t *x, const char *id) {
    for (uint32_t i = 0; i < x->n_streams; i++)
        if (strcmp(x->streams[i], id) == 0) return (int)i;
    if (x->n_streams >= GALE__WS_MAX_STREAMS) return -1;
    snprintf(x->streams[x->n_streams], sizeof x->streams[0], "%s", id);
    return (int)x->n_streams++;
}

static int input_slot(nb_estat_t *x, const char *source, const char *stream) {
    for (uint32_t i = 0; i < x->n_inputs; i++)
        if (strcmp(x->inputs[i][0], source) == 0 && strcmp(x->inputs[i][1], stream) == 0)
            return (int)i;
    if (x->n_inputs >= GALE__WS_MAX_INPUTS) return -1;
    snprintf(x->inputs[x->n_inputs][0], sizeof x->inputs[0][0], "%s", source);
    snprintf(x->inputs[x->n_inputs][1], sizeof x->inputs[0][1], "%s", stream);
    return (int)x->n_inputs++;
}

static void apply(nb_estat_t *x, const gale__ws_exec_t *e, uint64_t start_ms, const char *host,
                  const char *sup, int port, int64_t now) {
    if (x->start_ms && start_ms != x->start_ms) fold_into_base(x); /* a new incarnation */
    x->start_ms = start_ms;
    snprintf(x->host, sizeof x->host, "%s", host);
    snprintf(x->supervisor, sizeof x->supervisor, "%s", sup);
    x->port = port;
    memcpy(x->last.c, e->c, sizeof x->last.c);
    memcpy(x->last.hist, e->hist, sizeof x->last.hist);
    for (uint32_t i = 0; i < e->n_streams; i++) {
        int k = stream_slot(x, e->streams[i].id);
        if (k < 0) continue;
        const gale__ws_stream_t *r = &e->streams[i];
        const uint64_t v[S_N] = {r->emitted, r->transferred,      r->acked,
                                 r->failed,  r->complete_samples, r->complete_ns};
        memcpy(x->last.s[k], v, sizeof v);
    }
    for (uint32_t i = 0; i < e->n_inputs; i++) {
        const gale__ws_input_t *r = &e->inputs[i];
        int k = input_slot(x, r->component, r->stream);
        if (k < 0) continue;
        const uint64_t v[I_N] = {r->executed,        r->acked,      r->failed,
                                 r->execute_samples, r->execute_ns, r->process_samples,
                                 r->process_ns};
        memcpy(x->last.in[k], v, sizeof v);
    }
    if (e->n_errors) { /* the worker keeps its newest few; an older incarnation's stay otherwise */
        memcpy(x->errors, e->errors, e->n_errors * sizeof *e->errors);
        x->n_errors = e->n_errors;
    }
    x->last_ns = now;
    snapshot(x, now);
}

void gale__nb_stats_ingest(nimbus_t *nb, const nb_supervisor_t *s, const char *topology_id,
                           int port, const uint8_t *blob, size_t len) {
    if (!nb->stats && !(nb->stats = calloc(1, sizeof *nb->stats))) return;
    struct nb_stats *st = nb->stats;
    if (!gale__nb_topo_find(nb, topology_id)) return; /* killed meanwhile */
    gale__wstats_t w;
    char err[512];
    if (gale__wstats_decode(blob, len, &w, err, sizeof err)) {
        static int64_t last_warn;
        if (gale__now_ns() - last_warn > 10000000000LL) {
            GALE_WARN(NB, 0, "stats of worker %s:%d from supervisor %s ignored: %s", topology_id,
                      port, s->id, err);
            last_warn = gale__now_ns();
        }
        gale__wstats_free(&w);
        return;
    }
    int64_t now = gale__now_ns();
    for (uint32_t i = 0; i < w.n_execs; i++) {
        const gale__ws_exec_t *e = &w.execs[i];
        nb_estat_t *x = find(st, topology_id, e->start, e->end);
        if (x && w.start_ms < x->start_ms) continue; /* an older process: not counted twice */
        if (!x) {
            if (st->n == st->cap) {
                size_t cap = st->cap ? 2 * st->cap : 64;
                nb_estat_t **g = realloc(st->e, cap * sizeof *g);
                if (!g) break;
                st->e = g;
                st->cap = cap;
            }
            x = calloc(1, sizeof *x);
            if (!x) break;
            snprintf(x->topology_id, sizeof x->topology_id, "%s", topology_id);
            x->start = e->start;
            x->end = e->end;
            x->first_ns = now;
            st->e[st->n++] = x;
        }
        snprintf(x->component, sizeof x->component, "%s", e->component);
        apply(x, e, w.start_ms, s->host, s->id, port, now);
    }
    gale__wstats_free(&w);
}

/* Forget executors of topologies gone and executors not reported lately
 * (a rebalance changed the task ranges). */
static void sweep(nimbus_t *nb) {
    struct nb_stats *st = nb->stats;
    int64_t now = gale__now_ns();
    for (size_t i = 0; st && i < st->n;) {
        nb_estat_t *x = st->e[i];
        if (!gale__nb_topo_find(nb, x->topology_id) || now - x->last_ns > STALE_NS) {
            free(x);
            st->e[i] = st->e[--st->n];
        } else {
            i++;
        }
    }
}

void gale__nb_stats_free(nimbus_t *nb) {
    struct nb_stats *st = nb->stats;
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->e[i]);
    free(st->e);
    free(st);
    nb->stats = NULL;
}

/* x's totals over the last window_ns (0: all time) into w. */
static void windowed(const nb_estat_t *x, int64_t window_ns, int64_t now, tot_t *w) {
    total(x, w);
    if (window_ns <= 0 || now - x->first_ns <= window_ns) return;
    const snap_t *best = NULL;
    for (int t = 0; t < TIER_N; t++)
        for (int k = 0; k < TIER_SLOT; k++) {
            const snap_t *s = &x->ring[t][k];
            if (!s->t_ns || now - s->t_ns > window_ns) continue;
            if (!best || s->t_ns < best->t_ns) best = s;
        }
    if (!best) return;
    for (int k = 0; k < GALE__WS_N; k++)
        if (!GALE__WS_IS_GAUGE(k))
            w->c[k] = w->c[k] >= best->tot.c[k] ? w->c[k] - best->tot.c[k] : 0;
    for (int h = 0; h < GALE__LAT_N; h++)
        for (int b = 0; b < GALE__HIST_BINS; b++)
            w->hist[h][b] =
                w->hist[h][b] >= best->tot.hist[h][b] ? w->hist[h][b] - best->tot.hist[h][b] : 0;
    for (int s = 0; s < GALE__WS_MAX_STREAMS; s++)
        for (int k = 0; k < S_N; k++)
            w->s[s][k] = w->s[s][k] >= best->tot.s[s][k] ? w->s[s][k] - best->tot.s[s][k] : 0;
    for (int i = 0; i < GALE__WS_MAX_INPUTS; i++)
        for (int k = 0; k < I_N; k++)
            w->in[i][k] = w->in[i][k] >= best->tot.in[i][k] ? w->in[i][k] - best->tot.in[i][k] : 0;
}

static json_t *hist_json(const uint64_t *bins) {
    json_t *a = json_array();
    for (int b = 0; b < GALE__HIST_BINS; b++)
        if (bins[b]) json_array_append_new(a, json_pack("[iI]", b, (json_int_t)bins[b]));
    return a;
}

static json_t *exec_json(const nb_estat_t *x, int64_t window_ns, int64_t now) {
    tot_t w;
    windowed(x, window_ns, now, &w);
    json_t *c = json_object();
    for (int k = 0; k < GALE__WS_N; k++)
        json_object_set_new(c, gale__ws_counter_names[k], json_integer((json_int_t)w.c[k]));
    json_t *streams = json_array();
    for (uint32_t s = 0; s < x->n_streams; s++) {
        json_t *o = json_pack("{ss}", "id", x->streams[s]);
        for (int k = 0; k < S_N; k++)
            json_object_set_new(o, s_names[k], json_integer((json_int_t)w.s[s][k]));
        json_array_append_new(streams, o);
    }
    json_t *inputs = json_array();
    for (uint32_t i = 0; i < x->n_inputs; i++) {
        json_t *o = json_pack("{ssss}", "component", x->inputs[i][0], "stream", x->inputs[i][1]);
        for (int k = 0; k < I_N; k++)
            json_object_set_new(o, i_names[k], json_integer((json_int_t)w.in[i][k]));
        json_array_append_new(inputs, o);
    }
    json_t *errs = json_array();
    for (uint32_t k = 0; k < x->n_errors; k++)
        json_array_append_new(errs, json_pack("{sIsIsssssi}", "time_ms",
                                              (json_int_t)x->errors[k].epoch_ms, "task",
                                              (json_int_t)x->errors[k].task, "error",
                                              x->errors[k].msg, "host", x->host, "port", x->port));
    return json_pack("{sssssIsIsssssisIsososos{sososo}so}", "topology", x->topology_id, "component",
                     x->component, "start", (json_int_t)x->start, "end", (json_int_t)x->end, "host",
                     x->host, "supervisor", x->supervisor, "port", x->port, "uptime_secs",
                     (json_int_t)((now - x->first_ns) / 1000000000), "counters", c, "streams",
                     streams, "inputs", inputs, "hist", "execute",
                     hist_json(w.hist[GALE__LAT_EXECUTE]), "process",
                     hist_json(w.hist[GALE__LAT_PROCESS]), "complete",
                     hist_json(w.hist[GALE__LAT_COMPLETE]), "errors", errs);
}

static json_t *topo_json(nimbus_t *nb, nb_topo_t *t, int64_t window_ns, int64_t now) {
    json_t *comps = json_array();
    for (size_t i = 0; t->t && i < t->t->n_components; i++) {
        const gale__component_t *c = &t->t->components[i];
        json_t *in = json_array();
        for (size_t k = 0; k < c->n_inputs; k++)
            json_array_append_new(in, json_pack("{ssssss}", "component", c->inputs[k].source,
                                                "stream", c->inputs[k].stream, "grouping",
                                                gale__grouping_name(c->inputs[k].grouping)));
        json_t *outs = json_array();
        for (size_t k = 0; k < c->n_streams; k++)
            json_array_append_new(outs, json_string(c->streams[k].id));
        json_array_append_new(comps,
                              json_pack("{sssssisisoso}", "id", c->id, "type",
                                        c->is_spout ? "spout" : "bolt", "executors", c->parallelism,
                                        "tasks", c->tasks, "inputs", in, "streams", outs));
    }
    /* workers: distinct slots of its assignment, with their supervisors' reports */
    json_t *workers = json_array();
    for (size_t i = 0; i < t->n_places; i++) {
        const gale__sched_place_t *p = &t->places[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen =
                t->places[j].port == p->port && strcmp(t->places[j].supervisor, p->supervisor) == 0;
        if (seen) continue;
        const nb_supervisor_t *s = gale__nb_sup_find(nb, p->supervisor);
        const nb_worker_t *w = NULL;
        for (size_t k = 0; s && k < s->n_workers && !w; k++)
            if (s->workers[k].port == p->port && strcmp(s->workers[k].topology_id, t->id) == 0)
                w = &s->workers[k];
        json_array_append_new(
            workers,
            json_pack(
                "{sssssisIsssIsb}", "supervisor", p->supervisor, "host", p->host, "port", p->port,
                "logviewer_port",
                (json_int_t)(s && s->logviewer_port != GALE_CTL_UNSET ? s->logviewer_port : 0),
                "state", w ? w->state : "unknown", "restarts", (json_int_t)(w ? w->restarts : 0),
                "alive",
                w && w->hb_age_ms != GALE_CTL_UNSET &&
                    (int64_t)w->hb_age_ms * 1000000 <= nb->task_timeout_ns));
    }
    json_t *execs = json_array();
    for (size_t i = 0; nb->stats && i < nb->stats->n; i++)
        if (strcmp(nb->stats->e[i]->topology_id, t->id) == 0)
            json_array_append_new(execs, exec_json(nb->stats->e[i], window_ns, now));
    int64_t wall = gale__wall_ms() / 1000;
    return json_pack("{sssssssIsIsIsIsIsososo}", "id", t->id, "name", t->name, "status", t->status,
                     "uptime_secs",
                     (json_int_t)(wall > t->submit_epoch ? wall - t->submit_epoch : 0), "workers_n",
                     (json_int_t)json_array_size(workers), "executors_n", (json_int_t)t->n_execs,
                     "tasks_n", (json_int_t)(t->n_execs ? t->execs[t->n_execs - 1].end : 0),
                     "restarts", (json_int_t)gale__nb_topo_restarts(nb, t), "components", comps,
                     "workers", workers, "executors", execs);
}

void gale__nb_stats(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    const gale__ctl_stats_t *q = &m->u.stats;
    sweep(nb);
    nb_topo_t *only = NULL;
    if (q->topology && !(only = gale__nb_topo_find(nb, q->topology)))
        return gale__nb_reply_err(nb, p, m->req, "no topology named '%s' is running", q->topology);
    int64_t window_ns =
        q->window_secs == GALE_CTL_UNSET ? 0 : (int64_t)q->window_secs * 1000000000LL;
    int64_t now = gale__now_ns();
    json_t *sups = json_array();
    for (size_t i = 0; i < nb->n_sups; i++) {
        const nb_supervisor_t *s = &nb->sups[i];
        size_t used = 0;
        for (size_t k = 0; k < s->n_workers; k++)
            used += strcmp(s->workers[k].state, "exited") != 0;
        json_array_append_new(
            sups,
            json_pack("{sssssIsIsIsIsb}", "id", s->id, "host", s->host, "uptime_secs",
                      (json_int_t)s->uptime_secs, "slots_total", (json_int_t)s->n_ports,
                      "slots_used", (json_int_t)used, "logviewer_port",
                      (json_int_t)(s->logviewer_port != GALE_CTL_UNSET ? s->logviewer_port : 0),
                      "alive", now - s->last_ns <= nb->sup_timeout_ns));
    }
    json_t *topos = json_array();
    for (size_t i = 0; i < nb->n_topos; i++)
        if (!only || nb->topos[i] == only)
            json_array_append_new(topos, topo_json(nb, nb->topos[i], window_ns, now));
    /* the ids of the last GALE_NB_GONE_MAX topologies removed, oldest
     * first (gale ui's history/summary) */
    json_t *removed = json_array();
    for (size_t i = 0; i < nb->n_gone && !only; i++)
        json_array_append_new(removed, json_string(nb->gone[i]->id));
    json_t *doc =
        json_pack("{s{sIsI}sIsososo}", "nimbus", "uptime_secs",
                  (json_int_t)((now - nb->start_ns) / 1000000000), "port", (json_int_t)nb->port,
                  "window_secs", (json_int_t)(window_ns / 1000000000), "supervisors", sups,
                  "topologies", topos, "removed", removed);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) return gale__nb_reply_err(nb, p, m->req, "nimbus is out of memory");
    gale__ctl_stats_reply_t r = {true, NULL, text};
    char err[256];
    if (gale__ctl_server_send(nb->router, p, GALE_CTL_STATS_REPLY, m->req, &r, err, sizeof err))
        gale__nb_reply_err(nb, p, m->req, "nimbus cannot send the stats: %s (ask for one topology)",
                           err);
    free(text);
}
