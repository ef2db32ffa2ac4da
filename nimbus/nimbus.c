/*
 * nimbus.c — `gale nimbus`: open the store, recover, bind the control
 * ROUTER, then one loop: wait for a request (at most 200 ms), dispatch it
 * by type, and run the timers (uploads, kill/rebalance waits) and the
 * liveness monitor. The roles live in the files nimbus.h lists.
 *
 * A request nimbus cannot decode is answered with reply{ok: false} when
 * its header named a type (the requester can match it), otherwise only
 * logged; either way the loop goes on, so garbage on the port never
 * stops nimbus. Such warnings are rate-limited (one per second, with a
 * count of the suppressed ones).
 */
#include "nimbus/nimbus.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/fileio.h"
#include "common/log.h"

#define NB "nimbus"

void gale__nb_reply_ok(nimbus_t *nb, const gale__ctl_peer_t *p, uint64_t req, const char *id) {
    gale__nb_reply_wait(nb, p, req, id, GALE_CTL_UNSET);
}

void gale__nb_reply_wait(nimbus_t *nb, const gale__ctl_peer_t *p, uint64_t req, const char *id,
                         uint64_t wait_secs) {
    gale__ctl_reply_t r = GALE__CTL_REPLY(true, NULL, id);
    r.wait_secs = wait_secs;
    char err[256];
    if (gale__ctl_server_send(nb->router, p, GALE_CTL_REPLY, req, &r, err, sizeof err))
        GALE_WARN(NB, 0, "reply: %s", err);
}

void gale__nb_reply_err(nimbus_t *nb, const gale__ctl_peer_t *p, uint64_t req, const char *fmt,
                        ...) {
    char why[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    gale__ctl_reply_error(nb->router, p, req, why);
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) {
    stop_signal = sig;
}

/* Garbage is logged at most once a second, with how many were not. */
static void warn_refused(const char *why) {
    static int64_t last_ns;
    static unsigned suppressed;
    int64_t now = gale__now_ns();
    if (last_ns && now - last_ns < 1000000000) {
        suppressed++;
        return;
    }
    GALE_WARN(NB, 0, "refused a request: %s (%u more refused since the last such line)", why,
              suppressed);
    last_ns = now;
    suppressed = 0;
}

static void dispatch(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    switch (m->type) {
        case GALE_CTL_SUBMIT_BEGIN:
            gale__nb_submit_begin(nb, p, m);
            break;
        case GALE_CTL_SUBMIT_CHUNK:
            gale__nb_submit_chunk(nb, p, m);
            break;
        case GALE_CTL_SUBMIT_END:
            gale__nb_submit_end(nb, p, m);
            break;
        case GALE_CTL_LIST:
            gale__nb_list(nb, p, m);
            break;
        case GALE_CTL_KILL:
        case GALE_CTL_ACTIVATE:
        case GALE_CTL_DEACTIVATE:
        case GALE_CTL_REBALANCE:
            gale__nb_lifecycle(nb, p, m);
            break;
        case GALE_CTL_SUPERVISOR_HEARTBEAT:
            gale__nb_supervisor_heartbeat(nb, p, m);
            break;
        case GALE_CTL_ASSIGNMENT_FETCH:
            gale__nb_assignment_fetch(nb, p, m);
            break;
        case GALE_CTL_CODE_FETCH:
            gale__nb_code_fetch(nb, p, m);
            break;
        case GALE_CTL_STATS:
            gale__nb_stats(nb, p, m);
            break;
        default:
            gale__nb_reply_err(nb, p, m->req, "nimbus does not take %s requests",
                               gale__ctl_type_name(m->type));
    }
}

static int64_t secs_ns(const gale_conf_t *c, const char *key, int64_t def) {
    return gale_conf_get_int(c, key, def) * 1000000000LL;
}

int gale__nimbus_run(const gale_conf_t *conf) {
    nimbus_t nb0, *nb = &nb0;
    memset(nb, 0, sizeof *nb);
    char err[1024] = "", path[4096], bound[GALE_ENDPOINT_MAX] = "";
    int rc = 1;
    gale__log_set_process("nimbus");
    if (gale__log_open_daemon(conf, "nimbus", "nimbus.log")) return 1;
    nb->conf = gale_conf_dup(conf);
    if (!nb->conf) return 1;
    nb->start_ns = gale__now_ns();
    nb->sup_timeout_ns = secs_ns(conf, GALE_CONF_NIMBUS_SUPERVISOR_TIMEOUT_SECS, 60);
    nb->task_timeout_ns = secs_ns(conf, GALE_CONF_NIMBUS_TASK_TIMEOUT_SECS, 30);
    nb->launch_ns = secs_ns(conf, GALE_CONF_NIMBUS_TASK_LAUNCH_SECS, 120);
    nb->monitor_ns = secs_ns(conf, GALE_CONF_NIMBUS_MONITOR_FREQ_SECS, 10);

    const char *local = gale_conf_get_str(conf, GALE_CONF_LOCAL_DIR, "gale-local");
    snprintf(path, sizeof path, "%s/nimbus", local);
    nb->store = gale__store_dir_open(path, err, sizeof err);
    if (!nb->store) {
        GALE_ERROR(NB, 0, "cannot open the state store: %s", err);
        goto out;
    }
    if (gale__nb_recover(nb, err, sizeof err)) {
        GALE_ERROR(NB, 0, "cannot recover the state in %s: %s", path, err);
        goto out;
    }

    /* nimbus.seeds' first host is where the CLI and supervisors look;
     * nimbus binds that address (a host name resolves through ZeroMQ's
     * tcp transport), and every interface for "0.0.0.0" */
    const gale_value_t *seeds = gale_conf_get(conf, GALE_CONF_NIMBUS_SEEDS);
    char host[256] = "127.0.0.1";
    if (seeds && seeds->type == GALE_T_ARRAY && seeds->len > 0 && seeds->u.a[0].type == GALE_T_STR)
        snprintf(host, sizeof host, "%.*s", (int)seeds->u.a[0].len, seeds->u.a[0].u.s);
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    char endpoint[GALE_ENDPOINT_MAX];
    gale__endpoint_tcp(endpoint, sizeof endpoint, host,
                       (int)gale_conf_get_int(conf, GALE_CONF_NIMBUS_PORT, 6627));
    nb->zctx = zmq_ctx_new();
    nb->router =
        nb->zctx ? gale__sock_ctl_server(nb->zctx, endpoint, bound, sizeof bound, err, sizeof err)
                 : NULL;
    if (!nb->router) {
        GALE_ERROR(NB, 0, "%s (nimbus.port: is another nimbus running?)", err);
        goto out;
    }
    int port = nb->port = gale__endpoint_port(bound);
    char portline[32];
    snprintf(portline, sizeof portline, "%d\n", port);
    snprintf(path, sizeof path, "%s/nimbus.port", local);
    if (gale__file_write_atomic(path, portline, strlen(portline), err, sizeof err)) {
        GALE_ERROR(NB, 0, "%s", err);
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    GALE_INFO(NB, 0, "listening on %s, state in %s/nimbus, %zu topologies recovered", bound, local,
              nb->n_topos);
    gale__log_daemon_started();

    int64_t next_monitor = gale__now_ns();
    while (!stop_signal) {
        zmq_pollitem_t pi = {nb->router, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&pi, 1, 200);
        if (n < 0 && errno != EINTR) {
            GALE_ERROR(NB, 0, "poll: %s", zmq_strerror(errno));
            break;
        }
        for (int k = 0; n > 0 && k < 64; k++) { /* a burst, then the timers */
            gale__ctl_peer_t peer;
            gale__ctl_msg_t m;
            int r = gale__ctl_server_recv(nb->router, &peer, &m, err, sizeof err);
            if (r == GALE_ENOENT) break;
            if (r == 0) {
                dispatch(nb, &peer, &m);
            } else {
                warn_refused(err);
                if (m.type != GALE_CTL_NONE && peer.len)
                    gale__ctl_reply_error(nb->router, &peer, m.req, err);
            }
            gale__ctl_msg_destroy(&m);
        }
        gale__nb_uploads_expire(nb);
        gale__nb_fetched_expire(nb, false);
        gale__nb_timers(nb);
        int64_t now = gale__now_ns();
        /* liveness: every monitor period, and at once when something
         * changed (a submission, a supervisor joining) */
        if (now >= next_monitor || nb->dirty) {
            gale__nb_monitor(nb);
            if (now >= next_monitor) next_monitor = now + nb->monitor_ns;
        }
    }
    GALE_INFO(NB, 0, "stopping (%s)", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    gale__nb_uploads_free(nb);
    gale__nb_fetched_expire(nb, true);
    gale__nb_topos_free(nb);
    gale__nb_sups_free(nb);
    gale__nb_stats_free(nb);
    if (nb->router) zmq_close(nb->router);
    if (nb->zctx) zmq_ctx_term(nb->zctx);
    gale__store_destroy(nb->store);
    gale_conf_destroy(nb->conf);
    if (rc == 0) GALE_INFO(NB, 0, "stopped");
    return rc;
}
