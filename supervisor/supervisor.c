/*
 * supervisor.c — `gale supervisor`: its id, its log, the worker-heartbeat
 * ROUTER (ipc://L/supervisor/sock, or tcp loopback when that path is too
 * long for a unix socket; the endpoint is always written to
 * L/supervisor/endpoint, which workers read), the client to nimbus, the
 * adoption of running workers, then one loop: apply the worker heartbeats
 * its link thread answered (worker_link.c), fetch the assignments when
 * nimbus pushes a new version (it does at each change, so a submission
 * does not wait for the next heartbeat), heartbeat nimbus, watch the
 * workers. On SIGTERM/SIGINT it exits and
 * leaves its workers running (a restarted supervisor adopts them).
 */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/fileio.h"
#include "common/log.h"
#include "supervisor/logviewer.h"

#define SV "supervisor"

static volatile sig_atomic_t stop_signal, child_exited;
static void on_signal(int sig) {
    stop_signal = sig;
}
/* A worker this supervisor started exited: look at once, not at the next
 * supervisor.monitor.frequency.secs (adopted workers are not our children
 * and are found by the periodic look). */
static void on_sigchld(int sig) {
    (void)sig;
    child_exited = 1;
}

static int bind_worker_socket(supervisor_t *sv, char *err, size_t errlen) {
    char endpoint[GALE_ENDPOINT_MAX], bound[GALE_ENDPOINT_MAX] = "";
    struct sockaddr_un un;
    int n = snprintf(endpoint, sizeof endpoint, "ipc://%s/supervisor/sock", sv->local);
    if (n < 0 || (size_t)n - 6 >= sizeof un.sun_path)
        snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:0");
    else {
        char path[4096];
        snprintf(path, sizeof path, "%s/supervisor/sock", sv->local);
        unlink(path); /* left by a supervisor that died */
    }
    sv->router = gale__sock_ctl_server(sv->zctx, endpoint, bound, sizeof bound, err, errlen);
    if (!sv->router) return GALE_EIO;
    char path[4096], line[GALE_ENDPOINT_MAX + 1];
    snprintf(path, sizeof path, "%s/supervisor/endpoint", sv->local);
    n = snprintf(line, sizeof line, "%s\n", bound);
    return gale__file_write_atomic(path, line, (size_t)n, err, errlen);
}

static int nimbus_endpoint(supervisor_t *sv, char *out, size_t cap) {
    const gale_value_t *seeds = gale_conf_get(sv->conf, GALE_CONF_NIMBUS_SEEDS);
    char host[256] = "127.0.0.1";
    if (seeds && seeds->type == GALE_T_ARRAY && seeds->len > 0 && seeds->u.a[0].type == GALE_T_STR)
        snprintf(host, sizeof host, "%.*s", (int)seeds->u.a[0].len, seeds->u.a[0].u.s);
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    int port = (int)gale_conf_get_int(sv->conf, GALE_CONF_NIMBUS_PORT, 6627);
    snprintf(sv->nimbus_desc, sizeof sv->nimbus_desc, "%s:%d", host, port);
    gale__endpoint_tcp(out, cap, host, port);
    return port > 0 ? 0 : -1;
}

static int64_t secs_ns(const gale_conf_t *c, const char *key, int64_t def) {
    return gale_conf_get_int(c, key, def) * 1000000000LL;
}

int gale__supervisor_run(const gale_conf_t *conf) {
    supervisor_t sv0, *sv = &sv0;
    memset(sv, 0, sizeof *sv);
    sv->conf = conf;
    sv->start_ns = gale__now_ns();
    sv->logviewer_port = GALE_CTL_UNSET;
    char err[1024], path[4096];
    int rc = 1;
    gale__logviewer_t *lv = NULL;
    gale__sv_link_t *link = NULL;
    gale__log_set_process("supervisor");
    snprintf(sv->local, sizeof sv->local, "%s",
             gale_conf_get_str(conf, GALE_CONF_LOCAL_DIR, "gale-local"));
    snprintf(sv->logdir, sizeof sv->logdir, "%s",
             gale_conf_get_str(conf, GALE_CONF_LOG_DIR, "logs"));
    /* unset: loopback for now (the contract's default until name lookup is wired) */
    snprintf(sv->host, sizeof sv->host, "%s",
             gale_conf_get_str(conf, GALE_CONF_LOCAL_HOSTNAME, "127.0.0.1"));
    if (gale__pathf(path, sizeof path, err, sizeof err, "%s/supervisor", sv->local) ||
        gale__mkdirs(path, err, sizeof err)) {
        fprintf(stderr, "gale supervisor: %s\n", err);
        return 1;
    }
    if (gale__log_open_daemon(conf, "supervisor", "supervisor.log")) return 1;
    sv->worker_timeout_ns = secs_ns(conf, GALE_CONF_SUPERVISOR_WORKER_TIMEOUT_SECS, 30);
    sv->worker_hb_ns = secs_ns(conf, GALE_CONF_WORKER_HEARTBEAT_FREQUENCY_SECS, 1);
    sv->start_timeout_ns = secs_ns(conf, GALE_CONF_SUPERVISOR_WORKER_START_TIMEOUT_SECS, 120);
    sv->shutdown_ns = secs_ns(conf, GALE_CONF_SUPERVISOR_WORKER_SHUTDOWN_SLEEP_SECS, 3);
    sv->hb_ns = secs_ns(conf, GALE_CONF_SUPERVISOR_HEARTBEAT_FREQUENCY_SECS, 5);
    int64_t mon_ns = secs_ns(conf, GALE_CONF_SUPERVISOR_MONITOR_FREQUENCY_SECS, 3);
    ssize_t n = readlink("/proc/self/exe", sv->self_exe, sizeof sv->self_exe - 1);
    if (n <= 0) {
        GALE_ERROR(SV, 0, "cannot find the gale binary (/proc/self/exe): %s", strerror(errno));
        return 1;
    }
    sv->self_exe[n] = '\0';
    if (gale__sv_load_id(sv, err, sizeof err)) {
        GALE_ERROR(SV, 0, "supervisor id: %s", err);
        return 1;
    }
    char nimbus[GALE_ENDPOINT_MAX];
    if (nimbus_endpoint(sv, nimbus, sizeof nimbus)) {
        GALE_ERROR(SV, 0, "nimbus.port 0 is not a port to connect to: give nimbus's real port");
        return 1;
    }
    sv->zctx = zmq_ctx_new();
    if (!sv->zctx || bind_worker_socket(sv, err, sizeof err) ||
        gale__ctl_client_open(&sv->nimbus, sv->zctx, nimbus, err, sizeof err)) {
        GALE_ERROR(SV, 0, "%s", err);
        goto out;
    }
    gale__sv_adopt(sv);
    size_t asked = gale__sv_find_ports(sv);
    if (asked && !sv->n_ports) { /* it would run on, useless: ports are looked at once */
        GALE_ERROR(SV, 0,
                   "none of the %zu port(s) of supervisor.slots.ports can be offered (the lines "
                   "above say why): give this supervisor free ports",
                   asked);
        goto out;
    }
    /* The log viewer (supervisor/logviewer.c) serves the workers' logs.
     * A port it cannot bind costs `gale logs` only: warn and go on. */
    if (gale__pathf(path, sizeof path, err, sizeof err, "%s/workers-artifacts", sv->logdir) == 0 &&
        gale__logviewer_start(conf, path,
                              (int)gale_conf_get_int(conf, GALE_CONF_LOGVIEWER_PORT, 8000), &lv,
                              err, sizeof err) == 0) {
        sv->logviewer_port = (uint64_t)gale__logviewer_port(lv);
        char line[32];
        int ln = snprintf(line, sizeof line, "%d\n", gale__logviewer_port(lv));
        if (gale__pathf(path, sizeof path, err, sizeof err, "%s/logviewer.port", sv->local) ||
            gale__file_write_atomic(path, line, (size_t)ln, err, sizeof err))
            GALE_WARN(SV, 0, "%s", err);
    } else {
        GALE_WARN(SV, 0, "no log viewer: %s (gale logs cannot read this host)", err);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    GALE_INFO(SV, 0, "id %s on %s: %zu slot(s), nimbus at %s, %zu worker(s) adopted", sv->id,
              sv->host, sv->n_ports, sv->nimbus_desc, sv->n_workers);

    if (gale__sv_link_start(sv->router, &link)) {
        GALE_ERROR(SV, 0, "cannot start the worker-heartbeat thread: out of memory");
        goto out;
    }
    sv->link = link;
    gale__log_daemon_started();
    int64_t next_hb = 0, next_mon = gale__now_ns() + mon_ns;
    while (!stop_signal) {
        struct timespec tick = {0, 100 * 1000000}; /* heartbeats are answered by the link */
        nanosleep(&tick, NULL);
        gale__sv_link_apply(link, sv);
        if (gale__sv_pushed(sv)) gale__sv_monitor(sv); /* within a tick of a change */
        int64_t now = gale__now_ns();
        if (now >= next_hb || sv->report_now) {
            sv->report_now = false;
            gale__sv_heartbeat(sv);
            next_hb = gale__now_ns() + sv->hb_ns;
            gale__sv_link_apply(link, sv);
            gale__sv_monitor(sv); /* new assignments start at once */
        }
        if (now >= next_mon || child_exited) {
            child_exited = 0;
            gale__sv_link_apply(link, sv); /* ages as of now, after a long nimbus call */
            gale__sv_monitor(sv);
            next_mon = now + mon_ns;
        }
    }
    GALE_INFO(SV, 0, "stopping (%s); %zu worker(s) keep running",
              stop_signal == SIGINT ? "SIGINT" : "SIGTERM", sv->n_workers);
    rc = 0;
out:
    sv->link = NULL;
    gale__sv_link_stop(link);
    gale__ctl_client_close(&sv->nimbus);
    if (sv->router) zmq_close(sv->router);
    if (sv->zctx) zmq_ctx_term(sv->zctx);
    gale__logviewer_stop(lv);
    gale__sv_workers_free(sv);
    if (rc == 0) GALE_INFO(SV, 0, "stopped");
    return rc;
}
