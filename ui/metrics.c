/*
 * metrics.c — GET /metrics in Prometheus's text exposition format
 * (version 0.0.4), from nimbus's all-time stats (counters only grow,
 * except when nimbus restarts: Prometheus takes that as a counter reset).
 *
 *   gale_tuples_emitted_total{topology,component,stream}      counter
 *   gale_tuples_transferred_total{topology,component,stream}  counter
 *   gale_tuples_acked_total{topology,component}               counter
 *   gale_tuples_failed_total{topology,component,reason}       counter (timeout|failed)
 *   gale_tuples_executed_total{topology,component}            counter
 *   gale_{complete,execute,process}_latency_seconds{topology,component}
 *                                    histogram of sampled tuples; the `le`
 *                                    bounds are the histogram's power-of-two
 *                                    bucket edges, so counts are exact
 *   gale_capacity{topology,component,executor}                gauge (last 10 min)
 *   gale_queue_depth{topology,component,executor}             gauge
 *   gale_backpressure_wait_seconds_total{topology,component}  counter
 *   gale_errors_total{topology,component}                     counter
 *   gale_worker_up{topology,host,port}                        gauge 0|1
 *   gale_worker_restarts_total{topology,host,port}            counter
 *   gale_supervisor_up{supervisor,host}, gale_slots, gale_slots_used
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/histogram.h"
#include "common/wstats.h"
#include "ui/ui.h"

typedef struct out {
    char *p;
    size_t n, cap;
    bool oom;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...) {
    if (o->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(o->p ? o->p + o->n : NULL, o->p ? o->cap - o->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (o->p && o->n + (size_t)k < o->cap) {
            o->n += (size_t)k;
            return;
        }
        size_t cap = o->cap ? o->cap * 2 : 65536;
        while (cap < o->n + (size_t)k + 1) cap *= 2;
        char *g = realloc(o->p, cap);
        if (!g) {
            o->oom = true;
            return;
        }
        o->p = g;
        o->cap = cap;
    }
}

/* A label value escaped as the format wants (\\, \", \n). */
static const char *esc(const char *s, char *buf, size_t cap) {
    size_t j = 0;
    for (; s && *s && j + 3 < cap; s++) {
        if (*s == '\\' || *s == '"')
            buf[j++] = '\\', buf[j++] = *s;
        else if (*s == '\n')
            buf[j++] = '\\', buf[j++] = 'n';
        else
            buf[j++] = *s;
    }
    buf[j] = '\0';
    return buf;
}

static uint64_t jint(json_t *o, const char *k) {
    json_int_t v = json_integer_value(json_object_get(o, k));
    return v > 0 ? (uint64_t)v : 0;
}
static const char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

typedef struct comp_tot {
    uint64_t c[GALE__WS_N];
    uint64_t hist[GALE__LAT_N][GALE__HIST_BINS];
} comp_tot_t;

static void comp_sum(json_t *topo, const char *comp, comp_tot_t *t) {
    memset(t, 0, sizeof *t);
    static const char *const h[GALE__LAT_N] = {"execute", "process", "complete"};
    size_t i, k;
    json_t *ex, *pair;
    json_array_foreach(json_object_get(topo, "executors"), i, ex) {
        if (strcmp(jstr(ex, "component"), comp)) continue;
        json_t *c = json_object_get(ex, "counters");
        for (int n = 0; n < GALE__WS_N; n++) t->c[n] += jint(c, gale__ws_counter_names[n]);
        for (int x = 0; x < GALE__LAT_N; x++)
            json_array_foreach(json_object_get(json_object_get(ex, "hist"), h[x]), k, pair) {
                json_int_t b = json_integer_value(json_array_get(pair, 0));
                json_int_t n = json_integer_value(json_array_get(pair, 1));
                if (b >= 0 && b < GALE__HIST_BINS && n > 0) t->hist[x][b] += (uint64_t)n;
            }
    }
}

static void histogram(out_t *o, const char *name, const char *labels, const uint64_t *bins,
                      uint64_t sum_ns) {
    /* le = 2^l ns for l = 10..41: the lower edge of bucket 2(l-10)+1 */
    uint64_t cum = 0;
    unsigned k = 0;
    for (unsigned l = 10; l <= 41; l++) {
        unsigned edge = 2 * (l - 10) + 1;
        for (; k < edge && k < GALE__HIST_BINS; k++) cum += bins[k];
        put(o, "%s_bucket{%s,le=\"%.9g\"} %llu\n", name, labels, (double)(1ull << l) / 1e9,
            (unsigned long long)cum);
    }
    for (; k < GALE__HIST_BINS; k++) cum += bins[k];
    put(o, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
    put(o, "%s_sum{%s} %.9f\n", name, labels, (double)sum_ns / 1e9);
    put(o, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
}

static void help(out_t *o, const char *name, const char *type, const char *text) {
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* field (emitted, transferred) of stream summed over component's executors */
static uint64_t stream_total(json_t *t, const char *component, const char *stream,
                             const char *field) {
    uint64_t sum = 0;
    size_t x, y;
    json_t *ex, *st;
    json_array_foreach(json_object_get(t, "executors"), x, ex) {
        if (strcmp(jstr(ex, "component"), component)) continue;
        json_array_foreach(json_object_get(ex, "streams"), y, st) {
            if (strcmp(jstr(st, "id"), stream) == 0) sum += jint(st, field);
        }
    }
    return sum;
}

void gale__ui_metrics(gale__ui_t *ui, gale__ui_answer_t *a) {
    json_t *doc, *doc10 = NULL;
    char err[1024];
    unsigned st = gale__ui_stats(ui, NULL, 0, &doc, err, sizeof err);
    if (st) return gale__ui_error(a, st, "nimbus: %s", err);
    if (gale__ui_stats(ui, NULL, 600, &doc10, err, sizeof err)) doc10 = NULL;
    out_t o = {0};
    char tl[300], cl[300], sl[300], hl[300], lab[1200];
    size_t i, k, j;
    json_t *t, *c, *s, *w, *ex;
    json_t *topos = json_object_get(doc, "topologies");

    static const struct {
        const char *name, *field, *help;
    } per_stream[] = {
        {"gale_tuples_emitted_total", "emitted", "Tuples emitted (emit calls), per stream."},
        {"gale_tuples_transferred_total", "transferred",
         "Tuples sent to target tasks, per stream."},
    };
    for (size_t f = 0; f < sizeof per_stream / sizeof per_stream[0]; f++) {
        help(&o, per_stream[f].name, "counter", per_stream[f].help);
        json_array_foreach(topos, i, t) json_array_foreach(json_object_get(t, "components"), k, c) {
            json_array_foreach(json_object_get(c, "streams"), j, s) {
                uint64_t sum =
                    stream_total(t, jstr(c, "id"), json_string_value(s) ?: "", per_stream[f].field);
                put(&o, "%s{topology=\"%s\",component=\"%s\",stream=\"%s\"} %llu\n",
                    per_stream[f].name, esc(jstr(t, "name"), tl, sizeof tl),
                    esc(jstr(c, "id"), cl, sizeof cl), esc(json_string_value(s), sl, sizeof sl),
                    (unsigned long long)sum);
            }
        }
    }

    /* per component: one sum, then every family that needs it */
    size_t n_c = 0;
    json_array_foreach(topos, i, t) n_c += json_array_size(json_object_get(t, "components"));
    comp_tot_t *tot = calloc(n_c ? n_c : 1, sizeof *tot);
    char(*labels)[640] = calloc(n_c ? n_c : 1, sizeof *labels); /* two escaped 300-byte names */
    bool *spout = calloc(n_c ? n_c : 1, sizeof *spout);
    if (!tot || !labels || !spout) {
        free(tot), free(labels), free(spout), free(o.p);
        json_decref(doc), json_decref(doc10);
        return gale__ui_error(a, 503, "out of memory");
    }
    size_t n = 0;
    json_array_foreach(topos, i, t) json_array_foreach(json_object_get(t, "components"), k, c) {
        comp_sum(t, jstr(c, "id"), &tot[n]);
        snprintf(labels[n], sizeof labels[n], "topology=\"%s\",component=\"%s\"",
                 esc(jstr(t, "name"), tl, sizeof tl), esc(jstr(c, "id"), cl, sizeof cl));
        spout[n] = strcmp(jstr(c, "type"), "spout") == 0;
        n++;
    }
    help(&o, "gale_tuples_acked_total", "counter",
         "Tuples acked (spouts: trees completed; bolts: inputs acked).");
    for (size_t x = 0; x < n; x++)
        put(&o, "gale_tuples_acked_total{%s} %llu\n", labels[x],
            (unsigned long long)tot[x].c[GALE__WS_ACKED]);
    help(&o, "gale_tuples_failed_total", "counter",
         "Tuples failed, by reason: timeout (the tree timed out) or failed (fail() was called).");
    for (size_t x = 0; x < n; x++) {
        put(&o, "gale_tuples_failed_total{%s,reason=\"timeout\"} %llu\n", labels[x],
            (unsigned long long)tot[x].c[GALE__WS_FAILED_TIMEOUT]);
        put(&o, "gale_tuples_failed_total{%s,reason=\"failed\"} %llu\n", labels[x],
            (unsigned long long)tot[x].c[GALE__WS_FAILED_EXPLICIT]);
    }
    help(&o, "gale_tuples_executed_total", "counter", "Tuples a bolt executed.");
    for (size_t x = 0; x < n; x++)
        if (!spout[x])
            put(&o, "gale_tuples_executed_total{%s} %llu\n", labels[x],
                (unsigned long long)tot[x].c[GALE__WS_EXECUTED]);
    help(&o, "gale_complete_latency_seconds", "histogram",
         "Spout emit to tree completion, over sampled tuples.");
    for (size_t x = 0; x < n; x++)
        if (spout[x])
            histogram(&o, "gale_complete_latency_seconds", labels[x],
                      tot[x].hist[GALE__LAT_COMPLETE], tot[x].c[GALE__WS_COMPLETE_NS]);
    help(&o, "gale_execute_latency_seconds", "histogram",
         "Time inside a bolt's execute(), over sampled tuples.");
    for (size_t x = 0; x < n; x++)
        if (!spout[x])
            histogram(&o, "gale_execute_latency_seconds", labels[x], tot[x].hist[GALE__LAT_EXECUTE],
                      tot[x].c[GALE__WS_EXECUTE_NS]);
    help(&o, "gale_process_latency_seconds", "histogram",
         "A bolt input's arrival to its ack or fail, over sampled tuples.");
    for (size_t x = 0; x < n; x++)
        if (!spout[x])
            histogram(&o, "gale_process_latency_seconds", labels[x], tot[x].hist[GALE__LAT_PROCESS],
                      tot[x].c[GALE__WS_PROCESS_NS]);
    help(&o, "gale_backpressure_wait_seconds_total", "counter",
         "Time executors waited on a full downstream queue.");
    for (size_t x = 0; x < n; x++)
        put(&o, "gale_backpressure_wait_seconds_total{%s} %.9f\n", labels[x],
            (double)tot[x].c[GALE__WS_BACKPRESSURE_NS] / 1e9);
    help(&o, "gale_errors_total", "counter", "Errors a component reported or caused.");
    for (size_t x = 0; x < n; x++)
        put(&o, "gale_errors_total{%s} %llu\n", labels[x],
            (unsigned long long)tot[x].c[GALE__WS_ERRORS]);
    free(tot), free(labels), free(spout);

    help(&o, "gale_capacity", "gauge",
         "Storm's capacity of a bolt executor over the last 10 minutes: executed x mean execute "
         "latency / window.");
    json_t *src = doc10 ? doc10 : doc;
    json_array_foreach(json_object_get(src, "topologies"), i, t)
        json_array_foreach(json_object_get(t, "executors"), k, ex) {
        json_t *cn = json_object_get(ex, "counters");
        uint64_t up = jint(ex, "uptime_secs"), ns = jint(cn, "execute_samples");
        double secs = doc10 && up > 600 ? 600 : (double)up;
        double cap = secs > 0 && ns
                         ? (double)jint(cn, "executed") *
                               ((double)jint(cn, "execute_ns") / (double)ns) / (secs * 1e9)
                         : 0;
        put(&o, "gale_capacity{topology=\"%s\",component=\"%s\",executor=\"[%llu-%llu]\"} %.6f\n",
            esc(jstr(t, "name"), tl, sizeof tl), esc(jstr(ex, "component"), cl, sizeof cl),
            (unsigned long long)jint(ex, "start"), (unsigned long long)jint(ex, "end"), cap);
    }
    help(&o, "gale_queue_depth", "gauge", "Tuples waiting in an executor's receive queue.");
    json_array_foreach(topos, i, t) json_array_foreach(json_object_get(t, "executors"), k, ex) put(
        &o, "gale_queue_depth{topology=\"%s\",component=\"%s\",executor=\"[%llu-%llu]\"} %llu\n",
        esc(jstr(t, "name"), tl, sizeof tl), esc(jstr(ex, "component"), cl, sizeof cl),
        (unsigned long long)jint(ex, "start"), (unsigned long long)jint(ex, "end"),
        (unsigned long long)jint(json_object_get(ex, "counters"), "queue_depth"));
    help(&o, "gale_worker_up", "gauge", "1 while the worker heartbeats, else 0.");
    json_array_foreach(topos, i, t) json_array_foreach(json_object_get(t, "workers"), k, w) {
        snprintf(lab, sizeof lab, "topology=\"%s\",host=\"%s\",port=\"%llu\"",
                 esc(jstr(t, "name"), tl, sizeof tl), esc(jstr(w, "host"), hl, sizeof hl),
                 (unsigned long long)jint(w, "port"));
        put(&o, "gale_worker_up{%s} %d\n", lab, json_is_true(json_object_get(w, "alive")) ? 1 : 0);
    }
    help(&o, "gale_worker_restarts_total", "counter", "Times the supervisor restarted the worker.");
    json_array_foreach(topos, i, t) json_array_foreach(json_object_get(t, "workers"), k, w) {
        snprintf(lab, sizeof lab, "topology=\"%s\",host=\"%s\",port=\"%llu\"",
                 esc(jstr(t, "name"), tl, sizeof tl), esc(jstr(w, "host"), hl, sizeof hl),
                 (unsigned long long)jint(w, "port"));
        put(&o, "gale_worker_restarts_total{%s} %llu\n", lab,
            (unsigned long long)jint(w, "restarts"));
    }
    help(&o, "gale_supervisor_up", "gauge", "1 while the supervisor heartbeats to nimbus.");
    json_array_foreach(json_object_get(doc, "supervisors"), i, s)
        put(&o, "gale_supervisor_up{supervisor=\"%s\",host=\"%s\"} %d\n",
            esc(jstr(s, "id"), cl, sizeof cl), esc(jstr(s, "host"), hl, sizeof hl),
            json_is_true(json_object_get(s, "alive")) ? 1 : 0);
    help(&o, "gale_slots", "gauge", "Worker slots of the supervisor.");
    json_array_foreach(json_object_get(doc, "supervisors"), i, s)
        put(&o, "gale_slots{supervisor=\"%s\"} %llu\n", esc(jstr(s, "id"), cl, sizeof cl),
            (unsigned long long)jint(s, "slots_total"));
    help(&o, "gale_slots_used", "gauge", "Worker slots running a worker.");
    json_array_foreach(json_object_get(doc, "supervisors"), i, s)
        put(&o, "gale_slots_used{supervisor=\"%s\"} %llu\n", esc(jstr(s, "id"), cl, sizeof cl),
            (unsigned long long)jint(s, "slots_used"));
    json_decref(doc);
    json_decref(doc10);
    if (o.oom || !o.p) {
        free(o.p);
        return gale__ui_error(a, 503, "out of memory");
    }
    a->status = 200;
    a->type = "text/plain; version=0.0.4; charset=utf-8";
    a->body = o.p;
    a->len = o.n;
}
