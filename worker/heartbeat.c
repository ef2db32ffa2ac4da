/*
 * heartbeat.c — see heartbeat.h.
 *
 * The DEALER uses ZMQ_IMMEDIATE, so while the supervisor is away a
 * heartbeat is refused at once rather than queued: no stale burst
 * reaches a restarted supervisor, and the worker's orphan clock (in
 * worker_main.c) only counts replies, which is what "the supervisor is
 * alive" means. The socket has its own small ZeroMQ context, apart from
 * the runtime's, so the control link never waits behind data sockets.
 */
#include "worker/heartbeat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/fileio.h"
#include "common/log.h"

#define REPLY_MAX 65536 /* a reply is a few bytes; refuse anything large */

struct gale__hb {
    void *ctx, *sock;
    uint64_t req;
    int refusals_logged;
};

int gale__hb_endpoint(const char *local_dir, char *out, size_t cap, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/supervisor/endpoint", local_dir);
    void *buf;
    size_t len;
    int rc = gale__file_read(path, 1024, &buf, &len, err, errlen);
    if (rc == GALE_ENOENT) {
        if (snprintf(out, cap, "ipc://%s/supervisor/sock", local_dir) >= (int)cap) {
            snprintf(err, errlen, "gale.local.dir '%s' is too long for an ipc endpoint", local_dir);
            return GALE_ERANGE;
        }
        return 0;
    }
    if (rc) return rc;
    char *s = buf;
    s[strcspn(s, "\r\n")] = '\0';
    if (!*s || strlen(s) >= cap) {
        snprintf(err, errlen, "%s: expected one line with a ZeroMQ endpoint", path);
        free(buf);
        return GALE_EINVAL;
    }
    snprintf(out, cap, "%s", s);
    free(buf);
    return 0;
}

int gale__hb_open(const char *endpoint, gale__hb_t **out, char *err, size_t errlen) {
    *out = NULL;
    gale__hb_t *h = calloc(1, sizeof *h);
    if (!h) return GALE_ENOMEM;
    int one = 1, zero = 0, hwm = 4;
    int64_t maxmsg = REPLY_MAX;
    h->ctx = zmq_ctx_new();
    h->sock = h->ctx ? zmq_socket(h->ctx, ZMQ_DEALER) : NULL;
    if (!h->sock || zmq_setsockopt(h->sock, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_setsockopt(h->sock, ZMQ_IMMEDIATE, &one, sizeof one) ||
        zmq_setsockopt(h->sock, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
        zmq_setsockopt(h->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        zmq_connect(h->sock, endpoint)) {
        snprintf(err, errlen, "cannot connect to the supervisor at %s: %s", endpoint,
                 zmq_strerror(zmq_errno()));
        gale__hb_close(h);
        return GALE_EIO;
    }
    *out = h;
    return 0;
}

void *gale__hb_socket(gale__hb_t *h) {
    return h->sock;
}

bool gale__hb_send(gale__hb_t *h, const gale__ctl_worker_heartbeat_t *m) {
    bool sent = false;
    msgpack_sbuffer hdr, body;
    msgpack_sbuffer_init(&hdr);
    msgpack_sbuffer_init(&body);
    char err[256];
    if (gale__ctl_encode(&hdr, &body, GALE_CTL_WORKER_HEARTBEAT, ++h->req, m, err, sizeof err)) {
        GALE_ERROR("worker", 0, "cannot encode a heartbeat: %s", err);
    } else if (zmq_send(h->sock, hdr.data, hdr.size, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
        zmq_send(h->sock, body.data, body.size, 0); /* the rest of a message is never refused */
        sent = true;
    }
    /* EAGAIN: no supervisor connected right now; the orphan clock decides */
    msgpack_sbuffer_destroy(&hdr);
    msgpack_sbuffer_destroy(&body);
    return sent;
}

/* One message of up to 3 frames (more are read and dropped). */
static int recv_frames(void *sock, zmq_msg_t *f, int *n) {
    *n = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, *n ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return *n ? 0 : -1;
        }
        bool more = zmq_msg_more(&m);
        if (*n < 3)
            f[(*n)++] = m;
        else
            zmq_msg_close(&m);
        if (!more) return 0;
    }
}

int gale__hb_recv(gale__hb_t *h) {
    int ok = 0;
    for (;;) {
        zmq_msg_t f[3];
        int n;
        if (recv_frames(h->sock, f, &n) < 0) break;
        gale__ctl_msg_t m;
        char err[256] = "";
        if (n != 2) {
            GALE_WARN("worker", 0, "supervisor sent a %d-frame message: expected [header, body]",
                      n);
        } else if (gale__ctl_decode(zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), zmq_msg_data(&f[1]),
                                    zmq_msg_size(&f[1]), &m, err, sizeof err)) {
            GALE_WARN("worker", 0, "supervisor reply rejected: %s", err);
        } else {
            if (m.type != GALE_CTL_REPLY || m.req == 0 || m.req > h->req) {
                GALE_WARN("worker", 0, "unexpected '%s' from the supervisor ignored",
                          gale__ctl_type_name(m.type));
            } else {
                ok++;
                if (!m.u.reply.ok && h->refusals_logged++ < 5)
                    GALE_WARN("worker", 0, "supervisor refused a heartbeat: %s", m.u.reply.error);
            }
            gale__ctl_msg_destroy(&m);
        }
        for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
    }
    return ok;
}

void gale__hb_close(gale__hb_t *h) {
    if (!h) return;
    if (h->sock) zmq_close(h->sock);
    if (h->ctx) zmq_ctx_term(h->ctx);
    free(h);
}
