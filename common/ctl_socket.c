/*
 * ctl_socket.c — the socket roles, the request client and the server's
 * receive/reply (see ctl_socket.h).
 *
 * A control message is [identity...] header body. The server reads every
 * frame of a message (so a peer sending one or five frames cannot leave
 * half a message behind) and decodes only a message of exactly header +
 * body after the identity; anything else is refused with a reason.
 */
#include "common/ctl_socket.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/text.h"

/* A control frame: a body, plus room for ZeroMQ's own framing. */
#define CTL_MAX_FRAME ((int64_t)GALE_CTL_MAX_BODY + 1024)

static void *make(void *zctx, int type, char *err, size_t errlen) {
    void *s = zmq_socket(zctx, type);
    if (!s) gale__errf(err, errlen, GALE_EIO, "cannot create a socket: %s", zmq_strerror(errno));
    return s;
}

static int set_int(void *s, int opt, int v) {
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

static void *bind_or_close(void *s, const char *endpoint, char *bound, size_t boundlen, char *err,
                           size_t errlen) {
    if (zmq_bind(s, endpoint) != 0) {
        gale__errf(err, errlen, GALE_EIO, "cannot bind %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    if (bound && boundlen) {
        size_t n = boundlen;
        if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, bound, &n) != 0) bound[0] = '\0';
    }
    return s;
}

void *gale__sock_ctl_server(void *zctx, const char *endpoint, char *bound, size_t boundlen,
                            char *err, size_t errlen) {
    void *s = make(zctx, ZMQ_ROUTER, err, errlen);
    if (!s) return NULL;
    int64_t max = CTL_MAX_FRAME;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    set_int(s, ZMQ_LINGER, 0);
    /* a reply to a peer that vanished is dropped, never queued forever */
    set_int(s, ZMQ_ROUTER_MANDATORY, 0);
    return bind_or_close(s, endpoint, bound, boundlen, err, errlen);
}

void *gale__sock_ctl_client(void *zctx, const char *endpoint, char *err, size_t errlen) {
    void *s = make(zctx, ZMQ_DEALER, err, errlen);
    if (!s) return NULL;
    int64_t max = CTL_MAX_FRAME;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    set_int(s, ZMQ_LINGER, 0);
    set_int(s, ZMQ_RECONNECT_IVL, 100);
    set_int(s, ZMQ_RECONNECT_IVL_MAX, 1000);
    if (zmq_connect(s, endpoint) != 0) {
        gale__errf(err, errlen, GALE_EIO, "cannot connect to %s: %s", endpoint,
                   zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

void *gale__sock_ctl_client_monitored(void *zctx, const char *endpoint, void **monitor, char *err,
                                      size_t errlen) {
    *monitor = NULL;
    void *s = make(zctx, ZMQ_DEALER, err, errlen);
    if (!s) return NULL;
    int64_t max = CTL_MAX_FRAME;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    set_int(s, ZMQ_LINGER, 0);
    set_int(s, ZMQ_RECONNECT_IVL, 100);
    set_int(s, ZMQ_RECONNECT_IVL_MAX, 1000);
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://gale-monitor-%p", s); /* unique per live socket */
    void *pair = NULL;
    if (zmq_socket_monitor(s, mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) != 0 ||
        !(pair = make(zctx, ZMQ_PAIR, err, errlen)) || zmq_connect(pair, mon) != 0 ||
        zmq_connect(s, endpoint) != 0) {
        gale__errf(err, errlen, GALE_EIO, "cannot connect to %s: %s", endpoint,
                   zmq_strerror(errno));
        if (pair) zmq_close(pair);
        zmq_close(s);
        return NULL;
    }
    set_int(pair, ZMQ_LINGER, 0);
    *monitor = pair;
    return s;
}

void *gale__sock_data_in(void *zctx, const char *endpoint, int hwm, int64_t max_msg, char *bound,
                         size_t boundlen, char *err, size_t errlen) {
    void *s = make(zctx, ZMQ_PULL, err, errlen);
    if (!s) return NULL;
    set_int(s, ZMQ_RCVHWM, hwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
    set_int(s, ZMQ_LINGER, 0);
    return bind_or_close(s, endpoint, bound, boundlen, err, errlen);
}

void *gale__sock_data_out(void *zctx, const char *endpoint, int hwm, int linger_ms, char *err,
                          size_t errlen) {
    void *s = make(zctx, ZMQ_PUSH, err, errlen);
    if (!s) return NULL;
    set_int(s, ZMQ_SNDHWM, hwm);
    set_int(s, ZMQ_LINGER, linger_ms);
    set_int(s, ZMQ_RECONNECT_IVL, 100);
    set_int(s, ZMQ_RECONNECT_IVL_MAX, 1000);
    if (zmq_connect(s, endpoint) != 0) {
        gale__errf(err, errlen, GALE_EIO, "cannot connect to %s: %s", endpoint,
                   zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

int gale__endpoint_port(const char *endpoint) {
    const char *colon = endpoint ? strrchr(endpoint, ':') : NULL;
    if (!colon || !colon[1]) return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    return *end || p < 0 || p > 65535 ? -1 : (int)p;
}

void gale__endpoint_tcp(char *out, size_t outlen, const char *host, int port) {
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    snprintf(out, outlen, v6 ? "tcp://[%s]:%d" : "tcp://%s:%d", host, port);
}

/* ------------------------------------------------------------------ */
/* Request client                                                       */
/* ------------------------------------------------------------------ */

int gale__ctl_client_open(gale__ctl_client_t *c, void *zctx, const char *endpoint, char *err,
                          size_t errlen) {
    /* endpoint may be c->endpoint itself (a reopen after a timeout):
     * copy it before the memset wipes it */
    char ep[sizeof c->endpoint];
    snprintf(ep, sizeof ep, "%s", endpoint);
    memset(c, 0, sizeof(*c));
    c->zctx = zctx;
    memcpy(c->endpoint, ep, sizeof ep);
    c->next_req = 1;
    c->sock = gale__sock_ctl_client(zctx, c->endpoint, err, errlen);
    return c->sock ? 0 : GALE_EIO;
}

void gale__ctl_client_close(gale__ctl_client_t *c) {
    if (c && c->sock) zmq_close(c->sock);
    if (c) c->sock = NULL;
}

/* Read the rest of a multipart message and drop it. */
static void drain_more(void *s) {
    int more = 1;
    size_t n = sizeof more;
    while (zmq_getsockopt(s, ZMQ_RCVMORE, &more, &n) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        zmq_msg_close(&m);
        n = sizeof more;
    }
}

/* Receive up to `max` frames of one message into frames[]; *n gets how
 * many the message had (more than max: the rest is dropped). */
static int recv_frames(void *s, zmq_msg_t *frames, int max, int *n, int flags) {
    *n = 0;
    for (;;) {
        zmq_msg_t tmp, *m = *n < max ? &frames[*n] : &tmp;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s, *n == 0 ? flags : 0) < 0) {
            int e = errno;
            zmq_msg_close(m);
            for (int i = 0; i < *n && i < max; i++) zmq_msg_close(&frames[i]);
            *n = 0;
            return e == EAGAIN ? GALE_ENOENT : GALE_EIO;
        }
        bool more = zmq_msg_more(m);
        if (m == &tmp) zmq_msg_close(&tmp);
        (*n)++;
        if (!more) return 0;
    }
}

static void close_frames(zmq_msg_t *frames, int n, int max) {
    for (int i = 0; i < n && i < max; i++) zmq_msg_close(&frames[i]);
}

static int send_two(void *s, const gale__ctl_peer_t *peer, msgpack_sbuffer *h, msgpack_sbuffer *b) {
    if (peer && zmq_send(s, peer->id, peer->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return -1;
    if (zmq_send(s, h->data, h->size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return -1;
    if (zmq_send(s, b->data, b->size, ZMQ_DONTWAIT) < 0) return -1;
    return 0;
}

int gale__ctl_client_pushed(gale__ctl_client_t *c, gale__ctl_msg_t *out) {
    int got = 0;
    while (c->sock) {
        zmq_msg_t fr[2];
        int nf;
        if (recv_frames(c->sock, fr, 2, &nf, ZMQ_DONTWAIT)) break; /* none, or an error */
        if (nf != 2) {
            close_frames(fr, nf, 2);
            continue;
        }
        gale__ctl_msg_t m;
        char why[256];
        int r = gale__ctl_decode(zmq_msg_data(&fr[0]), zmq_msg_size(&fr[0]), zmq_msg_data(&fr[1]),
                                 zmq_msg_size(&fr[1]), &m, why, sizeof why);
        close_frames(fr, nf, 2);
        if (r || m.req != GALE_CTL_PUSH_REQ) {
            gale__ctl_msg_destroy(&m);
            continue;
        }
        if (got) gale__ctl_msg_destroy(out); /* only the newest counts */
        *out = m;
        got = 1;
    }
    return got;
}

int gale__ctl_call(gale__ctl_client_t *c, gale__ctl_type_t type, const void *msg,
                   gale__ctl_type_t want, int timeout_ms, gale__ctl_msg_t *reply, char *err,
                   size_t errlen) {
    memset(reply, 0, sizeof(*reply));
    if (!c->sock && gale__ctl_client_open(c, c->zctx, c->endpoint, err, errlen)) return GALE_EIO;
    msgpack_sbuffer h, b;
    msgpack_sbuffer_init(&h);
    msgpack_sbuffer_init(&b);
    uint64_t req = c->next_req++;
    int rc = gale__ctl_encode(&h, &b, type, req, msg, err, errlen);
    int64_t deadline = gale__now_ns() + (int64_t)timeout_ms * 1000000;
    if (!rc) {
        /* DONTWAIT: a DEALER queues while it connects; EAGAIN only when
         * its queue is full, i.e. the peer has been gone for long */
        if (send_two(c->sock, NULL, &h, &b) != 0)
            rc = gale__errf(err, errlen, GALE_EIO, "cannot send %s to %s: %s",
                            gale__ctl_type_name(type), c->endpoint, zmq_strerror(errno));
    }
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);
    while (!rc) {
        int64_t left = (deadline - gale__now_ns()) / 1000000;
        if (left <= 0) {
            rc = gale__errf(err, errlen, GALE_EIO, "no reply to %s from %s within %d ms",
                            gale__ctl_type_name(type), c->endpoint, timeout_ms);
            /* the request may still sit in the queue: drop it with the socket */
            gale__ctl_client_close(c);
            c->sock = gale__sock_ctl_client(c->zctx, c->endpoint, NULL, 0);
            break;
        }
        zmq_pollitem_t pi = {c->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&pi, 1, (long)left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        zmq_msg_t fr[2];
        int nf;
        int r = recv_frames(c->sock, fr, 2, &nf, ZMQ_DONTWAIT);
        if (r == GALE_ENOENT) continue;
        if (r) {
            rc = gale__errf(err, errlen, GALE_EIO, "receiving from %s: %s", c->endpoint,
                            zmq_strerror(errno));
            break;
        }
        if (nf != 2) {
            close_frames(fr, nf, 2);
            continue; /* not a control reply: ignore, keep waiting */
        }
        gale__ctl_msg_t m;
        char why[512];
        r = gale__ctl_decode(zmq_msg_data(&fr[0]), zmq_msg_size(&fr[0]), zmq_msg_data(&fr[1]),
                             zmq_msg_size(&fr[1]), &m, why, sizeof why);
        close_frames(fr, nf, 2);
        if (m.req != req) { /* late reply to an earlier request, or garbage */
            gale__ctl_msg_destroy(&m);
            continue;
        }
        if (r) {
            rc = gale__errf(err, errlen, GALE_EPROTO, "bad reply from %s: %s", c->endpoint, why);
            break;
        }
        if (m.type != want && m.type != GALE_CTL_REPLY) {
            rc = gale__errf(err, errlen, GALE_EPROTO, "%s answered %s with %s", c->endpoint,
                            gale__ctl_type_name(type), gale__ctl_type_name(m.type));
            gale__ctl_msg_destroy(&m);
            break;
        }
        *reply = m;
        return 0;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Server side                                                          */
/* ------------------------------------------------------------------ */

int gale__ctl_server_recv(void *router, gale__ctl_peer_t *peer, gale__ctl_msg_t *msg, char *err,
                          size_t errlen) {
    memset(msg, 0, sizeof(*msg));
    peer->len = 0;
    zmq_msg_t fr[3];
    int nf;
    int rc = recv_frames(router, fr, 3, &nf, ZMQ_DONTWAIT);
    if (rc == GALE_ENOENT) return rc;
    if (rc) return gale__errf(err, errlen, GALE_EIO, "receive: %s", zmq_strerror(errno));
    size_t idlen = zmq_msg_size(&fr[0]);
    if (idlen <= sizeof peer->id) {
        memcpy(peer->id, zmq_msg_data(&fr[0]), idlen);
        peer->len = idlen;
    }
    if (nf != 3) {
        close_frames(fr, nf, 3);
        drain_more(router);
        return gale__errf(err, errlen, GALE_EPROTO,
                          "a message of %d frame(s), expected a header and a body", nf - 1);
    }
    rc = gale__ctl_decode(zmq_msg_data(&fr[1]), zmq_msg_size(&fr[1]), zmq_msg_data(&fr[2]),
                          zmq_msg_size(&fr[2]), msg, err, errlen);
    close_frames(fr, nf, 3);
    return rc;
}

int gale__ctl_server_send(void *router, const gale__ctl_peer_t *peer, gale__ctl_type_t type,
                          uint64_t req, const void *body, char *err, size_t errlen) {
    msgpack_sbuffer h, b;
    msgpack_sbuffer_init(&h);
    msgpack_sbuffer_init(&b);
    int rc = gale__ctl_encode(&h, &b, type, req, body, err, errlen);
    if (!rc && send_two(router, peer, &h, &b) != 0)
        rc = gale__errf(err, errlen, GALE_EIO, "cannot send %s: %s", gale__ctl_type_name(type),
                        zmq_strerror(errno));
    msgpack_sbuffer_destroy(&h);
    msgpack_sbuffer_destroy(&b);
    return rc;
}

int gale__ctl_reply_error(void *router, const gale__ctl_peer_t *peer, uint64_t req,
                          const char *why) {
    char text[4096];
    snprintf(text, sizeof text, "%s", why && *why ? why : "refused");
    gale__ctl_reply_t r = GALE__CTL_REPLY(false, text, NULL);
    return gale__ctl_server_send(router, peer, GALE_CTL_REPLY, req, &r, NULL, 0);
}
