/*
 * server.c — `gale ui` (ui.h): the daemon, its nimbus link and the HTTP
 * front: method and size limits, routing, and every error as one line of
 * JSON ({"error", "errorMessage"}), so nothing a client sends gets a 500
 * or crashes the daemon.
 *
 * Limits: a request head within GALE_HTTP_HEAD_MAX and the others the
 * gate of common/http_server.c checks (a JSON 400/414/431/505 from there),
 * a POST body of at most BODY_MAX bytes (413), a query value of at most
 * QUERY_MAX bytes (400), CONN_LIMIT connections.
 *
 * No cap per client address when bound to loopback (the default): there
 * every client (each browser tab, curl, the tests) has the same address, so
 * a cap per address is only a smaller total cap and one local client could
 * lock out the others. Storm UI has none either. Bound to another address,
 * one remote host may hold at most PER_IP of the CONN_LIMIT connections.
 * Either way a connection lives for one request (the gate closes it after
 * the answer) and its head must arrive within 10 s, so idle clients hold
 * nothing for long.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/config.h"
#include "common/ctl_socket.h"
#include "common/fileio.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/text.h"
#include "ui/ui.h"

#define UI         "ui"
#define BODY_MAX   65536
#define QUERY_MAX  256
#define CONN_LIMIT 64
#define PER_IP     16 /* only when not bound to loopback, see above */
#define TIMEOUT_S  30
#define NIMBUS_MS  5000 /* every request to nimbus has this deadline */
#define LINKS      4    /* nimbus links: calls to nimbus at once */

/* A link to nimbus: a control client (a ZeroMQ socket, so one thread at a
 * time: its lock). */
typedef struct link {
    pthread_mutex_t lock;
    gale__ctl_client_t client;
    bool open;
} link_t;

struct gale__ui {
    const gale_conf_t *conf;
    char endpoint[GALE_ENDPOINT_MAX];
    void *zctx;
    /* A small pool, so that one slow call (a big topology's stats, a
     * nimbus that does not answer within NIMBUS_MS) holds up only its own
     * request: a call takes a free link, or waits for one (next). */
    link_t links[LINKS];
    atomic_uint next;
};

const gale_conf_t *gale__ui_conf(const gale__ui_t *ui) {
    return ui->conf;
}

/* ---------- answers ---------- */

void gale__ui_json(gale__ui_answer_t *a, unsigned status, json_t *doc) {
    a->status = status;
    a->type = "application/json";
    a->body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!a->body) { /* out of memory: a fixed line still answers */
        a->status = 503;
        a->body = strdup("{\"error\":\"Service Unavailable\",\"errorMessage\":\"out of memory\"}");
    }
    a->len = a->body ? strlen(a->body) : 0;
}

void gale__ui_error(gale__ui_answer_t *a, unsigned status, const char *fmt, ...) {
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    for (char *c = why; *c; c++) /* one line */
        if ((unsigned char)*c < 0x20) *c = ' ';
    gale__ui_json(a, status,
                  json_pack("{ssss}", "error", gale__http_reason(status), "errorMessage", why));
}

/* ---------- the nimbus link ---------- */

/* A free link, locked; when every one is busy, wait for the next in turn. */
static link_t *link_take(gale__ui_t *ui) {
    unsigned first = atomic_fetch_add_explicit(&ui->next, 1, memory_order_relaxed);
    for (unsigned k = 0; k < LINKS; k++) {
        link_t *l = &ui->links[(first + k) % LINKS];
        if (pthread_mutex_trylock(&l->lock) == 0) return l;
    }
    link_t *l = &ui->links[first % LINKS];
    pthread_mutex_lock(&l->lock);
    return l;
}

static unsigned call(gale__ui_t *ui, int type, const void *msg, int want, gale__ctl_msg_t *r,
                     char *err, size_t errlen) {
    link_t *l = link_take(ui);
    if (!l->open) {
        l->open = gale__ctl_client_open(&l->client, ui->zctx, ui->endpoint, err, errlen) == 0;
        if (!l->open) {
            pthread_mutex_unlock(&l->lock);
            return 503;
        }
    }
    int rc = gale__ctl_call(&l->client, (gale__ctl_type_t)type, msg, (gale__ctl_type_t)want,
                            NIMBUS_MS, r, err, errlen);
    pthread_mutex_unlock(&l->lock);
    if (rc == GALE_EIO) return 503;
    if (rc) return 502;
    return 0;
}

unsigned gale__ui_stats(gale__ui_t *ui, const char *topology, unsigned window_secs, json_t **doc,
                        char *err, size_t errlen) {
    *doc = NULL;
    gale__ctl_stats_t q = {topology, window_secs};
    gale__ctl_msg_t r;
    unsigned st = call(ui, GALE_CTL_STATS, &q, GALE_CTL_STATS_REPLY, &r, err, errlen);
    if (st) return st;
    unsigned out = 0;
    if (r.type == GALE_CTL_REPLY) { /* a refusal */
        snprintf(err, errlen, "%s", r.u.reply.error ? r.u.reply.error : "refused");
        out = strstr(err, "no topology") ? 404 : 502;
    } else if (!r.u.stats_reply.ok) {
        snprintf(err, errlen, "%s", r.u.stats_reply.error);
        out = strstr(err, "no topology") ? 404 : 502;
    } else {
        json_error_t je;
        *doc = json_loads(r.u.stats_reply.json, 0, &je);
        if (!*doc || !json_is_object(*doc)) {
            json_decref(*doc);
            *doc = NULL;
            snprintf(err, errlen, "nimbus sent stats that are not a JSON object: %s", je.text);
            out = 502;
        }
    }
    gale__ctl_msg_destroy(&r);
    return out;
}

unsigned gale__ui_lifecycle(gale__ui_t *ui, int type, const void *msg, char *err, size_t errlen) {
    gale__ctl_msg_t r;
    unsigned st = call(ui, type, msg, GALE_CTL_REPLY, &r, err, errlen);
    if (st) return st;
    unsigned out = 0;
    if (!r.u.reply.ok) {
        snprintf(err, errlen, "%s", r.u.reply.error);
        out = strstr(err, "no topology") ? 404 : 400;
    }
    gale__ctl_msg_destroy(&r);
    return out;
}

/* ---------- HTTP ---------- */

typedef struct req {
    char *body;
    size_t len;
    bool too_big;
} req_t;

static enum MHD_Result send_answer(struct MHD_Connection *c, gale__ui_answer_t *a) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        a->len, a->body, a->borrowed ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    if (!r) {
        if (!a->borrowed) free(a->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
    /* an answer is what its type says (a JSON error echoing a path stays
     * JSON), and the pages run only their own scripts, fetch only from here */
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                            "base-uri 'none'");
    return gale__http_queue(c, a->status, r);
}

static void route(gale__ui_t *ui, struct MHD_Connection *c, const char *method, const char *url,
                  req_t *q, gale__ui_answer_t *a) {
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (q->too_big) return gale__ui_error(a, 413, "request body over %d bytes", BODY_MAX);
    if (strlen(url) > 1024) return gale__ui_error(a, 400, "path over 1024 bytes");
    if (!gale__utf8_valid(url, strlen(url)))
        return gale__ui_error(a, 400, "the path is not UTF-8: ids and names are UTF-8 text");
    if (strncmp(url, "/api/v1/", 8) == 0) {
        if (!get && !post)
            return gale__ui_error(a, 405, "%s: the REST API takes GET and POST", method);
        const char *w = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "window");
        if (w && strlen(w) > QUERY_MAX)
            return gale__ui_error(a, 400, "window: over %d bytes", QUERY_MAX);
        if (w && !gale__utf8_valid(w, strlen(w)))
            return gale__ui_error(a, 400, "window: not UTF-8; give 600, 10800, 86400 or :all-time");
        return gale__ui_rest(ui, method, url + 8, w, q->body, q->len, a);
    }
    if (!get) return gale__ui_error(a, 405, "%s %s: only GET is served here", method, url);
    if (strcmp(url, "/metrics") == 0) return gale__ui_metrics(ui, a);
    if (gale__ui_web(url, a)) return;
    gale__ui_error(a, 404, "no such path: %s (the REST API is under /api/v1/, metrics at /metrics)",
                   url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls) {
    (void)version;
    gale__ui_t *ui = cls;
    req_t *q = *con_cls;
    if (!q) { /* the first call: headers only */
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*data_size) { /* body bytes: keep up to BODY_MAX, count the rest as too big */
        if (!q->too_big && q->len + *data_size <= BODY_MAX) {
            char *g = realloc(q->body, q->len + *data_size + 1);
            if (!g) return MHD_NO;
            memcpy(g + q->len, data, *data_size);
            q->body = g;
            q->len += *data_size;
            q->body[q->len] = '\0';
        } else {
            q->too_big = true;
        }
        *data_size = 0;
        return MHD_YES;
    }
    gale__ui_answer_t a = {0};
    route(ui, c, method, url, q, &a);
    return send_answer(c, &a);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)c, (void)toe;
    req_t *q = *con_cls;
    if (q) free(q->body);
    free(q);
    *con_cls = NULL;
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) {
    stop_signal = sig;
}

/* nimbus.seeds[0]:nimbus.port, or the port nimbus wrote when it is 0. */
static void nimbus_endpoint(const gale_conf_t *conf, char *out, size_t cap) {
    const gale_value_t *seeds = gale_conf_get(conf, GALE_CONF_NIMBUS_SEEDS);
    char host[256] = "127.0.0.1";
    if (seeds && seeds->type == GALE_T_ARRAY && seeds->len > 0 && seeds->u.a[0].type == GALE_T_STR)
        snprintf(host, sizeof host, "%.*s", (int)seeds->u.a[0].len, seeds->u.a[0].u.s);
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    int port = (int)gale_conf_get_int(conf, GALE_CONF_NIMBUS_PORT, 6627);
    if (port == 0) {
        char path[4096], err[256];
        void *buf;
        size_t n;
        snprintf(path, sizeof path, "%s/nimbus.port",
                 gale_conf_get_str(conf, GALE_CONF_LOCAL_DIR, "gale-local"));
        if (gale__file_read(path, 64, &buf, &n, err, sizeof err) == 0) {
            port = atoi(buf);
            free(buf);
        }
    }
    gale__endpoint_tcp(out, cap, host, port);
}

int gale__ui_run(const gale_conf_t *conf) {
    gale__log_set_process("ui");
    if (gale__log_open_daemon(conf, "ui", "ui.log")) return 1;
    gale__ui_t ui0 = {0}, *ui = &ui0;
    ui->conf = conf;
    for (int k = 0; k < LINKS; k++) pthread_mutex_init(&ui->links[k].lock, NULL);
    nimbus_endpoint(conf, ui->endpoint, sizeof ui->endpoint);
    ui->zctx = zmq_ctx_new();
    int rc = 1, port = 0;
    char err[1024];
    gale__http_t *d = NULL;
    if (!ui->zctx) goto out;
    signal(SIGPIPE, SIG_IGN);
    const char *host = gale_conf_get_str(conf, GALE_CONF_UI_HOST, "127.0.0.1");
    gale__http_opts_t ho = {.role = UI,
                            .host = host,
                            .host_key = GALE_CONF_UI_HOST,
                            .port = (int)gale_conf_get_int(conf, GALE_CONF_UI_PORT, 8080),
                            .port_key = GALE_CONF_UI_PORT,
                            .conn_limit = CONN_LIMIT,
                            .per_ip = PER_IP,
                            .per_ip_off_on_loopback = true,
                            .timeout_s = TIMEOUT_S,
                            .done = on_done};
    d = gale__http_start(&ho, on_request, ui, &port, err, sizeof err);
    if (!d) {
        GALE_ERROR(UI, 0, "%s", err);
        fprintf(stderr, "gale ui: %s\n", err);
        goto out;
    }
    char line[32], path[4096];
    snprintf(line, sizeof line, "%d\n", port);
    snprintf(path, sizeof path, "%s/ui.port",
             gale_conf_get_str(conf, GALE_CONF_LOCAL_DIR, "gale-local"));
    if (gale__mkdirs(gale_conf_get_str(conf, GALE_CONF_LOCAL_DIR, "gale-local"), err, sizeof err) ||
        gale__file_write_atomic(path, line, strlen(line), err, sizeof err)) {
        GALE_ERROR(UI, 0, "%s", err);
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    GALE_INFO(UI, 0, "serving http://%s:%d/api/v1/ and /metrics, asking nimbus at %s", host, port,
              ui->endpoint);
    gale__log_daemon_started();
    while (!stop_signal) usleep(100000); /* the server runs on its own threads */
    GALE_INFO(UI, 0, "stopping (%s)", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    gale__http_stop(d);
    for (int k = 0; k < LINKS; k++) {
        if (ui->links[k].open) gale__ctl_client_close(&ui->links[k].client);
        pthread_mutex_destroy(&ui->links[k].lock);
    }
    if (ui->zctx) zmq_ctx_term(ui->zctx);
    return rc;
}
