/*
 * worker_main.c — the life of one cluster worker process (see
 * worker_main.h and the cluster contract):
 *
 *   log file, pid file, topology files, assignment -> placement, runtime
 *   with only this slot's executors, then a loop on one zmq_poll over the
 *   supervisor link and a signalfd: heartbeats every
 *   worker.heartbeat.frequency.secs, SIGTERM/SIGINT -> clean stop,
 *   SIGHUP -> re-read the assignment, reconnect to moved peers and follow
 *   the topology's status (spouts run only while ACTIVE), no supervisor
 *   reply for supervisor.worker.timeout.secs -> exit 20.
 *
 * Signals are blocked before any thread exists (threads inherit the
 * mask) and read from a signalfd in the poll, so they are handled in this
 * thread, in order, with no async-signal-safety concerns and no polling
 * interval: the loop sleeps exactly until its next heartbeat is due.
 */
#include "worker/worker_main.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "common/assignment.h"
#include "common/builtin.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/wstats.h"
#include "worker/heartbeat.h"
#include "worker/placement.h"
#include "worker/pool.h"
#include "worker/runtime.h"
#include "worker/stormdist.h"

/* The drain on SIGTERM. `gale kill -w` already deactivated the topology
 * and waited for its trees, and the supervisor sends SIGKILL after
 * supervisor.worker.shutdown.sleep.secs (Storm's default 3 s): a short
 * drain leaves room for close/cleanup of every component before that. */
#define STOP_DRAIN_MS 1000

typedef struct worker {
    const gale__worker_args_t *a;
    const char *local_dir, *log_dir, *host;
    char wdir[PATH_MAX];         /* L/workers/<id>-<port> */
    char pidfile[PATH_MAX + 16]; /* wdir/pid */
    gale__ctl_msg_t asg_msg;
    const gale__ctl_topology_assignment_t *asg;
    gale__rt_place_t place;
    gale__rt_t *rt;
    void *lib;
    gale__hb_t *hb;
    int sigfd;
} worker_t;

static int open_log(worker_t *w) {
    char dir[PATH_MAX], path[PATH_MAX + 16], err[512];
    snprintf(dir, sizeof dir, "%s/workers-artifacts/%s/%d", w->log_dir, w->a->topology_id,
             w->a->port);
    snprintf(path, sizeof path, "%s/worker.log", dir);
    int rc = gale__mkdirs(dir, err, sizeof err);
    if (!rc)
        rc = gale__log_open_file(
            path,
            (uint64_t)gale_conf_get_int(w->a->conf, GALE_CONF_WORKER_LOG_MAX_BYTES, 100 << 20),
            (int)gale_conf_get_int(w->a->conf, GALE_CONF_WORKER_LOG_MAX_FILES, 10), isatty(2) == 1,
            err, sizeof err);
    if (rc) GALE_ERROR("worker", 0, "%s (logging to stderr instead)", err);
    return 0; /* a worker without its log file still works */
}

static int write_pid(worker_t *w) {
    char err[512], pid[32];
    snprintf(w->wdir, sizeof w->wdir, "%s/workers/%s-%d", w->local_dir, w->a->topology_id,
             w->a->port);
    snprintf(w->pidfile, sizeof w->pidfile, "%s/pid", w->wdir);
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    int rc = gale__mkdirs(w->wdir, err, sizeof err);
    if (!rc) rc = gale__file_write_atomic(w->pidfile, pid, (size_t)n, err, sizeof err);
    if (rc) GALE_ERROR("worker", 0, "%s", err);
    return rc;
}

/* Only our own pid: a file rewritten by a newer worker of the slot stays. */
static void remove_pid(worker_t *w) {
    void *buf;
    size_t len;
    char err[256];
    if (!w->pidfile[0] || gale__file_read(w->pidfile, 64, &buf, &len, err, sizeof err)) return;
    if (strtol(buf, NULL, 10) == (long)getpid()) unlink(w->pidfile);
    free(buf);
}

/* Read the assignment file into a placement for this slot. */
static int read_placement(worker_t *w, gale__ctl_msg_t *msg,
                          const gale__ctl_topology_assignment_t **asg, gale__rt_place_t *place) {
    char path[PATH_MAX + 16], err[PATH_MAX + 1024];
    snprintf(path, sizeof path, "%s/assignment", w->wdir);
    int rc = gale__assignment_read(path, msg, asg, err, sizeof err);
    if (!rc && strcmp((*asg)->id, w->a->topology_id) != 0) {
        snprintf(err, sizeof err, "%.300s is for topology '%.200s', not '%s'", path, (*asg)->id,
                 w->a->topology_id);
        rc = GALE_EINVAL;
    }
    if (!rc)
        rc = gale__place_from_assignment(*asg, w->a->supervisor_id, w->a->port, w->host, place, err,
                                         sizeof err);
    if (rc) {
        GALE_ERROR("worker", 0, "%s", err);
        gale__ctl_msg_destroy(msg);
        memset(msg, 0, sizeof *msg);
        *asg = NULL;
    }
    return rc;
}

/*
 * The topology's status, as nimbus wrote it into the assignment, says
 * whether the spouts here run (Storm's rule): only while ACTIVE.
 * INACTIVE (gale deactivate), KILLED (the -w wait before removal) and
 * REBALANCING (the -w wait before the new placement) pause them; acks
 * and fails of the trees in flight are still delivered. A change reaches
 * a running worker as a rewritten assignment file and a SIGHUP from its
 * supervisor (on_sighup); a worker started later reads it at start.
 */
static bool spouts_run(const char *status) {
    return strcmp(status, "ACTIVE") == 0;
}

static int start_runtime(worker_t *w) {
    char err[1024] = "";
    gale__topology_t *topo;
    int rc = gale__stormdist_load(w->local_dir, w->a->topology_id, &topo, &w->lib, err, sizeof err);
    if (rc) {
        GALE_ERROR("worker", 0, "%s", err);
        return GALE__WORKER_EXIT_BAD_FILES;
    }
    rc = gale__rt_new_placed(&w->rt, topo, w->a->conf, w->a->overrides, gale__stormdist_resolve,
                             w->lib, &w->place, err, sizeof err);
    if (rc) {
        GALE_ERROR("worker", 0, "cannot build the runtime of %s: %s", w->a->topology_id, err);
        return GALE__WORKER_EXIT_BAD_FILES;
    }
    int level = gale__log_level_parse(gale_conf_get_str(w->rt->conf, GALE_CONF_LOG_LEVEL, NULL));
    if (level >= 0) gale__log_set_level((gale_log_level_t)level);
    if (!spouts_run(w->asg->status)) {
        gale__rt_set_spouts_active(w->rt, false);
        GALE_INFO("worker", 0, "topology %s is %s: its spouts here start deactivated",
                  w->a->topology_id, w->asg->status);
    }
    /* launch only: the tasks open on their threads while the loop below
     * already heartbeats (a slow open() must not look like a dead worker) */
    if (gale__rt_launch(w->rt, err, sizeof err)) {
        GALE_ERROR("worker", 0, "cannot start %s: %s", w->a->topology_id, err);
        return GALE__WORKER_EXIT_FAILED;
    }
    return 0;
}

#define OPEN_POLL_MS 20                /* how often the loop looks whether every task opened */
#define HB_RETRY_NS  (100 * 1000000LL) /* a heartbeat dropped (not connected): again after */

/* One line at start naming this worker's executors by component, e.g.
 * "executors: count[1] count[4] spout[23-24] __acker[28]": how a test or an
 * operator finds which worker hosts what (its log is per slot). */
static void log_executors(worker_t *w) {
    gale__rt_t *rt = w->rt;
    char line[4096];
    size_t len = (size_t)snprintf(line, sizeof line, "executors:");
    size_t shown = 0, here = 0;
    for (size_t i = 0; i < rt->n_execs; i++) {
        const gale__exec_t *e = &rt->execs[i];
        if (!e->worker->local || !e->n_tasks) continue;
        here++;
        int first = e->tasks[0].id, last = e->tasks[e->n_tasks - 1].id;
        char one[160];
        if (first == last)
            snprintf(one, sizeof one, " %s[%d]", e->comp->id, first);
        else
            snprintf(one, sizeof one, " %s[%d-%d]", e->comp->id, first, last);
        if (len + strlen(one) + 16 >= sizeof line) continue; /* counted in "more" below */
        memcpy(line + len, one, strlen(one) + 1);
        len += strlen(one);
        shown++;
    }
    if (shown < here) snprintf(line + len, sizeof line - len, " (%zu more)", here - shown);
    GALE_INFO("worker", 0, "%s", line);
}

/* One line per component with executors here, at stop: what a test or
 * an operator reads back from worker.log (emitted=, executed=, Storm's
 * failed(reason)= names, as gale local prints them). */
static void log_summary(worker_t *w) {
    gale__rt_t *rt = w->rt;
    for (size_t c = 0; c < rt->n_comps; c++) {
        size_t here = 0;
        for (size_t i = 0; i < rt->n_execs; i++)
            here += rt->execs[i].comp == &rt->comps[c] && rt->execs[i].worker->local;
        if (!here) continue;
        gale__stats_t s;
        gale__rt_stats(rt, rt->comps[c].id, &s);
        GALE_INFO(rt->comps[c].id, 0,
                  "summary %s executors=%zu emitted=%llu transferred=%llu executed=%llu "
                  "acked=%llu failed(timeout)=%llu failed(failed)=%llu errors=%llu "
                  "backpressure_waits=%llu",
                  rt->comps[c].id, here, (unsigned long long)s.emitted,
                  (unsigned long long)s.transferred, (unsigned long long)s.executed,
                  (unsigned long long)s.acked, (unsigned long long)s.failed_timeout,
                  (unsigned long long)s.failed_explicit, (unsigned long long)s.errors,
                  (unsigned long long)s.backpressure_waits);
    }
    for (size_t i = 0; i < rt->n_workers; i++) {
        gale__worker_t *wk = &rt->workers[i];
        if (!wk->local) continue;
        /* gale_mem_in_use: tuple blocks, pool chunks, queue slots, pending
         * maps (not ZeroMQ's own buffers); the drops are what the transfer
         * and receive threads had to throw away */
        GALE_INFO("worker", 0,
                  "summary memory peak=%lld bytes now=%lld; transfer rx_rejected=%llu "
                  "rx_dropped=%llu tx_errors=%llu",
                  (long long)gale__mem_peak(), (long long)gale_mem_in_use(),
                  (unsigned long long)atomic_load(&wk->rx_rejected),
                  (unsigned long long)atomic_load(&wk->rx_dropped),
                  (unsigned long long)atomic_load(&wk->tx_errors));
    }
    /* what crossed to and from the other workers, and in how many ZeroMQ
     * messages (the mean batch size tells how well batching works) */
    gale__xfer_counts_t x;
    gale__transfer_counts(&rt->workers[w->place.here], &x);
    GALE_INFO("worker", 0,
              "summary transfer sent=%llu tuples in %llu messages (%llu bytes) received=%llu "
              "tuples in %llu messages (%llu bytes)",
              (unsigned long long)x.tuples_sent, (unsigned long long)x.batches_sent,
              (unsigned long long)x.bytes_sent, (unsigned long long)x.tuples_received,
              (unsigned long long)x.batches_received, (unsigned long long)x.bytes_received);
}

static bool send_heartbeat(worker_t *w) {
    gale__ctl_executor_range_t *mine = calloc(w->place.n_execs + 1, sizeof *mine);
    if (!mine) return false; /* the next one may fare better */
    uint32_t n = 0;
    for (size_t i = 0; i < w->place.n_execs; i++)
        if (w->place.execs[i].worker == w->place.here)
            mine[n++] = (gale__ctl_executor_range_t){(uint64_t)w->place.execs[i].start,
                                                     (uint64_t)w->place.execs[i].end};
    /* the counters travel with every heartbeat (DESIGN §7): cumulative,
     * so a lost heartbeat loses nothing; start_ms tells nimbus a restarted
     * process from this one. Without them (out of memory) it still beats. */
    static int64_t start_ms;
    if (!start_ms) start_ms = gale__wall_ms();
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    bool with_stats = gale__rt_wstats(w->rt, (uint64_t)start_ms, &sb) == 0 && sb.size > 0 &&
                      sb.size <= GALE__WS_MAX_BYTES;
    gale__ctl_worker_heartbeat_t hb = {
        .topology_id = w->a->topology_id,
        .port = (uint64_t)w->a->port,
        .pid = (uint64_t)getpid(),
        .assignment_version = w->asg ? w->asg->version : 0,
        .executors = {mine, n},
        .done = gale__rt_done(w->rt),
        .stats = {with_stats ? (const uint8_t *)sb.data : NULL, with_stats ? sb.size : 0}};
    bool sent = gale__hb_send(w->hb, &hb);
    msgpack_sbuffer_destroy(&sb);
    free(mine);
    return sent;
}

/* SIGHUP: peers that moved get reconnected; a regrouping needs a restart. */
static int on_sighup(worker_t *w) {
    gale__ctl_msg_t msg;
    const gale__ctl_topology_assignment_t *asg;
    gale__rt_place_t place;
    if (read_placement(w, &msg, &asg, &place)) {
        GALE_WARN("worker", 0, "SIGHUP: keeping the current assignment");
        return 0;
    }
    if (!gale__place_same_layout(&w->place, &place)) {
        GALE_WARN("worker", 0,
                  "SIGHUP: assignment version %llu groups the executors differently: stopping so "
                  "that the supervisor restarts this worker with it",
                  (unsigned long long)asg->version);
        gale__place_free(&place);
        gale__ctl_msg_destroy(&msg);
        return GALE__WORKER_EXIT_REGROUPED;
    }
    int moved = gale__rt_set_endpoints(w->rt, &place);
    GALE_INFO("worker", 0, "SIGHUP: assignment version %llu, %d peer(s) moved%s",
              (unsigned long long)asg->version, moved, moved ? ": reconnecting" : "");
    bool run = spouts_run(asg->status);
    if (run != spouts_run(w->asg->status)) {
        GALE_INFO("worker", 0, "topology %s is %s: %s its spouts here", w->a->topology_id,
                  asg->status, run ? "activating" : "deactivating");
        gale__rt_set_spouts_active(w->rt, run);
    }
    gale__place_free(&w->place);
    gale__ctl_msg_destroy(&w->asg_msg);
    w->place = place;
    w->asg_msg = msg;
    w->asg = &w->asg_msg.u.assignment_reply.topologies.items[0];
    return 0;
}

static int run_loop(worker_t *w) {
    int64_t freq_ns =
        gale_conf_get_int(w->a->conf, GALE_CONF_WORKER_HEARTBEAT_FREQUENCY_SECS, 1) * 1000000000LL;
    int64_t timeout_ns =
        gale_conf_get_int(w->a->conf, GALE_CONF_SUPERVISOR_WORKER_TIMEOUT_SECS, 30) * 1000000000LL;
    /* Orphaned = a heartbeat unanswered for the timeout, timed from the
     * oldest one tried since the last reply (0: none waiting). Timing from
     * the last reply instead would count the heartbeat period too: with
     * the timeout equal to the period (both may be 1 s) every reply a
     * little late would orphan a worker whose supervisor is fine. For the
     * same reason a heartbeat dropped because the link to the supervisor
     * is not up (yet: the first one, at start) is tried again soon, not a
     * period later. */
    int64_t now = gale__now_ns(), waiting_since = 0, next_hb = now;
    bool opened = false;
    for (;;) {
        now = gale__now_ns();
        if (!opened) {
            char err[512] = "";
            int rc = gale__rt_poll_open(w->rt, err, sizeof err);
            if (rc < 0) {
                GALE_ERROR("worker", 0, "a task failed to open: %s", err);
                return GALE__WORKER_EXIT_FAILED;
            }
            opened = rc == 0;
        }
        if (now >= next_hb) {
            bool sent = send_heartbeat(w);
            if (!waiting_since) waiting_since = now;
            next_hb = now + (sent ? freq_ns : HB_RETRY_NS);
        }
        if (waiting_since && now - waiting_since > timeout_ns) {
            GALE_ERROR("worker", 0,
                       "no reply from the supervisor for %lld s (supervisor.worker.timeout.secs): "
                       "exiting, as an orphaned worker must",
                       (long long)((now - waiting_since) / 1000000000LL));
            return GALE__WORKER_EXIT_ORPHANED;
        }
        if (gale__builtin_failed()) {
            GALE_ERROR("worker", 0, "a component failed (see above): stopping");
            return GALE__WORKER_EXIT_FAILED;
        }
        int64_t wait_ns = next_hb - now;
        if (waiting_since && waiting_since + timeout_ns - now + 1000000 < wait_ns)
            wait_ns = waiting_since + timeout_ns - now + 1000000;
        if (!opened && wait_ns > OPEN_POLL_MS * 1000000LL) wait_ns = OPEN_POLL_MS * 1000000LL;
        zmq_pollitem_t it[2] = {{gale__hb_socket(w->hb), 0, ZMQ_POLLIN, 0},
                                {NULL, w->sigfd, ZMQ_POLLIN, 0}};
        int rc = zmq_poll(it, 2, wait_ns > 0 ? (long)(wait_ns / 1000000) + 1 : 0);
        if (rc < 0 && zmq_errno() != EINTR) {
            GALE_ERROR("worker", 0, "poll failed: %s", zmq_strerror(zmq_errno()));
            return GALE__WORKER_EXIT_FAILED;
        }
        if (rc <= 0) continue;
        if ((it[0].revents & ZMQ_POLLIN) && gale__hb_recv(w->hb) > 0) waiting_since = 0;
        if (it[1].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo si;
            if (read(w->sigfd, &si, sizeof si) != (ssize_t)sizeof si) continue;
            if (si.ssi_signo == SIGHUP) {
                int code = on_sighup(w);
                if (code) return code;
            } else {
                GALE_INFO("worker", 0, "%s received: stopping",
                          si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                return GALE__WORKER_EXIT_OK;
            }
        }
    }
}

static int block_signals(worker_t *w) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &s, NULL) != 0) return -1;
    w->sigfd = signalfd(-1, &s, SFD_CLOEXEC);
    return w->sigfd < 0 ? -1 : 0;
}

int gale__worker_run(const gale__worker_args_t *a) {
    worker_t w = {.a = a, .sigfd = -1};
    w.local_dir = gale_conf_get_str(a->conf, GALE_CONF_LOCAL_DIR, "gale-local");
    w.log_dir = gale_conf_get_str(a->conf, GALE_CONF_LOG_DIR, "logs");
    w.host = gale_conf_get_str(a->conf, GALE_CONF_LOCAL_HOSTNAME, "127.0.0.1");
    w.place.here = -1;
    gale__log_set_process("worker");
    /* before any thread: every thread inherits the blocked signals */
    if (block_signals(&w)) {
        GALE_ERROR("worker", 0, "cannot set up signal handling: %s", strerror(errno));
        return GALE__WORKER_EXIT_FAILED;
    }
    open_log(&w);
    GALE_INFO("worker", 0, "starting: topology %s, port %d, supervisor %s", a->topology_id, a->port,
              a->supervisor_id);
    int code = GALE__WORKER_EXIT_BAD_FILES;
    char ep[PATH_MAX + 32], err[512];
    if (write_pid(&w)) goto out;
    if (read_placement(&w, &w.asg_msg, &w.asg, &w.place)) goto out;
    if (gale__hb_endpoint(w.local_dir, ep, sizeof ep, err, sizeof err) ||
        gale__hb_open(ep, &w.hb, err, sizeof err)) {
        GALE_ERROR("worker", 0, "%s", err);
        goto out;
    }
    code = start_runtime(&w);
    if (code) goto out;
    log_executors(&w);
    GALE_INFO("worker", 0, "running %s (assignment version %llu) on %s; supervisor at %s",
              a->topology_id, (unsigned long long)w.asg->version, w.place.endpoints[w.place.here],
              ep);
    code = run_loop(&w);
out:
    if (w.rt) {
        GALE_INFO("worker", 0, "stopping: deactivating spouts, draining in-flight tuples");
        int stuck = gale__rt_stop(w.rt, code == GALE__WORKER_EXIT_OK ? STOP_DRAIN_MS : 0);
        log_summary(&w);
        if (stuck) {
            /* they still run user code: nothing may be freed under them
             * (runtime.h); exit now, the process ends them */
            for (size_t i = 0; i < w.rt->n_execs; i++) {
                char line[256];
                if (!w.rt->execs[i].stuck) continue;
                gale__rt_describe_stuck(w.rt, i, line, sizeof line);
                GALE_ERROR("worker", 0, "%s", line);
            }
            GALE_ERROR("worker", 0, "exit 1: %d executor(s) did not stop", stuck);
            remove_pid(&w);
            gale__log_close_file();
            _exit(GALE__WORKER_EXIT_FAILED);
        }
        GALE_INFO("worker", 0, "every component closed and cleaned up");
    }
    gale__rt_destroy(w.rt);
    gale__hb_close(w.hb);
    if (w.lib) dlclose(w.lib);
    gale__place_free(&w.place);
    gale__ctl_msg_destroy(&w.asg_msg);
    remove_pid(&w);
    GALE_INFO("worker", 0, "exit %d (%s)", code,
              code == 0    ? "clean stop"
              : code == 20 ? "orphaned"
              : code == 21 ? "bad files"
              : code == 22 ? "regrouped"
                           : "failed");
    if (w.sigfd >= 0) close(w.sigfd);
    gale__log_close_file();
    return code;
}
