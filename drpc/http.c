/*
 * http.c — the DRPC server's HTTP front (Storm's drpc.http.port):
 *
 *   GET  /drpc/FUNCTION/ARGS   ARGS URL-decoded (GET /drpc/FUNCTION: empty args)
 *   POST /drpc/FUNCTION        the body is the args
 *
 * 200 text/plain with the result, or a JSON error {"error": "..."} with
 * 404 (unknown function, or another path), 504 (timeout), 500 (the
 * topology failed the request), 503 (too many waiting, stopping), 400
 * (bad request: a NUL byte, an empty function), 413 (body over
 * GALE_DRPC_TEXT_MAX), 405 (another method).
 *
 * common/http_server.c's gate answers malformed heads (JSON 400, 414,
 * 431, 505, 411). libmicrohttpd runs one thread per connection (at most
 * GALE_DRPC_HTTP_CONNECTIONS, idle ones closed after 30 s), and the
 * handler waits on its own condition variable for the loop thread to
 * answer the request: a flood of slow requests is bounded by the
 * connection limit and drpc.max.pending.requests.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/control.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/text.h"
#include "drpc/server_impl.h"

#define IDLE_TIMEOUT_S 30

/* The POST body collected across calls. */
typedef struct upload {
    char *buf;
    size_t len, cap;
    bool too_large;
    bool started;     /* a POST's first call (headers) is done */
    bool nul_in_path; /* the raw path holds %00 (decoded, it would cut the args) */
} upload_t;

/* Every request's state, made from its raw URI before libmicrohttpd
 * decodes it: a decoded %00 would end the C string it hands on_request,
 * silently cutting GET /drpc/F/a%00b to "a". NULL (out of memory): the
 * request is refused in on_request. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    upload_t *u = calloc(1, sizeof *u);
    if (u) u->nul_in_path = strstr(uri, "%00") != NULL;
    return u;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, size_t len) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return gale__http_queue(c, status, r);
}

/* {"error": why}; a why that is not UTF-8 (it quotes a path's decoded
 * bytes, e.g. %FF) has its bytes over 0x7f written as \u00XX, so the
 * answer stays JSON. */
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *why) {
    size_t n = strlen(why), cap = n * 6 + 32, k = 0;
    bool utf8 = gale__utf8_valid(why, n);
    char *out = malloc(cap);
    if (!out) return MHD_NO;
    k += (size_t)snprintf(out, cap, "{\"error\":\"");
    for (const unsigned char *p = (const unsigned char *)why; *p; p++) {
        if (*p == '"' || *p == '\\') {
            out[k++] = '\\';
            out[k++] = (char)*p;
        } else if (*p < 0x20 || (*p > 0x7f && !utf8)) {
            k += (size_t)snprintf(out + k, cap - k, "\\u%04x", *p);
        } else {
            out[k++] = (char)*p;
        }
    }
    k += (size_t)snprintf(out + k, cap - k, "\"}\n");
    enum MHD_Result rc = respond(c, status, "application/json", out, k);
    free(out);
    return rc;
}

static unsigned status_of(drpc_outcome_t o) {
    switch (o) {
        case DRPC_DONE:
            return MHD_HTTP_OK;
        case DRPC_UNKNOWN:
            return MHD_HTTP_NOT_FOUND;
        case DRPC_TIMEOUT:
            return MHD_HTTP_GATEWAY_TIMEOUT;
        case DRPC_BUSY:
            return MHD_HTTP_SERVICE_UNAVAILABLE;
        default:
            return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* Submit and wait for the loop thread's answer. */
static enum MHD_Result execute(gale__drpc_server_t *s, struct MHD_Connection *c,
                               const char *function, const char *args, size_t args_len) {
    if (!*function || strlen(function) > GALE_DRPC_FUNCTION_MAX)
        return respond_error(c, MHD_HTTP_BAD_REQUEST,
                             "expected /drpc/FUNCTION/ARGS with a function name of 1..128 bytes");
    if (memchr(args, '\0', args_len))
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "DRPC arguments may not contain NUL bytes");
    if (args_len > GALE_DRPC_TEXT_MAX)
        return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "DRPC arguments are over 1 MiB");
    drpc_waiter_t w;
    memset(&w, 0, sizeof w);
    w.kind = WAIT_HTTP;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cv, &ca);
    pthread_condattr_destroy(&ca);
    char err[512];
    uint64_t id = 0;
    drpc_outcome_t o = gale__drpc_submit(s, function, args, &w, &id, err, sizeof err);
    enum MHD_Result rc;
    if (o != DRPC_DONE) {
        rc = respond_error(c, status_of(o), err);
    } else {
        /* the loop expires the request at its deadline; this wait's own
         * bound is only a safety net */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)s->timeout_s + 5;
        pthread_mutex_lock(&s->lock);
        while (!w.done)
            if (pthread_cond_timedwait(&w.cv, &s->lock, &until) == ETIMEDOUT) break;
        if (!w.done) {
            gale__drpc_req_free(gale__drpc_book_take(s->book, id));
            w.outcome = DRPC_TIMEOUT;
            w.text = strdup("DRPC request timed out");
        }
        pthread_mutex_unlock(&s->lock);
        if (!w.text)
            rc = MHD_NO;
        else if (w.outcome == DRPC_DONE)
            rc = respond(c, MHD_HTTP_OK, "text/plain; charset=utf-8", w.text, strlen(w.text));
        else
            rc = respond_error(c, status_of(w.outcome), w.text);
        free(w.text);
    }
    pthread_cond_destroy(&w.cv);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls) {
    (void)version;
    gale__drpc_server_t *s = cls;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    upload_t *u = *con_cls;
    if (!u) return MHD_NO; /* out of memory in on_uri */
    if (post) {
        if (!u->started) { /* first call: headers only */
            u->started = true;
            return MHD_YES;
        }
        if (*data_size) { /* a piece of the body: keep it, bounded */
            if (u->len + *data_size > GALE_DRPC_TEXT_MAX) {
                u->too_large = true;
            } else if (!u->too_large) {
                if (u->len + *data_size + 1 > u->cap) {
                    size_t ncap = (u->len + *data_size + 1) * 2;
                    char *nb = realloc(u->buf, ncap);
                    if (!nb) return MHD_NO;
                    u->buf = nb;
                    u->cap = ncap;
                }
                memcpy(u->buf + u->len, data, *data_size);
                u->len += *data_size;
                u->buf[u->len] = '\0'; /* the book copies a C string */
            }
            *data_size = 0;
            return MHD_YES;
        }
    } else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                             "use GET /drpc/FUNCTION/ARGS or POST /drpc/FUNCTION");
    }
    if (strncmp(url, "/drpc/", 6) != 0)
        return respond_error(c, MHD_HTTP_NOT_FOUND,
                             "no such path: use GET /drpc/FUNCTION/ARGS or POST /drpc/FUNCTION");
    const char *fn = url + 6, *slash = strchr(fn, '/');
    size_t fnlen = slash ? (size_t)(slash - fn) : strlen(fn);
    char function[GALE_DRPC_FUNCTION_MAX + 2];
    snprintf(function, sizeof function, "%.*s",
             (int)(fnlen < sizeof function - 1 ? fnlen : sizeof function - 1), fn);
    if (fnlen > GALE_DRPC_FUNCTION_MAX) function[0] = '\0';
    if (post) {
        if (slash && slash[1])
            return respond_error(c, MHD_HTTP_BAD_REQUEST,
                                 "POST /drpc/FUNCTION takes the arguments as its body, not in the "
                                 "path");
        if (u->too_large)
            return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "DRPC arguments are over 1 MiB");
        return execute(s, c, function, u->buf ? u->buf : "", u->len);
    }
    if (u->nul_in_path)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, "DRPC arguments may not contain NUL bytes");
    const char *args = slash ? slash + 1 : ""; /* libmicrohttpd URL-decoded the path */
    return execute(s, c, function, args, strlen(args));
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    upload_t *u = *con_cls;
    if (u) {
        free(u->buf);
        free(u);
        *con_cls = NULL;
    }
}

int gale__drpc_http_start(gale__drpc_server_t *s, int port, char *err, size_t errlen) {
    gale__http_opts_t ho = {.role = "drpc",
                            .host = s->host,
                            .host_key = GALE_CONF_DRPC_SERVERS,
                            .port = port,
                            .port_key = GALE_CONF_DRPC_HTTP_PORT,
                            .conn_limit = GALE_DRPC_HTTP_CONNECTIONS,
                            .per_ip = GALE_DRPC_HTTP_PER_IP,
                            .timeout_s = IDLE_TIMEOUT_S,
                            .done = on_completed,
                            .uri_log = on_uri,
                            .stack_size = (size_t)(256 * 1024)};
    s->http = gale__http_start(&ho, on_request, s, &s->http_port, err, errlen);
    if (!s->http) return strstr(err, "resolve") ? GALE_EINVAL : GALE_EIO;
    return 0;
}

void gale__drpc_http_stop(gale__drpc_server_t *s) {
    gale__http_stop(s->http); /* joins the connection threads */
    s->http = NULL;
}
