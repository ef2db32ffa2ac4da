/*
 * rest.c — /api/v1/ (ui.h) with Storm UI's paths and field names, built
 * from nimbus's stats document (nimbus/stats.c):
 *
 *   GET  cluster/summary, nimbus/summary, supervisor/summary, topology/summary
 *   GET  cluster/configuration (the conf gale ui runs with, defaults filled:
 *        the daemons share conf/gale.yaml; passwords are shown as "****")
 *   GET  topology/{id}[?window=600|10800|86400|:all-time]
 *   GET  topology/{id}/component/{component}[?window=…]
 *   GET  topology/{id}/visualization[?window=…]
 *   GET  topology/{id}/lag, topology-workers/{id}, history/summary
 *   POST topology/{id}/activate, deactivate, rebalance/{wait} (Storm's JSON
 *        body, optional: {"rebalanceOptions": {"numWorkers": N,
 *        "executors": {"comp": N}}}), kill/{wait}
 *        -> {"topologyOperation", "topologyId", "status": "success"}
 *
 * Types follow Storm UI's: counts are integers, latencies (ms) and
 * capacity are strings with three decimals. Counts are exact (Gale counts
 * every tuple; "countsExact": true says so), latencies are means over
 * sampled tuples (topology.stats.sample.rate), with percentiles from the
 * histogram added as <latency>P50/P99/P999 (Gale's fields, not Storm's).
 * Capacity is Storm's: executed x mean execute latency / the window
 * (the executor's uptime when it is shorter, or for all time); a
 * component's is its busiest executor's. Per stream, as Storm: a
 * spout's outputStats give each output stream's emitted, transferred and
 * the acked, failed and complete latency of the trees rooted on it; a
 * bolt's outputStats emitted and transferred, its inputStats each input's
 * (source component and stream) executed, acked, failed, execute and
 * process latency. Per-stream latencies are means only (the percentile
 * histograms are per executor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/control.h"
#include "common/histogram.h"
#include "common/wstats.h"
#include "trident/state_json.h"
#include "ui/ui.h"

#define WAIT_MAX 86400

static const unsigned windows[] = {600, 10800, 86400, 0};

static const char *window_pretty(unsigned w) {
    switch (w) {
        case 600:
            return "10m 0s";
        case 10800:
            return "3h 0m 0s";
        case 86400:
            return "1d 0h 0m 0s";
        default:
            return "All time";
    }
}
static json_t *window_name(unsigned w) {
    if (!w) return json_string(":all-time");
    char b[16];
    snprintf(b, sizeof b, "%u", w);
    return json_string(b);
}

/* ---------- aggregation over executors ---------- */

typedef struct agg {
    uint64_t c[GALE__WS_N];
    uint64_t hist[GALE__LAT_N][GALE__HIST_BINS];
    double capacity; /* the busiest executor's */
    size_t n_exec;
    uint64_t tasks;
    json_t *last_error; /* borrowed: the newest error object */
    int64_t last_error_ms;
} agg_t;

static uint64_t jint(json_t *o, const char *k) {
    json_int_t v = json_integer_value(json_object_get(o, k));
    return v > 0 ? (uint64_t)v : 0;
}

static double exec_capacity(json_t *ex, unsigned window) {
    json_t *c = json_object_get(ex, "counters");
    uint64_t up = jint(ex, "uptime_secs");
    double secs = window && window < up ? window : (double)up;
    uint64_t n = jint(c, "execute_samples");
    if (secs <= 0 || !n) return 0;
    double mean_ns = (double)jint(c, "execute_ns") / (double)n;
    return (double)jint(c, "executed") * mean_ns / (secs * 1e9);
}

static void agg_add(agg_t *a, json_t *ex, unsigned window) {
    json_t *c = json_object_get(ex, "counters");
    for (int k = 0; k < GALE__WS_N; k++) a->c[k] += jint(c, gale__ws_counter_names[k]);
    static const char *const h[GALE__LAT_N] = {"execute", "process", "complete"};
    json_t *hist = json_object_get(ex, "hist");
    for (int i = 0; i < GALE__LAT_N; i++) {
        size_t k;
        json_t *pair;
        json_array_foreach(json_object_get(hist, h[i]), k, pair) {
            json_int_t b = json_integer_value(json_array_get(pair, 0));
            json_int_t n = json_integer_value(json_array_get(pair, 1));
            if (b >= 0 && b < GALE__HIST_BINS && n > 0) a->hist[i][b] += (uint64_t)n;
        }
    }
    double cap = exec_capacity(ex, window);
    if (cap > a->capacity) a->capacity = cap;
    a->n_exec++;
    a->tasks += jint(ex, "end") - jint(ex, "start") + 1;
    size_t k;
    json_t *e;
    json_array_foreach(json_object_get(ex, "errors"), k, e) {
        int64_t t = (int64_t)json_integer_value(json_object_get(e, "time_ms"));
        if (!a->last_error || t >= a->last_error_ms) {
            a->last_error = e;
            a->last_error_ms = t;
        }
    }
}

static void agg_component(agg_t *a, json_t *topo, const char *comp, unsigned window) {
    memset(a, 0, sizeof *a);
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(topo, "executors"), i, ex) {
        const char *c = json_string_value(json_object_get(ex, "component"));
        if (!comp || (c && strcmp(c, comp) == 0)) agg_add(a, ex, window);
    }
}

static json_t *ms(uint64_t ns_sum, uint64_t n) {
    char b[32];
    snprintf(b, sizeof b, "%.3f", n ? (double)ns_sum / (double)n / 1e6 : 0.0);
    return json_string(b);
}
static json_t *ms_q(const uint64_t *hist, double q) {
    char b[32];
    snprintf(b, sizeof b, "%.3f", gale__hist_quantile(hist, q) / 1e6);
    return json_string(b);
}
static json_t *fixed3(double v) {
    char b[32];
    snprintf(b, sizeof b, "%.3f", v);
    return json_string(b);
}

/* latency name ("completeLatency") and its percentiles into o */
static void put_latency(json_t *o, const char *name, const agg_t *a, int which, int n_idx,
                        int s_idx) {
    char k[64];
    json_object_set_new(o, name, ms(a->c[s_idx], a->c[n_idx]));
    static const struct {
        const char *suffix;
        double q;
    } qs[] = {{"P50", 0.5}, {"P99", 0.99}, {"P999", 0.999}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(k, sizeof k, "%s%s", name, qs[i].suffix);
        json_object_set_new(o, k, ms_q(a->hist[which], qs[i].q));
    }
}
static void put_complete(json_t *o, const agg_t *a) {
    put_latency(o, "completeLatency", a, GALE__LAT_COMPLETE, GALE__WS_COMPLETE_SAMPLES,
                GALE__WS_COMPLETE_NS);
}
static void put_execute(json_t *o, const agg_t *a) {
    put_latency(o, "executeLatency", a, GALE__LAT_EXECUTE, GALE__WS_EXECUTE_SAMPLES,
                GALE__WS_EXECUTE_NS);
}
static void put_process(json_t *o, const agg_t *a) {
    put_latency(o, "processLatency", a, GALE__LAT_PROCESS, GALE__WS_PROCESS_SAMPLES,
                GALE__WS_PROCESS_NS);
}
static uint64_t failed(const agg_t *a) {
    return a->c[GALE__WS_FAILED_TIMEOUT] + a->c[GALE__WS_FAILED_EXPLICIT];
}

static void log_link(char *out, size_t cap, json_t *topo, const char *host, int64_t port) {
    /* the log page (Storm's /api/v1/log?file=) of the supervisor's logviewer
     * (supervisor/logviewer.h) serving that worker's log: a browser link */
    int64_t lv = 0;
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(topo, "workers"), i, w) {
        if (json_integer_value(json_object_get(w, "port")) == port &&
            strcmp(json_string_value(json_object_get(w, "host")) ?: "", host) == 0)
            lv = json_integer_value(json_object_get(w, "logviewer_port"));
    }
    const char *id = json_string_value(json_object_get(topo, "id")) ?: "";
    snprintf(out, cap, "http://%s:%lld/api/v1/log?file=%s/%lld/worker.log", host, (long long)lv, id,
             (long long)port);
}

static void put_error(json_t *o, json_t *topo, const agg_t *a) {
    json_t *e = a->last_error;
    const char *host = e ? json_string_value(json_object_get(e, "host")) : NULL;
    int64_t port = e ? json_integer_value(json_object_get(e, "port")) : 0;
    char link[1024] = "";
    if (host) log_link(link, sizeof link, topo, host, port);
    json_object_set_new(o, "lastError",
                        json_string(e ? json_string_value(json_object_get(e, "error")) ?: "" : ""));
    json_object_set_new(o, "errorHost", json_string(host ? host : ""));
    json_object_set_new(o, "errorPort", e ? json_integer(port) : json_string(""));
    json_object_set_new(o, "errorWorkerLogLink", json_string(link));
    json_object_set_new(o, "errorLapsedSecs",
                        e ? json_integer((gale__wall_ms() - a->last_error_ms) / 1000)
                          : json_null());
    json_object_set_new(o, "errorTime", e ? json_integer(a->last_error_ms / 1000) : json_null());
}

/* ---------- small helpers ---------- */

static json_t *find_topo(json_t *doc, const char *id) {
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "topologies"), i, t) {
        const char *x = json_string_value(json_object_get(t, "id"));
        const char *n = json_string_value(json_object_get(t, "name"));
        if ((x && strcmp(x, id) == 0) || (n && strcmp(n, id) == 0)) return t;
    }
    return NULL;
}

static json_t *find_comp(json_t *topo, const char *id) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(topo, "components"), i, c) {
        const char *x = json_string_value(json_object_get(c, "id"));
        if (x && strcmp(x, id) == 0) return c;
    }
    return NULL;
}

static bool parse_window(const char *w, unsigned *out) {
    if (!w || strcmp(w, ":all-time") == 0 || strcmp(w, "all-time") == 0) {
        *out = 0;
        return true;
    }
    /* Storm's windows only: nimbus keeps no others (another number would
     * silently answer for all time) */
    static const unsigned windows[] = {600, 10800, 86400};
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "%u", windows[i]);
        if (strcmp(w, name) == 0) {
            *out = windows[i];
            return true;
        }
    }
    return false;
}

static bool parse_wait(const char *s, unsigned *out) {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || s[0] == '-' || s[0] == '+' || v > WAIT_MAX) return false;
    *out = (unsigned)v;
    return true;
}

/* Stats of one topology (window), or answers the error. */
static json_t *stats_or_error(gale__ui_t *ui, const char *topology, unsigned window,
                              gale__ui_answer_t *a) {
    json_t *doc;
    char err[1024];
    unsigned st = gale__ui_stats(ui, topology, window, &doc, err, sizeof err);
    if (st == 404)
        gale__ui_error(a, 404, "no topology '%s' (see /api/v1/topology/summary)",
                       topology ? topology : "");
    else if (st)
        gale__ui_error(a, st, "nimbus: %s", err);
    return st ? NULL : doc;
}

/* The topology id (or name) in the stats of window, with the stats in
 * *doc for the caller to release; NULL once the answer is given (nimbus
 * unreachable, or a 404 for an id it does not hold). */
static json_t *topo_or_404(gale__ui_t *ui, const char *id, unsigned window, gale__ui_answer_t *a,
                           json_t **doc) {
    *doc = stats_or_error(ui, id, window, a);
    if (!*doc) return NULL;
    json_t *topo = find_topo(*doc, id);
    if (!topo) {
        json_decref(*doc);
        *doc = NULL;
        gale__ui_error(a, 404, "no topology '%s'", id);
    }
    return topo;
}

/* ---------- GET: summaries ---------- */

static void cluster_summary(gale__ui_t *ui, gale__ui_answer_t *a) {
    json_t *doc = stats_or_error(ui, NULL, 0, a);
    if (!doc) return;
    uint64_t slots = 0, used = 0, execs = 0, tasks = 0;
    size_t i, n_sup = 0;
    json_t *s, *t;
    json_array_foreach(json_object_get(doc, "supervisors"), i, s) {
        if (!json_is_true(json_object_get(s, "alive"))) continue;
        n_sup++;
        slots += jint(s, "slots_total");
        used += jint(s, "slots_used");
    }
    json_array_foreach(json_object_get(doc, "topologies"), i, t) {
        execs += jint(t, "executors_n");
        tasks += jint(t, "tasks_n");
    }
    json_t *nim = json_object_get(doc, "nimbus");
    uint64_t up = jint(nim, "uptime_secs");
    json_t *o = json_pack(
        "{sssIsIsIsIsIsIsIsIsIsI}", "stormVersion", "gale-0.1.0", "supervisors", (json_int_t)n_sup,
        "topologies", (json_int_t)json_array_size(json_object_get(doc, "topologies")), "slotsTotal",
        (json_int_t)slots, "slotsUsed", (json_int_t)used, "slotsFree",
        (json_int_t)(slots > used ? slots - used : 0), "executorsTotal", (json_int_t)execs,
        "tasksTotal", (json_int_t)tasks, "nimbusUptimeSeconds", (json_int_t)up, "nimbusUptime",
        (json_int_t)up, "nimbusPort", (json_int_t)jint(nim, "port"));
    json_decref(doc);
    gale__ui_json(a, 200, o);
}

/* Storm's uptime string beside the seconds: "4s", "3m 4s", "2h 3m 4s",
 * "1d 2h 3m 4s" (leading zero units left out). Sets o[text] from
 * o[secs]; returns o. */
static json_t *pretty_uptime(json_t *o, const char *secs, const char *text) {
    json_int_t t = json_integer_value(json_object_get(o, secs));
    long long d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60, sec = t % 60;
    char buf[64];
    if (d)
        snprintf(buf, sizeof buf, "%lldd %lldh %lldm %llds", d, h, m, sec);
    else if (h)
        snprintf(buf, sizeof buf, "%lldh %lldm %llds", h, m, sec);
    else if (m)
        snprintf(buf, sizeof buf, "%lldm %llds", m, sec);
    else
        snprintf(buf, sizeof buf, "%llds", sec);
    if (o) json_object_set_new(o, text, json_string(buf));
    return o;
}

static void cluster_configuration(gale__ui_t *ui, gale__ui_answer_t *a) {
    gale_conf_t *c = gale_conf_new();
    json_t *o = json_object();
    if (!c || !o || gale__conf_set_defaults(c)) goto oom;
    const gale_conf_t *mine = gale__ui_conf(ui);
    for (size_t i = 0; i < gale_conf_count(mine); i++) {
        const gale_value_t *v;
        const char *k = gale_conf_key_at(mine, i, &v);
        if (k && gale_conf_set(c, k, *v)) goto oom;
    }
    for (size_t i = 0; i < gale_conf_count(c); i++) {
        const gale_value_t *v;
        const char *k = gale_conf_key_at(c, i, &v);
        int rc;
        char err[128];
        json_t *j = strstr(k, "password") ? json_string("****")
                                          : gale__value_to_json(v, &rc, err, sizeof err);
        if (j) json_object_set_new(o, k, j); /* a value JSON cannot hold is left out */
    }
    gale_conf_destroy(c);
    return gale__ui_json(a, 200, o);
oom:
    gale_conf_destroy(c);
    json_decref(o);
    gale__ui_error(a, 503, "gale ui is out of memory");
}

static void nimbus_summary(gale__ui_t *ui, gale__ui_answer_t *a) {
    json_t *doc = stats_or_error(ui, NULL, 0, a);
    if (!doc) return;
    json_t *nim = json_object_get(doc, "nimbus");
    json_t *n = pretty_uptime(json_pack("{sssIsssssI}", "host", "127.0.0.1", "port",
                                        (json_int_t)jint(nim, "port"), "status", "Leader",
                                        "version", "gale-0.1.0", "nimbusUpTimeSeconds",
                                        (json_int_t)jint(nim, "uptime_secs")),
                              "nimbusUpTimeSeconds", "nimbusUpTime");
    json_t *o = json_pack("{s[o]}", "nimbuses", n);
    json_decref(doc);
    gale__ui_json(a, 200, o);
}

static void supervisor_summary(gale__ui_t *ui, gale__ui_answer_t *a) {
    json_t *doc = stats_or_error(ui, NULL, 0, a);
    if (!doc) return;
    json_t *arr = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "supervisors"), i, s) {
        json_array_append_new(
            arr, pretty_uptime(json_pack("{sOsOsIsIsIsIsOsb}", "id", json_object_get(s, "id"),
                                         "host", json_object_get(s, "host"), "uptimeSeconds",
                                         (json_int_t)jint(s, "uptime_secs"), "uptime",
                                         (json_int_t)jint(s, "uptime_secs"), "slotsTotal",
                                         (json_int_t)jint(s, "slots_total"), "slotsUsed",
                                         (json_int_t)jint(s, "slots_used"), "logviewerPort",
                                         json_object_get(s, "logviewer_port"), "alive",
                                         json_is_true(json_object_get(s, "alive"))),
                               "uptimeSeconds", "uptime"));
    }
    json_decref(doc);
    gale__ui_json(a, 200, json_pack("{sosb}", "supervisors", arr, "schedulerDisplayResource", 0));
}

static json_t *topo_summary_item(json_t *t) {
    return pretty_uptime(
        json_pack("{sOsOsOsOsIsIsIsIsIsIsb}", "id", json_object_get(t, "id"), "encodedId",
                  json_object_get(t, "id"), "name", json_object_get(t, "name"), "status",
                  json_object_get(t, "status"), "uptimeSeconds", (json_int_t)jint(t, "uptime_secs"),
                  "uptime", (json_int_t)jint(t, "uptime_secs"), "tasksTotal",
                  (json_int_t)jint(t, "tasks_n"), "workersTotal", (json_int_t)jint(t, "workers_n"),
                  "executorsTotal", (json_int_t)jint(t, "executors_n"), "workerRestarts",
                  (json_int_t)jint(t, "restarts"), "countsExact", 1),
        "uptimeSeconds", "uptime");
}

static void topology_summary(gale__ui_t *ui, gale__ui_answer_t *a) {
    json_t *doc = stats_or_error(ui, NULL, 0, a);
    if (!doc) return;
    json_t *arr = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "topologies"), i, t)
        json_array_append_new(arr, topo_summary_item(t));
    json_decref(doc);
    gale__ui_json(a, 200, json_pack("{so}", "topologies", arr));
}

/* ---------- GET: one topology ---------- */

static json_t *spout_row(json_t *topo, json_t *c, unsigned window) {
    const char *id = json_string_value(json_object_get(c, "id"));
    agg_t g;
    agg_component(&g, topo, id, window);
    json_t *o = json_pack(
        "{sssssIsIsIsIsIsIsIsI}", "spoutId", id, "encodedSpoutId", id, "executors",
        (json_int_t)jint(c, "executors"), "tasks", (json_int_t)jint(c, "tasks"), "emitted",
        (json_int_t)g.c[GALE__WS_EMITTED], "transferred", (json_int_t)g.c[GALE__WS_TRANSFERRED],
        "acked", (json_int_t)g.c[GALE__WS_ACKED], "failed", (json_int_t)failed(&g), "failedTimeout",
        (json_int_t)g.c[GALE__WS_FAILED_TIMEOUT], "failedExplicit",
        (json_int_t)g.c[GALE__WS_FAILED_EXPLICIT]);
    put_complete(o, &g);
    put_error(o, topo, &g);
    return o;
}

static json_t *bolt_row(json_t *topo, json_t *c, unsigned window) {
    const char *id = json_string_value(json_object_get(c, "id"));
    agg_t g;
    agg_component(&g, topo, id, window);
    json_t *o = json_pack(
        "{sssssIsIsIsIsIsIsIsIsosIsI}", "boltId", id, "encodedBoltId", id, "executors",
        (json_int_t)jint(c, "executors"), "tasks", (json_int_t)jint(c, "tasks"), "emitted",
        (json_int_t)g.c[GALE__WS_EMITTED], "transferred", (json_int_t)g.c[GALE__WS_TRANSFERRED],
        "executed", (json_int_t)g.c[GALE__WS_EXECUTED], "acked", (json_int_t)g.c[GALE__WS_ACKED],
        "failed", (json_int_t)failed(&g), "failedExplicit",
        (json_int_t)g.c[GALE__WS_FAILED_EXPLICIT], "capacity", fixed3(g.capacity),
        "backpressureWaitMs", (json_int_t)(g.c[GALE__WS_BACKPRESSURE_NS] / 1000000), "queueDepth",
        (json_int_t)g.c[GALE__WS_QUEUE_DEPTH]);
    put_execute(o, &g);
    put_process(o, &g);
    put_error(o, topo, &g);
    return o;
}

static json_t *topology_stats_row(json_t *topo, unsigned window) {
    agg_t g, sp;
    memset(&sp, 0, sizeof sp);
    agg_component(&g, topo, NULL, window);
    /* acked, failed, complete latency, emitted: of the spouts, as Storm shows them; emitted and
     * transferred: of every user component (system components left out) */
    size_t i;
    json_t *c;
    uint64_t emitted = 0, transferred = 0;
    json_array_foreach(json_object_get(topo, "components"), i, c) {
        agg_t x;
        agg_component(&x, topo, json_string_value(json_object_get(c, "id")), window);
        emitted += x.c[GALE__WS_EMITTED];
        transferred += x.c[GALE__WS_TRANSFERRED];
        if (strcmp(json_string_value(json_object_get(c, "type")) ?: "", "spout") == 0) {
            for (int k = 0; k < GALE__WS_N; k++) sp.c[k] += x.c[k];
            for (int h = 0; h < GALE__LAT_N; h++)
                for (int b = 0; b < GALE__HIST_BINS; b++) sp.hist[h][b] += x.hist[h][b];
        }
    }
    json_t *o = json_pack("{sosssIsIsIsI}", "window", window_name(window), "windowPretty",
                          window_pretty(window), "emitted", (json_int_t)emitted, "transferred",
                          (json_int_t)transferred, "acked", (json_int_t)sp.c[GALE__WS_ACKED],
                          "failed", (json_int_t)failed(&sp));
    put_complete(o, &sp);
    return o;
}

static json_t *workers_rows(json_t *topo) {
    json_t *arr = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(topo, "workers"), i, w) {
        const char *host = json_string_value(json_object_get(w, "host")) ?: "";
        int64_t port = json_integer_value(json_object_get(w, "port"));
        char link[1024];
        log_link(link, sizeof link, topo, host, port);
        uint64_t up = 0, n_exec = 0;
        size_t k;
        json_t *ex, *tasks = json_object(); /* Storm's componentNumTasks: {component: tasks} */
        json_array_foreach(json_object_get(topo, "executors"), k, ex) {
            if (json_integer_value(json_object_get(ex, "port")) != port ||
                strcmp(json_string_value(json_object_get(ex, "host")) ?: "", host) != 0)
                continue;
            n_exec++;
            if (!up || jint(ex, "uptime_secs") < up) up = jint(ex, "uptime_secs");
            const char *comp = json_string_value(json_object_get(ex, "component")) ?: "";
            json_object_set_new(tasks, comp,
                                json_integer((json_int_t)(jint(tasks, comp) + jint(ex, "end") -
                                                          jint(ex, "start") + 1)));
        }
        json_array_append_new(
            arr,
            pretty_uptime(json_pack("{sOsssIsssIsIsIsIsOsbsosO?}", "supervisorId",
                                    json_object_get(w, "supervisor"), "host", host, "port",
                                    (json_int_t)port, "workerLogLink", link, "uptimeSeconds",
                                    (json_int_t)up, "uptime", (json_int_t)up, "executorsTotal",
                                    (json_int_t)n_exec, "restarts", (json_int_t)jint(w, "restarts"),
                                    "state", json_object_get(w, "state"), "alive",
                                    json_is_true(json_object_get(w, "alive")), "componentNumTasks",
                                    tasks, "logviewerPort", json_object_get(w, "logviewer_port")),
                          "uptimeSeconds", "uptime"));
    }
    return arr;
}

static void topology_page(gale__ui_t *ui, const char *id, unsigned window, gale__ui_answer_t *a) {
    json_t *doc, *topo = topo_or_404(ui, id, window, a, &doc);
    if (!topo) return;
    json_t *o = topo_summary_item(topo);
    json_object_set_new(o, "window", window_name(window));
    json_object_set_new(o, "windowHint", json_string(window_pretty(window)));
    json_t *stats = json_array();
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        if (windows[w] == window) {
            json_array_append_new(stats, topology_stats_row(topo, window));
            continue;
        }
        json_t *d2 = stats_or_error(ui, id, windows[w], a);
        if (!d2) {
            json_decref(o);
            json_decref(stats);
            json_decref(doc);
            return; /* a answered */
        }
        json_t *t2 = find_topo(d2, id);
        if (t2) json_array_append_new(stats, topology_stats_row(t2, windows[w]));
        json_decref(d2);
    }
    json_object_set_new(o, "topologyStats", stats);
    json_t *spouts = json_array(), *bolts = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(topo, "components"), i, c) {
        bool spout = strcmp(json_string_value(json_object_get(c, "type")) ?: "", "spout") == 0;
        json_array_append_new(spout ? spouts : bolts,
                              spout ? spout_row(topo, c, window) : bolt_row(topo, c, window));
    }
    json_object_set_new(o, "spouts", spouts);
    json_object_set_new(o, "bolts", bolts);
    json_object_set_new(o, "workers", workers_rows(topo));
    json_decref(doc);
    gale__ui_json(a, 200, o);
}

/* GET topology-workers/{id}: Storm's {"hostPortList": [{host, port}…],
 * "logviewerPort"} with each worker's row of the topology page
 * (supervisorId, uptime, executorsTotal, componentNumTasks, workerLogLink,
 * its own supervisor's logviewerPort: supervisors may differ). */
static void topology_workers(gale__ui_t *ui, const char *id, gale__ui_answer_t *a) {
    json_t *doc, *topo = topo_or_404(ui, id, 0, a, &doc);
    if (!topo) return;
    json_t *o =
        json_pack("{sosI}", "hostPortList", workers_rows(topo), "logviewerPort",
                  (json_int_t)gale_conf_get_int(gale__ui_conf(ui), GALE_CONF_LOGVIEWER_PORT, 8000));
    json_decref(doc);
    gale__ui_json(a, 200, o);
}

/* GET history/summary: Storm's {"topo-history": [id…]}, the topologies
 * submitted by the user asking. Gale has no users: it lists the last 16
 * topologies nimbus removed since it started (it keeps them in memory,
 * for `gale logs`), then every one it holds now (active, inactive or being
 * killed), oldest first. */
static void history_summary(gale__ui_t *ui, gale__ui_answer_t *a) {
    json_t *doc = stats_or_error(ui, NULL, 0, a);
    if (!doc) return;
    json_t *ids = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "removed"), i, t) if (json_is_string(t))
        json_array_append(ids, t);
    json_array_foreach(json_object_get(doc, "topologies"), i, t)
        json_array_append(ids, json_object_get(t, "id"));
    json_decref(doc);
    gale__ui_json(a, 200, json_pack("{so}", "topo-history", ids));
}

/* GET topology/{id}/lag: Storm answers a lag entry per Kafka spout and
 * leaves every other spout out (TopologySpoutLag), so a topology without
 * Kafka spouts gets {}. Gale's spouts have no lag source: {} for any
 * topology there is, 404 for one there is not. */
static void topology_lag(gale__ui_t *ui, const char *id, gale__ui_answer_t *a) {
    json_t *doc;
    if (!topo_or_404(ui, id, 0, a, &doc)) return;
    json_decref(doc);
    gale__ui_json(a, 200, json_object());
}

static json_t *executor_row(json_t *topo, json_t *ex, bool spout, unsigned window) {
    agg_t g;
    memset(&g, 0, sizeof g);
    agg_add(&g, ex, window);
    char eid[64], link[1024];
    snprintf(eid, sizeof eid, "[%llu-%llu]", (unsigned long long)jint(ex, "start"),
             (unsigned long long)jint(ex, "end"));
    const char *host = json_string_value(json_object_get(ex, "host")) ?: "";
    int64_t port = json_integer_value(json_object_get(ex, "port"));
    log_link(link, sizeof link, topo, host, port);
    json_t *o = json_pack(
        "{sssssIsIsssIsssIsIsIsIsIsI}", "id", eid, "encodedId", eid, "uptimeSeconds",
        (json_int_t)jint(ex, "uptime_secs"), "uptime", (json_int_t)jint(ex, "uptime_secs"), "host",
        host, "port", (json_int_t)port, "workerLogLink", link, "emitted",
        (json_int_t)g.c[GALE__WS_EMITTED], "transferred", (json_int_t)g.c[GALE__WS_TRANSFERRED],
        "acked", (json_int_t)g.c[GALE__WS_ACKED], "failed", (json_int_t)failed(&g), "queueDepth",
        (json_int_t)g.c[GALE__WS_QUEUE_DEPTH], "backpressureWaitMs",
        (json_int_t)(g.c[GALE__WS_BACKPRESSURE_NS] / 1000000));
    pretty_uptime(o, "uptimeSeconds", "uptime");
    if (spout) {
        put_complete(o, &g);
    } else {
        json_object_set_new(o, "executed", json_integer((json_int_t)g.c[GALE__WS_EXECUTED]));
        json_object_set_new(o, "capacity", fixed3(g.capacity));
        put_execute(o, &g);
        put_process(o, &g);
    }
    return o;
}

/* The sum over comp's executors of their rows in list ("streams": per
 * output stream, "inputs": per input) naming stream sid (and, for
 * inputs, source component src): n counters in nimbus's order (nimbus/stats.c
 * s_names, i_names) into v. */
static void stream_sum(json_t *topo, const char *comp, const char *list, const char *src,
                       const char *sid, uint64_t *v, size_t n) {
    static const char *const out_names[] = {"emitted", "transferred",      "acked",
                                            "failed",  "complete_samples", "complete_ns"};
    static const char *const in_names[] = {"executed",        "acked",      "failed",
                                           "execute_samples", "execute_ns", "process_samples",
                                           "process_ns"};
    const char *const *names = src ? in_names : out_names;
    size_t k, j;
    json_t *ex, *st;
    json_array_foreach(json_object_get(topo, "executors"), k, ex) {
        if (strcmp(json_string_value(json_object_get(ex, "component")) ?: "", comp)) continue;
        json_array_foreach(json_object_get(ex, list), j, st) {
            const char *id = json_string_value(json_object_get(st, src ? "stream" : "id"));
            const char *from = json_string_value(json_object_get(st, "component"));
            if (!id || strcmp(id, sid) || (src && (!from || strcmp(from, src)))) continue;
            for (size_t x = 0; x < n; x++) v[x] += jint(st, names[x]);
        }
    }
}

static void component_page(gale__ui_t *ui, const char *id, const char *comp, unsigned window,
                           gale__ui_answer_t *a) {
    json_t *doc = stats_or_error(ui, id, window, a);
    if (!doc) return;
    json_t *topo = find_topo(doc, id), *c = topo ? find_comp(topo, comp) : NULL;
    if (!c) {
        json_decref(doc);
        return gale__ui_error(a, 404, "topology '%s' has no component '%s'", id, comp);
    }
    bool spout = strcmp(json_string_value(json_object_get(c, "type")) ?: "", "spout") == 0;
    json_t *o = json_pack(
        "{sssssssOsOsOsIsIsosssb}", "id", comp, "name", comp, "componentType",
        spout ? "spout" : "bolt", "topologyId", json_object_get(topo, "id"), "encodedTopologyId",
        json_object_get(topo, "id"), "topologyStatus", json_object_get(topo, "status"), "executors",
        (json_int_t)jint(c, "executors"), "tasks", (json_int_t)jint(c, "tasks"), "window",
        window_name(window), "windowHint", window_pretty(window), "countsExact", 1);
    /* the component's totals for this window, as the one row Storm shows per window */
    json_t *row = spout ? spout_row(topo, c, window) : bolt_row(topo, c, window);
    json_object_set_new(row, "window", window_name(window));
    json_object_set_new(row, "windowPretty", json_string(window_pretty(window)));
    json_object_set_new(o, spout ? "spoutSummary" : "boltStats", json_pack("[o]", row));
    /* per output stream and per input: the executors' rows of that stream summed */
    json_t *outs = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(c, "streams"), i, s) {
        const char *sid = json_string_value(s) ?: "";
        uint64_t v[6] = {0}; /* emitted, transferred, acked, failed, complete_samples, _ns */
        stream_sum(topo, comp, "streams", NULL, sid, v, 6);
        json_t *r = json_pack("{sssIsI}", "stream", sid, "emitted", (json_int_t)v[0], "transferred",
                              (json_int_t)v[1]);
        if (spout) {
            json_object_set_new(r, "acked", json_integer((json_int_t)v[2]));
            json_object_set_new(r, "failed", json_integer((json_int_t)v[3]));
            json_object_set_new(r, "completeLatency", ms(v[5], v[4]));
        }
        json_array_append_new(outs, r);
    }
    json_object_set_new(o, "outputStats", outs);
    if (!spout) {
        json_t *ins = json_array();
        json_array_foreach(json_object_get(c, "inputs"), i, s) {
            const char *src = json_string_value(json_object_get(s, "component")) ?: "";
            const char *sid = json_string_value(json_object_get(s, "stream")) ?: "";
            uint64_t v[7] = {0}; /* executed, acked, failed, execute_samples, _ns, process_… */
            stream_sum(topo, comp, "inputs", src, sid, v, 7);
            json_array_append_new(ins,
                                  json_pack("{sssssIsIsIsoso}", "component", src, "stream", sid,
                                            "executed", (json_int_t)v[0], "acked", (json_int_t)v[1],
                                            "failed", (json_int_t)v[2], "executeLatency",
                                            ms(v[4], v[3]), "processLatency", ms(v[6], v[5])));
        }
        json_object_set_new(o, "inputStats", ins);
    }
    size_t k;
    json_t *ex;
    json_t *execs = json_array(), *errs = json_array();
    json_array_foreach(json_object_get(topo, "executors"), k, ex) {
        if (strcmp(json_string_value(json_object_get(ex, "component")) ?: "", comp)) continue;
        json_array_append_new(execs, executor_row(topo, ex, spout, window));
        size_t j;
        json_t *e;
        json_array_foreach(json_object_get(ex, "errors"), j, e) {
            const char *host = json_string_value(json_object_get(e, "host")) ?: "";
            int64_t port = json_integer_value(json_object_get(e, "port"));
            int64_t t = json_integer_value(json_object_get(e, "time_ms"));
            char link[1024];
            log_link(link, sizeof link, topo, host, port);
            json_array_append_new(errs, json_pack("{sIsssIsssIsO}", "time", (json_int_t)(t / 1000),
                                                  "errorHost", host, "errorPort", (json_int_t)port,
                                                  "errorWorkerLogLink", link, "errorLapsedSecs",
                                                  (json_int_t)((gale__wall_ms() - t) / 1000),
                                                  "error", json_object_get(e, "error")));
        }
    }
    json_object_set_new(o, "executorStats", execs);
    json_object_set_new(o, "componentErrors", errs);
    json_decref(doc);
    gale__ui_json(a, 200, o);
}

static void visualization(gale__ui_t *ui, const char *id, unsigned window, gale__ui_answer_t *a) {
    json_t *doc, *topo = topo_or_404(ui, id, window, a, &doc);
    if (!topo) return;
    json_t *o = json_object();
    size_t i, k;
    json_t *c, *in;
    json_array_foreach(json_object_get(topo, "components"), i, c) {
        const char *cid = json_string_value(json_object_get(c, "id")) ?: "";
        agg_t g;
        agg_component(&g, topo, cid, window);
        json_t *inputs = json_array();
        json_array_foreach(json_object_get(c, "inputs"), k, in) json_array_append_new(
            inputs,
            json_pack("{sOsOsOsO}", ":component", json_object_get(in, "component"), ":stream",
                      json_object_get(in, "stream"), ":sani-stream", json_object_get(in, "stream"),
                      ":grouping", json_object_get(in, "grouping")));
        bool spout = strcmp(json_string_value(json_object_get(c, "type")) ?: "", "spout") == 0;
        char link[512];
        snprintf(link, sizeof link, "/api/v1/topology/%s/component/%s",
                 json_string_value(json_object_get(topo, "id")) ?: "", cid);
        json_t *v =
            json_pack("{sssosIsssoso}", ":type", spout ? "spout" : "bolt", ":capacity",
                      fixed3(g.capacity), ":transferred", (json_int_t)g.c[GALE__WS_TRANSFERRED],
                      ":link", link, ":inputs", inputs, ":latency",
                      spout ? ms(g.c[GALE__WS_COMPLETE_NS], g.c[GALE__WS_COMPLETE_SAMPLES])
                            : ms(g.c[GALE__WS_PROCESS_NS], g.c[GALE__WS_PROCESS_SAMPLES]));
        json_object_set_new(o, cid, v);
    }
    json_decref(doc);
    gale__ui_json(a, 200, o);
}

/* ---------- POST: life cycle ---------- */

static void operation(gale__ui_t *ui, const char *id, const char *op, const char *arg,
                      const char *body, size_t body_len, gale__ui_answer_t *a) {
    unsigned wait = 0;
    bool has_wait = arg != NULL;
    if (has_wait && !parse_wait(arg, &wait))
        return gale__ui_error(a, 400, "%s: wait '%.64s' must be 0..%d seconds", op, arg, WAIT_MAX);
    json_t *doc, *topo = topo_or_404(ui, id, 0, a, &doc);
    if (!topo) return;
    char name[GALE_NAME_MAX + 1], tid[256];
    snprintf(name, sizeof name, "%s", json_string_value(json_object_get(topo, "name")) ?: "");
    snprintf(tid, sizeof tid, "%s", json_string_value(json_object_get(topo, "id")) ?: "");
    json_decref(doc);

    char err[1024];
    unsigned st;
    if (strcmp(op, "kill") == 0) {
        gale__ctl_kill_t m = {name, has_wait ? wait : GALE_CTL_UNSET};
        st = gale__ui_lifecycle(ui, GALE_CTL_KILL, &m, err, sizeof err);
    } else if (strcmp(op, "activate") == 0) {
        gale__ctl_activate_t m = {name};
        st = gale__ui_lifecycle(ui, GALE_CTL_ACTIVATE, &m, err, sizeof err);
    } else if (strcmp(op, "deactivate") == 0) {
        gale__ctl_deactivate_t m = {name};
        st = gale__ui_lifecycle(ui, GALE_CTL_DEACTIVATE, &m, err, sizeof err);
    } else { /* rebalance */
        gale__ctl_rebalance_t m = {
            name, has_wait ? wait : GALE_CTL_UNSET, GALE_CTL_UNSET, {NULL, 0}};
        gale__ctl_component_count_t counts[64];
        json_t *j = NULL;
        if (body && body_len) {
            json_error_t je;
            j = json_loadb(body, body_len, 0, &je);
            if (!j || !json_is_object(j)) {
                json_decref(j);
                return gale__ui_error(a, 400, "rebalance: the body is not a JSON object (%s)",
                                      je.text);
            }
            json_t *ro = json_object_get(j, "rebalanceOptions");
            if (ro && !json_is_object(ro)) {
                json_decref(j);
                return gale__ui_error(a, 400, "rebalance: rebalanceOptions must be an object");
            }
            json_t *nw = ro ? json_object_get(ro, "numWorkers") : NULL;
            if (nw) {
                if (!json_is_integer(nw) || json_integer_value(nw) < 1 ||
                    json_integer_value(nw) > 1024) {
                    json_decref(j);
                    return gale__ui_error(a, 400, "rebalance: numWorkers must be 1..1024");
                }
                m.workers = (uint64_t)json_integer_value(nw);
            }
            json_t *ex = ro ? json_object_get(ro, "executors") : NULL;
            if (ex) {
                const char *k;
                json_t *v;
                if (!json_is_object(ex) || json_object_size(ex) > 64) {
                    json_decref(j);
                    return gale__ui_error(
                        a, 400,
                        "rebalance: executors must be an object {component: count} (<= 64)");
                }
                json_object_foreach(ex, k, v) {
                    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                        json_integer_value(v) > 65536 || strlen(k) > GALE_NAME_MAX || !*k) {
                        json_decref(j);
                        return gale__ui_error(
                            a, 400, "rebalance: executors of '%.128s' must be 1..65536", k);
                    }
                    counts[m.executors.n++] =
                        (gale__ctl_component_count_t){k, (uint64_t)json_integer_value(v)};
                }
                m.executors.items = counts;
            }
        }
        st = gale__ui_lifecycle(ui, GALE_CTL_REBALANCE, &m, err, sizeof err);
        json_decref(j); /* after the call: counts point into it */
    }
    if (st) return gale__ui_error(a, st, "%s: %s", op, err);
    gale__ui_json(
        a, 200,
        json_pack("{ssssss}", "topologyOperation", op, "topologyId", tid, "status", "success"));
}

/* ---------- routing ---------- */

void gale__ui_rest(gale__ui_t *ui, const char *method, const char *path, const char *window_arg,
                   const char *body, size_t body_len, gale__ui_answer_t *a) {
    bool post = strcmp(method, "POST") == 0;
    char buf[1100];
    snprintf(buf, sizeof buf, "%s", path);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '/') buf[--n] = '\0';
    char *seg[8];
    int ns = 0;
    for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (ns == 8) return gale__ui_error(a, 404, "no such API path: /api/v1/%.200s", path);
        seg[ns++] = t;
    }
    unsigned window = 0;
    if (!parse_window(window_arg, &window))
        return gale__ui_error(a, 400, "window '%.64s': use 600, 10800, 86400 or :all-time",
                              window_arg);
    bool get = !post;
#define IS(i, s) (ns > (i) && strcmp(seg[i], s) == 0)
    if (ns == 2 && get && IS(1, "summary")) {
        if (IS(0, "cluster")) return cluster_summary(ui, a);
        if (IS(0, "nimbus")) return nimbus_summary(ui, a);
        if (IS(0, "supervisor")) return supervisor_summary(ui, a);
        if (IS(0, "topology")) return topology_summary(ui, a);
    }
    if (ns == 2 && get && IS(0, "cluster") && IS(1, "configuration"))
        return cluster_configuration(ui, a);
    if (ns == 2 && get && IS(0, "history") && IS(1, "summary")) return history_summary(ui, a);
    if (ns == 2 && get && IS(0, "topology-workers")) return topology_workers(ui, seg[1], a);
    if (IS(0, "topology") && ns >= 2 && !IS(1, "summary")) {
        const char *id = seg[1];
        if (ns == 2 && get) return topology_page(ui, id, window, a);
        if (ns == 3 && get && IS(2, "visualization")) return visualization(ui, id, window, a);
        if (ns == 3 && get && IS(2, "lag")) return topology_lag(ui, id, a);
        if (ns == 4 && get && IS(2, "component")) return component_page(ui, id, seg[3], window, a);
        bool op = IS(2, "activate") || IS(2, "deactivate") || IS(2, "rebalance") || IS(2, "kill");
        if (op && !post) return gale__ui_error(a, 405, "%s is a POST action", seg[2]);
        if (post && ns == 3 && (IS(2, "activate") || IS(2, "deactivate")))
            return operation(ui, id, seg[2], NULL, body, body_len, a);
        if (post && ns == 4 && (IS(2, "rebalance") || IS(2, "kill")))
            return operation(ui, id, seg[2], seg[3], body, body_len, a);
        if (post && ns == 3 && (IS(2, "rebalance") || IS(2, "kill")))
            return operation(ui, id, seg[2], NULL, body, body_len, a);
    }
#undef IS
    gale__ui_error(a, post ? 404 : 404, "no such API path: %s /api/v1/%.200s", method, path);
}
