/*
 * server.c — the DRPC server's ZeroMQ side (server.h): bind, the loop
 * thread that serves both ROUTERs and expires requests, completion of
 * waiters, and `gale drpc-server`'s main.
 *
 * The loop wakes for a message, for the next deadline, or every 200 ms
 * to see the stop flag (an idle server costs five wakeups a second).
 * A message that does not decode is answered with reply{ok: false} when
 * its header named a type, else only logged, rate-limited (one line a
 * second with the count of the others); the loop always goes on.
 */
#include "drpc/server.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/text.h"
#include "drpc/server_impl.h"

#define DR "drpc"

/* One warning a second per kind, with how many were suppressed. */
typedef struct ratelimit {
    int64_t last_ns;
    unsigned suppressed;
} ratelimit_t;

__attribute__((format(printf, 2, 3))) static void warn_limited(ratelimit_t *rl, const char *fmt,
                                                               ...) {
    int64_t now = gale__now_ns();
    if (rl->last_ns && now - rl->last_ns < 1000000000) {
        rl->suppressed++;
        return;
    }
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    GALE_WARN(DR, 0, "%s (%u more like it since the last such line)", line, rl->suppressed);
    rl->last_ns = now;
    rl->suppressed = 0;
}

static ratelimit_t rl_refused, rl_unknown;

void gale__drpc_first_host(const gale_conf_t *conf, char *out, size_t outlen) {
    const gale_value_t *v = gale_conf_get(conf, GALE_CONF_DRPC_SERVERS);
    snprintf(out, outlen, "127.0.0.1");
    if (v && v->type == GALE_T_ARRAY && v->len > 0 && v->u.a[0].type == GALE_T_STR &&
        v->u.a[0].len > 0)
        snprintf(out, outlen, "%.*s", (int)v->u.a[0].len, v->u.a[0].u.s);
    if (strcmp(out, "localhost") == 0) snprintf(out, outlen, "127.0.0.1");
}

/* ------------------------------------------------------------------ */
/* Submit and complete                                                  */
/* ------------------------------------------------------------------ */

drpc_outcome_t gale__drpc_submit(gale__drpc_server_t *s, const char *function, const char *args,
                                 drpc_waiter_t *w, uint64_t *id, char *err, size_t errlen) {
    gale__drpc_req_t *r = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = s->stopping ? GALE_ESTATE
                         : gale__drpc_book_submit(s->book, function, args, gale__now_ns(), w, &r,
                                                  err, errlen);
    if (!rc) *id = r->id;
    pthread_mutex_unlock(&s->lock);
    switch (rc) {
        case 0:
            return DRPC_DONE;
        case GALE_ENOENT:
            return DRPC_UNKNOWN;
        case GALE_EFULL:
            return DRPC_BUSY;
        case GALE_ESTATE:
            snprintf(err, errlen, "the DRPC server is stopping");
            return DRPC_BUSY;
        default:
            return DRPC_ERROR;
    }
}

static void send_execute_reply(gale__drpc_server_t *s, const gale__ctl_peer_t *p, uint64_t req,
                               bool ok, const char *text) {
    gale__ctl_drpc_execute_reply_t rep = {ok, ok ? NULL : text, ok ? text : NULL};
    char err[256];
    if (gale__ctl_server_send(s->clients, p, GALE_CTL_DRPC_EXECUTE_REPLY, req, &rep, err,
                              sizeof err))
        GALE_WARN(DR, 0, "cannot answer a DRPC client: %s", err);
}

void gale__drpc_complete(gale__drpc_server_t *s, gale__drpc_req_t *r, drpc_outcome_t o,
                         const char *text) {
    drpc_waiter_t *w = r->waiter;
    if (w->kind == WAIT_ZMQ) {
        send_execute_reply(s, &w->peer, w->req, o == DRPC_DONE, text);
        free(w);
    } else {
        w->outcome = o;
        w->text = strdup(text);
        w->done = true;
        pthread_cond_signal(&w->cv);
    }
    gale__drpc_req_free(r);
}

/* ------------------------------------------------------------------ */
/* The two ROUTERs                                                      */
/* ------------------------------------------------------------------ */

static void on_client(gale__drpc_server_t *s, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    if (m->type != GALE_CTL_DRPC_EXECUTE) {
        gale__ctl_reply_error(s->clients, p, m->req,
                              "the DRPC client port takes drpc_execute requests only");
        return;
    }
    const gale__ctl_drpc_execute_t *x = &m->u.drpc_execute;
    drpc_waiter_t *w = calloc(1, sizeof *w);
    char err[512];
    uint64_t id;
    if (!w) {
        send_execute_reply(s, p, m->req, false, "the DRPC server is out of memory");
        return;
    }
    w->kind = WAIT_ZMQ;
    w->peer = *p;
    w->req = m->req;
    if (gale__drpc_submit(s, x->function, x->args, w, &id, err, sizeof err) != DRPC_DONE) {
        send_execute_reply(s, p, m->req, false, err);
        free(w);
    }
}

static void reply_ok(gale__drpc_server_t *s, const gale__ctl_peer_t *p, uint64_t req) {
    gale__ctl_reply_t r = GALE__CTL_REPLY(true, NULL, NULL);
    gale__ctl_server_send(s->invocations, p, GALE_CTL_REPLY, req, &r, NULL, 0);
}

static void on_fetch(gale__drpc_server_t *s, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    gale__drpc_req_t *r = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = gale__drpc_book_fetch(s->book, m->u.drpc_fetch.function, gale__now_ns(), &r);
    gale__ctl_drpc_fetch_reply_t rep = {true, NULL, GALE_CTL_UNSET, NULL};
    if (rc == 0) {
        rep.id = r->id;
        rep.args = r->args;
    } else if (rc == GALE_EFULL) {
        rep.ok = false;
        rep.error = "the DRPC server already serves too many functions";
    }
    /* sent under the lock: r->args must not be freed meanwhile */
    char err[256];
    if (gale__ctl_server_send(s->invocations, p, GALE_CTL_DRPC_FETCH_REPLY, m->req, &rep, err,
                              sizeof err))
        GALE_WARN(DR, 0, "cannot hand a request to a spout: %s (it times out)", err);
    pthread_mutex_unlock(&s->lock);
}

static void on_done(gale__drpc_server_t *s, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    bool ok = m->type == GALE_CTL_DRPC_RESULT;
    uint64_t id = ok ? m->u.drpc_result.id : m->u.drpc_fail.id;
    pthread_mutex_lock(&s->lock);
    gale__drpc_req_t *r = gale__drpc_book_take(s->book, id);
    if (r) {
        if (ok) {
            gale__drpc_complete(s, r, DRPC_DONE, m->u.drpc_result.result);
        } else {
            char why[4400];
            snprintf(why, sizeof why, "DRPC request for '%s' failed: %s", r->function,
                     m->u.drpc_fail.error);
            gale__drpc_complete(s, r, DRPC_FAILED, why);
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (!r)
        warn_limited(&rl_unknown, "ignored a %s for unknown or expired DRPC request id %llu",
                     ok ? "result" : "failure", (unsigned long long)id);
    /* taken either way: a retried result after a lost reply is no error */
    reply_ok(s, p, m->req);
}

static void on_invocation(gale__drpc_server_t *s, const gale__ctl_peer_t *p,
                          const gale__ctl_msg_t *m) {
    switch (m->type) {
        case GALE_CTL_DRPC_FETCH:
            on_fetch(s, p, m);
            break;
        case GALE_CTL_DRPC_RESULT:
        case GALE_CTL_DRPC_FAIL:
            on_done(s, p, m);
            break;
        default:
            gale__ctl_reply_error(s->invocations, p, m->req,
                                  "the DRPC invocations port takes drpc_fetch, drpc_result and "
                                  "drpc_fail requests only");
    }
}

static void serve(gale__drpc_server_t *s, void *router, bool clients) {
    for (int k = 0; k < 64; k++) { /* a burst, then the timers */
        gale__ctl_peer_t peer;
        gale__ctl_msg_t m;
        char err[512];
        int r = gale__ctl_server_recv(router, &peer, &m, err, sizeof err);
        if (r == GALE_ENOENT) break;
        if (r == 0) {
            if (clients)
                on_client(s, &peer, &m);
            else
                on_invocation(s, &peer, &m);
        } else {
            warn_limited(&rl_refused, "refused a message on the DRPC %s port: %s",
                         clients ? "client" : "invocations", err);
            if (m.type != GALE_CTL_NONE && peer.len)
                gale__ctl_reply_error(router, &peer, m.req, err);
        }
        gale__ctl_msg_destroy(&m);
    }
}

static void expire(gale__drpc_server_t *s) {
    pthread_mutex_lock(&s->lock);
    gale__drpc_req_t *r;
    while ((r = gale__drpc_book_expired(s->book, gale__now_ns()))) {
        char why[512];
        snprintf(why, sizeof why,
                 "DRPC request for '%.128s' timed out after %lld s: is the topology serving it "
                 "running?",
                 r->function, (long long)s->timeout_s);
        GALE_INFO(DR, 0, "request %llu for '%s' timed out after %lld s", (unsigned long long)r->id,
                  r->function, (long long)s->timeout_s);
        gale__drpc_complete(s, r, DRPC_TIMEOUT, why);
    }
    /* queued for a function whose topology is gone: say so now, not at
     * the timeout (600 s by default) */
    while ((r = gale__drpc_book_abandoned(s->book, gale__now_ns()))) {
        char why[512];
        snprintf(why, sizeof why,
                 "no running topology serves DRPC function '%.128s' any more (no DRPC spout "
                 "asked for it in the last %lld s): submit the topology again",
                 r->function, (long long)(GALE_DRPC_SERVE_WINDOW_NS / 1000000000LL));
        GALE_INFO(DR, 0, "request %llu for '%s' dropped: nothing serves the function any more",
                  (unsigned long long)r->id, r->function);
        gale__drpc_complete(s, r, DRPC_UNKNOWN, why);
    }
    pthread_mutex_unlock(&s->lock);
}

static void *loop_main(void *arg) {
    gale__drpc_server_t *s = arg;
    while (!atomic_load(&s->stop)) {
        zmq_pollitem_t pi[2] = {{s->clients, 0, ZMQ_POLLIN, 0}, {s->invocations, 0, ZMQ_POLLIN, 0}};
        pthread_mutex_lock(&s->lock);
        int64_t next = gale__drpc_book_next_deadline(s->book);
        pthread_mutex_unlock(&s->lock);
        int64_t wait_ms = 200;
        if (next != INT64_MAX) {
            int64_t d = (next - gale__now_ns()) / 1000000 + 1;
            if (d < wait_ms) wait_ms = d < 0 ? 0 : d;
        }
        int n = zmq_poll(pi, 2, (long)wait_ms);
        if (n < 0 && errno != EINTR) {
            GALE_ERROR(DR, 0, "poll: %s", zmq_strerror(errno));
            break;
        }
        if (n > 0 && (pi[0].revents & ZMQ_POLLIN)) serve(s, s->clients, true);
        if (n > 0 && (pi[1].revents & ZMQ_POLLIN)) serve(s, s->invocations, false);
        expire(s);
    }
    /* stopping: answer everyone still waiting, then refuse new ones */
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    gale__drpc_req_t *r;
    while ((r = gale__drpc_book_any(s->book)))
        gale__drpc_complete(s, r, DRPC_BUSY,
                            "the DRPC server stopped before the request was answered");
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                       */
/* ------------------------------------------------------------------ */

static int write_port(const gale_conf_t *conf, const char *name, int port, char *err,
                      size_t errlen) {
    const char *dir = gale_conf_get_str(conf, GALE_CONF_LOCAL_DIR, "gale-local");
    char path[4096], line[32], why[512];
    if (gale__mkdirs(dir, why, sizeof why))
        return gale__errf(err, errlen, GALE_EIO, "gale.local.dir: %s", why);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(line, sizeof line, "%d\n", port);
    if (gale__file_write_atomic(path, line, strlen(line), why, sizeof why))
        return gale__errf(err, errlen, GALE_EIO, "%s", why);
    return 0;
}

static void *bind_router(gale__drpc_server_t *s, const char *key, int port, int *bound_port,
                         char *err, size_t errlen) {
    char ep[GALE_ENDPOINT_MAX], bound[GALE_ENDPOINT_MAX] = "", why[512];
    gale__endpoint_tcp(ep, sizeof ep, s->host, port);
    void *r = gale__sock_ctl_server(s->zctx, ep, bound, sizeof bound, why, sizeof why);
    if (!r) {
        gale__errf(err, errlen, GALE_EIO,
                   "DRPC server: %s (%s = %d: is another DRPC server running?)", why, key, port);
        return NULL;
    }
    *bound_port = gale__endpoint_port(bound);
    return r;
}

int gale__drpc_server_start(const gale_conf_t *conf, gale__drpc_server_t **out, char *err,
                            size_t errlen) {
    *out = NULL;
    gale__drpc_server_t *s = calloc(1, sizeof *s);
    if (!s) return gale__errf(err, errlen, GALE_ENOMEM, "DRPC server: out of memory");
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->stop, false);
    gale__drpc_first_host(conf, s->host, sizeof s->host);
    s->timeout_s = gale_conf_get_int(conf, GALE_CONF_DRPC_REQUEST_TIMEOUT_SECS, 600);
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = (uint32_t)gale__now_ns();
    /* ids: a random base per run (bit 63 clear: tuples carry them as int64) */
    uint64_t base = (uint64_t)(rnd & 0x3fffffffu) << 32;
    s->book =
        gale__drpc_book_new((size_t)gale_conf_get_int(conf, GALE_CONF_DRPC_MAX_PENDING, 10000),
                            s->timeout_s * 1000000000LL, GALE_DRPC_SERVE_WINDOW_NS, base);
    s->zctx = zmq_ctx_new();
    int rc = GALE_EIO;
    if (!s->book || !s->zctx) {
        rc = gale__errf(err, errlen, GALE_ENOMEM, "DRPC server: out of memory");
        goto fail;
    }
    s->clients =
        bind_router(s, GALE_CONF_DRPC_PORT, (int)gale_conf_get_int(conf, GALE_CONF_DRPC_PORT, 3772),
                    &s->port, err, errlen);
    if (!s->clients) goto fail;
    s->invocations =
        bind_router(s, GALE_CONF_DRPC_INVOCATIONS_PORT,
                    (int)gale_conf_get_int(conf, GALE_CONF_DRPC_INVOCATIONS_PORT, 3773),
                    &s->inv_port, err, errlen);
    if (!s->invocations) goto fail;
    if ((rc = gale__drpc_http_start(s, (int)gale_conf_get_int(conf, GALE_CONF_DRPC_HTTP_PORT, 3774),
                                    err, errlen)))
        goto fail;
    if ((rc = write_port(conf, "drpc.port", s->port, err, errlen)) ||
        (rc = write_port(conf, "drpc.invocations.port", s->inv_port, err, errlen)) ||
        (rc = write_port(conf, "drpc.http.port", s->http_port, err, errlen)))
        goto fail;
    if (pthread_create(&s->loop, NULL, loop_main, s) != 0) {
        rc = gale__errf(err, errlen, GALE_ENOMEM, "DRPC server: cannot start its thread");
        goto fail;
    }
    s->loop_started = true;
    GALE_INFO(DR, 0,
              "DRPC server on %s: clients port %d, invocations port %d, HTTP port %d, requests "
              "time out after %lld s",
              s->host, s->port, s->inv_port, s->http_port, (long long)s->timeout_s);
    *out = s;
    return 0;
fail:
    gale__drpc_server_stop(s);
    return rc;
}

int gale__drpc_server_port(const gale__drpc_server_t *s) {
    return s->port;
}
int gale__drpc_server_invocations_port(const gale__drpc_server_t *s) {
    return s->inv_port;
}
int gale__drpc_server_http_port(const gale__drpc_server_t *s) {
    return s->http_port;
}

void gale__drpc_server_stop(gale__drpc_server_t *s) {
    if (!s) return;
    atomic_store(&s->stop, true);
    if (s->loop_started) pthread_join(s->loop, NULL);
    pthread_mutex_lock(&s->lock);
    s->stopping = true; /* also when the loop never ran: answer what HTTP queued */
    gale__drpc_req_t *r;
    while (s->book && (r = gale__drpc_book_any(s->book)))
        gale__drpc_complete(s, r, DRPC_BUSY, "the DRPC server stopped");
    pthread_mutex_unlock(&s->lock);
    gale__drpc_http_stop(s); /* its waiters were answered by the loop */
    if (s->clients) zmq_close(s->clients);
    if (s->invocations) zmq_close(s->invocations);
    if (s->zctx) zmq_ctx_term(s->zctx);
    gale__drpc_book_destroy(s->book);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

bool gale__drpc_server_answers(const gale_conf_t *conf, int timeout_ms) {
    int port = (int)gale_conf_get_int(conf, GALE_CONF_DRPC_PORT, 3772);
    if (port == 0) return false; /* an ephemeral port: always our own */
    char host[256], svc[16];
    gale__drpc_first_host(conf, host, sizeof host);
    if (strcmp(host, "0.0.0.0") == 0) snprintf(host, sizeof host, "127.0.0.1");
    snprintf(svc, sizeof svc, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, svc, &hints, &ai) != 0 || !ai) return false;
    bool ok = false;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r == 0) {
            ok = true;
        } else if (errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int e = 0;
            socklen_t el = sizeof e;
            ok = poll(&pfd, 1, timeout_ms) == 1 &&
                 getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0;
        }
        close(fd);
    }
    freeaddrinfo(ai);
    return ok;
}

/* ------------------------------------------------------------------ */
/* gale drpc-server                                                     */
/* ------------------------------------------------------------------ */

int gale__drpc_server_run(const gale_conf_t *conf) {
    gale__log_set_process("drpc");
    if (gale__log_open_daemon(conf, "drpc-server", "drpc.log")) return 1;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    /* blocked before any thread starts, so only sigwait below takes them */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    gale__drpc_server_t *s;
    char err[1024];
    if (gale__drpc_server_start(conf, &s, err, sizeof err)) {
        GALE_ERROR(DR, 0, "%s", err);
        return 1;
    }
    gale__log_daemon_started();
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    GALE_INFO(DR, 0, "stopping (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    gale__drpc_server_stop(s);
    return 0;
}
