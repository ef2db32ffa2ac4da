/*
 * client.c — the DRPC client and invoker (client.h).
 *
 * execute watches its connection with a ZeroMQ monitor: no completed
 * handshake within connect_ms means the server is not there, and a
 * DISCONNECTED event while the request waits means it went away (killed,
 * stopped): either way the caller learns at once instead of after the
 * request timeout. The invoker's short calls go through
 * gale__ctl_call, whose timeout reopens the socket.
 */
#include "drpc/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/control.h"
#include "common/ctl_socket.h"
#include "common/text.h"

/* A server the invoker could not reach is skipped this long. */
#define SKIP_NS (3LL * 1000000000LL)
/* Servers an invoker talks to (drpc.servers plus ones return infos named). */
#define MAX_SERVERS 64

static const char *zmq_host(const char *host) {
    return strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
}

/* ------------------------------------------------------------------ */
/* Client                                                               */
/* ------------------------------------------------------------------ */

struct gale__drpc_client {
    void *zctx;
    char host[256];
    int port;
    char endpoint[GALE_ENDPOINT_MAX];
    uint64_t next_req;
};

gale__drpc_client_t *gale__drpc_client_new(const char *host, int port, char *err, size_t errlen) {
    if (!host || !*host || port <= 0 || port > 65535) {
        gale__errf(err, errlen, GALE_EINVAL,
                   "DRPC server address %s:%d: expected a host and a port", host ? host : "(none)",
                   port);
        return NULL;
    }
    gale__drpc_client_t *c = calloc(1, sizeof *c);
    if (!c || !(c->zctx = zmq_ctx_new())) {
        free(c);
        gale__errf(err, errlen, GALE_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    gale__endpoint_tcp(c->endpoint, sizeof c->endpoint, zmq_host(host), port);
    c->next_req = 1;
    return c;
}

void gale__drpc_client_destroy(gale__drpc_client_t *c) {
    if (!c) return;
    zmq_ctx_term(c->zctx);
    free(c);
}

/* The event of one monitor message, or 0. */
static int monitor_event(void *mon) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    int ev = 0;
    if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) >= 0 && zmq_msg_size(&m) >= 2) {
        uint16_t e;
        memcpy(&e, zmq_msg_data(&m), sizeof e);
        ev = e;
    }
    bool more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    while (more) { /* the endpoint frame */
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0)
            more = false;
        else
            more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return ev;
}

/* Receive one message of exactly two frames into fr; false otherwise. */
static bool recv_two(void *s, zmq_msg_t fr[2]) {
    int n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t tmp, *m = n < 2 ? &fr[n] : &tmp;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        if (m == &tmp) zmq_msg_close(m);
        n++;
    }
    if (n == 2 && !more) return true;
    for (int i = 0; i < n && i < 2; i++) zmq_msg_close(&fr[i]);
    return false;
}

int gale__drpc_client_execute(gale__drpc_client_t *c, const char *function, const char *args,
                              int connect_ms, int wait_ms, char **result, char *err,
                              size_t errlen) {
    *result = NULL;
    gale__ctl_drpc_execute_t x = {function, args};
    msgpack_sbuffer h, b;
    msgpack_sbuffer_init(&h);
    msgpack_sbuffer_init(&b);
    uint64_t req = c->next_req++;
    char why[1024];
    int rc = gale__ctl_encode(&h, &b, GALE_CTL_DRPC_EXECUTE, req, &x, why, sizeof why);
    if (rc) {
        msgpack_sbuffer_destroy(&h);
        msgpack_sbuffer_destroy(&b);
        return gale__errf(err, errlen, GALE_EINVAL, "%s", why);
    }
    void *mon = NULL;
    void *s = gale__sock_ctl_client_monitored(c->zctx, c->endpoint, &mon, why, sizeof why);
    if (!s) {
        msgpack_sbuffer_destroy(&h);
        msgpack_sbuffer_destroy(&b);
        return gale__errf(err, errlen, GALE_EIO, "%s", why);
    }
    bool connected = false, sent = false;
    int64_t connect_deadline = gale__now_ns() + (int64_t)connect_ms * 1000000;
    int64_t deadline = 0;
    rc = GALE_EIO;
    for (;;) {
        int64_t now = gale__now_ns(), until = connected ? deadline : connect_deadline;
        if (now >= until) {
            if (!connected)
                gale__errf(
                    err, errlen, GALE_EIO,
                    "cannot reach the DRPC server at %s:%d \xe2\x80\x94 is 'gale drpc-server' "
                    "running?",
                    c->host, c->port);
            else
                gale__errf(err, errlen, GALE_EIO,
                           "no answer from the DRPC server at %s:%d for '%s' within %d s", c->host,
                           c->port, function, wait_ms / 1000);
            break;
        }
        zmq_pollitem_t pi[2] = {{mon, 0, ZMQ_POLLIN, 0}, {s, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(pi, 2, (long)((until - now) / 1000000 + 1));
        if (n < 0 && errno != EINTR) {
            gale__errf(err, errlen, GALE_EIO, "poll: %s", zmq_strerror(errno));
            break;
        }
        if (n <= 0) continue;
        if (pi[0].revents & ZMQ_POLLIN) {
            int ev = monitor_event(mon);
            if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !connected) {
                connected = true;
                deadline = gale__now_ns() + (int64_t)wait_ms * 1000000;
                if (!sent) {
                    if (zmq_send(s, h.data, h.size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                        zmq_send(s, b.data, b.size, ZMQ_DONTWAIT) < 0) {
                        gale__errf(err, errlen, GALE_EIO,
                                   "cannot send to the DRPC server at %s:%d: %s", c->host, c->port,
                                   zmq_strerror(errno));
                        break;
                    }
                    sent = true;
                }
            } else if (ev == ZMQ_EVENT_DISCONNECTED && connected) {
                gale__errf(
                    err, errlen, GALE_EIO,
                    "lost the DRPC server at %s:%d while '%s' waited for its result (did the "
                    "server stop?)",
                    c->host, c->port, function);
                break;
            }
            continue;
        }
        zmq_msg_t fr[2];
        if (!recv_two(s, fr)) continue;
        gale__ctl_msg_t m;
        int r = gale__ctl_decode(zmq_msg_data(&fr[0]), zmq_msg_size(&fr[0]), zmq_msg_data(&fr[1]),
                                 zmq_msg_size(&fr[1]), &m, why, sizeof why);
        zmq_msg_close(&fr[0]);
        zmq_msg_close(&fr[1]);
        if (m.req != req) {
            gale__ctl_msg_destroy(&m);
            continue;
        }
        if (r) {
            gale__errf(err, errlen, GALE_EPROTO, "bad reply from the DRPC server at %s:%d: %s",
                       c->host, c->port, why);
            rc = GALE_EPROTO;
        } else if (m.type == GALE_CTL_DRPC_EXECUTE_REPLY && m.u.drpc_execute_reply.ok) {
            *result = strdup(m.u.drpc_execute_reply.result);
            rc = *result ? 0 : gale__errf(err, errlen, GALE_ENOMEM, "out of memory");
        } else if (m.type == GALE_CTL_DRPC_EXECUTE_REPLY) {
            rc = gale__errf(err, errlen, GALE_ESTATE, "%s", m.u.drpc_execute_reply.error);
        } else if (m.type == GALE_CTL_REPLY && !m.u.reply.ok) {
            rc = gale__errf(err, errlen, GALE_ESTATE, "the DRPC server at %s:%d refused: %s",
                            c->host, c->port, m.u.reply.error);
        } else {
            rc = gale__errf(err, errlen, GALE_EPROTO, "the DRPC server at %s:%d answered with %s",
                            c->host, c->port, gale__ctl_type_name(m.type));
        }
        gale__ctl_msg_destroy(&m);
        break;
    }
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);
    zmq_close(mon);
    zmq_close(s);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Invoker                                                              */
/* ------------------------------------------------------------------ */

typedef struct server {
    char host[256];
    int port;
    gale__ctl_client_t cc;
    bool open;
    int64_t skip_until_ns;
} server_t;

struct gale__drpc_invoker {
    void *zctx;
    server_t servers[MAX_SERVERS];
    size_t n, n_conf; /* all; the first n_conf come from drpc.servers (fetched from) */
    size_t next;      /* where the next fetch starts */
};

static server_t *server_get(gale__drpc_invoker_t *inv, const char *host, int port, char *err,
                            size_t errlen) {
    for (size_t i = 0; i < inv->n; i++)
        if (inv->servers[i].port == port && strcmp(inv->servers[i].host, host) == 0)
            return &inv->servers[i];
    if (inv->n == MAX_SERVERS) {
        gale__errf(err, errlen, GALE_EFULL, "talking to %d DRPC servers already", MAX_SERVERS);
        return NULL;
    }
    server_t *s = &inv->servers[inv->n];
    memset(s, 0, sizeof *s);
    snprintf(s->host, sizeof s->host, "%s", host);
    s->port = port;
    char ep[GALE_ENDPOINT_MAX];
    gale__endpoint_tcp(ep, sizeof ep, zmq_host(host), port);
    if (gale__ctl_client_open(&s->cc, inv->zctx, ep, err, errlen)) return NULL;
    s->open = true;
    inv->n++;
    return s;
}

gale__drpc_invoker_t *gale__drpc_invoker_new(const gale_conf_t *conf, char *err, size_t errlen) {
    int port = (int)gale_conf_get_int(conf, GALE_CONF_DRPC_INVOCATIONS_PORT, 3773);
    if (port <= 0) {
        gale__errf(err, errlen, GALE_EINVAL,
                   "drpc.invocations.port is %d: set the port the DRPC server bound (see its "
                   "<gale.local.dir>/drpc.invocations.port)",
                   port);
        return NULL;
    }
    const gale_value_t *v = gale_conf_get(conf, GALE_CONF_DRPC_SERVERS);
    if (!v || v->type != GALE_T_ARRAY || v->len == 0) {
        gale__errf(err, errlen, GALE_EINVAL, "drpc.servers is empty: list the DRPC servers' hosts");
        return NULL;
    }
    gale__drpc_invoker_t *inv = calloc(1, sizeof *inv);
    if (!inv || !(inv->zctx = zmq_ctx_new())) {
        free(inv);
        gale__errf(err, errlen, GALE_ENOMEM, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < v->len && i < MAX_SERVERS / 2; i++) {
        const gale_value_t *h = &v->u.a[i];
        char host[256];
        if (h->type != GALE_T_STR || h->len == 0 || h->len >= sizeof host) {
            gale__errf(err, errlen, GALE_EINVAL, "drpc.servers[%u] is not a host name", i);
            gale__drpc_invoker_destroy(inv);
            return NULL;
        }
        snprintf(host, sizeof host, "%.*s", (int)h->len, h->u.s);
        if (!server_get(inv, host, port, err, errlen)) {
            gale__drpc_invoker_destroy(inv);
            return NULL;
        }
    }
    inv->n_conf = inv->n;
    return inv;
}

void gale__drpc_invoker_destroy(gale__drpc_invoker_t *inv) {
    if (!inv) return;
    for (size_t i = 0; i < inv->n; i++) gale__ctl_client_close(&inv->servers[i].cc);
    zmq_ctx_term(inv->zctx);
    free(inv);
}

void gale__drpc_request_clear(gale__drpc_request_t *r) {
    if (!r) return;
    free(r->args);
    memset(r, 0, sizeof *r);
}

/* One call; a generic refusal becomes GALE_EPROTO with its reason. */
static int call(server_t *s, gale__ctl_type_t type, const void *msg, gale__ctl_type_t want,
                gale__ctl_msg_t *reply, char *err, size_t errlen) {
    char why[1024];
    int rc = gale__ctl_call(&s->cc, type, msg, want, GALE_DRPC_INVOKE_TIMEOUT_MS, reply, why,
                            sizeof why);
    if (rc == GALE_EIO) {
        s->skip_until_ns = gale__now_ns() + SKIP_NS;
        return gale__errf(
            err, errlen, GALE_EIO,
            "cannot reach the DRPC server at %s:%d (drpc.invocations.port) \xe2\x80\x94 "
            "is 'gale drpc-server' running?",
            s->host, s->port);
    }
    if (rc) return gale__errf(err, errlen, rc, "DRPC server %s:%d: %s", s->host, s->port, why);
    if (reply->type == GALE_CTL_REPLY && !reply->u.reply.ok) {
        gale__errf(err, errlen, GALE_EPROTO, "DRPC server %s:%d refused: %s", s->host, s->port,
                   reply->u.reply.error);
        gale__ctl_msg_destroy(reply);
        return GALE_EPROTO;
    }
    return 0;
}

int gale__drpc_invoker_fetch(gale__drpc_invoker_t *inv, const char *function,
                             gale__drpc_request_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (err && errlen) err[0] = '\0';
    int rc = GALE_EIO;
    bool asked = false;
    int64_t now = gale__now_ns();
    for (size_t k = 0; k < inv->n_conf; k++) {
        server_t *s = &inv->servers[(inv->next + k) % inv->n_conf];
        if (s->skip_until_ns > now) continue;
        gale__ctl_drpc_fetch_t f = {function};
        gale__ctl_msg_t m;
        int r = call(s, GALE_CTL_DRPC_FETCH, &f, GALE_CTL_DRPC_FETCH_REPLY, &m, err, errlen);
        if (r) continue;
        asked = true;
        const gale__ctl_drpc_fetch_reply_t *fr = &m.u.drpc_fetch_reply;
        if (m.type == GALE_CTL_DRPC_FETCH_REPLY && !fr->ok) {
            gale__errf(err, errlen, GALE_EPROTO, "DRPC server %s:%d: %s", s->host, s->port,
                       fr->error);
        } else if (m.type == GALE_CTL_DRPC_FETCH_REPLY && fr->id != GALE_CTL_UNSET) {
            out->id = fr->id;
            out->args = strdup(fr->args);
            snprintf(out->host, sizeof out->host, "%s", s->host);
            out->port = s->port;
            gale__ctl_msg_destroy(&m);
            /* the next fetch starts after this server: fair over servers */
            inv->next = (inv->next + k + 1) % inv->n_conf;
            return out->args ? 0 : gale__errf(err, errlen, GALE_ENOMEM, "out of memory");
        }
        gale__ctl_msg_destroy(&m);
    }
    if (asked)
        rc = GALE_ENOENT;
    else if (rc == GALE_EIO && err && !*err)
        gale__errf(err, errlen, GALE_EIO, "no DRPC server answers (all skipped after failures)");
    inv->next = (inv->next + 1) % inv->n_conf;
    return rc;
}

static int done(gale__drpc_invoker_t *inv, const char *host, int port, gale__ctl_type_t type,
                const void *msg, char *err, size_t errlen) {
    server_t *s = server_get(inv, host, port, err, errlen);
    if (!s) return GALE_EIO;
    gale__ctl_msg_t m;
    int rc = call(s, type, msg, GALE_CTL_REPLY, &m, err, errlen);
    if (!rc) gale__ctl_msg_destroy(&m);
    return rc;
}

int gale__drpc_invoker_result(gale__drpc_invoker_t *inv, const char *host, int port, uint64_t id,
                              const char *result, size_t len, char *err, size_t errlen) {
    if (len > GALE_DRPC_TEXT_MAX)
        return gale__errf(err, errlen, GALE_EINVAL,
                          "a DRPC result of %zu bytes is over the %u allowed", len,
                          GALE_DRPC_TEXT_MAX);
    if (memchr(result, '\0', len))
        return gale__errf(err, errlen, GALE_EINVAL, "a DRPC result may not contain NUL bytes");
    char *text = strndup(result, len);
    if (!text) return gale__errf(err, errlen, GALE_ENOMEM, "out of memory");
    gale__ctl_drpc_result_t r = {id, text};
    int rc = done(inv, host, port, GALE_CTL_DRPC_RESULT, &r, err, errlen);
    free(text);
    return rc;
}

int gale__drpc_invoker_fail(gale__drpc_invoker_t *inv, const char *host, int port, uint64_t id,
                            const char *why, char *err, size_t errlen) {
    gale__ctl_drpc_fail_t f = {id, why && *why ? why : "failed"};
    return done(inv, host, port, GALE_CTL_DRPC_FAIL, &f, err, errlen);
}
