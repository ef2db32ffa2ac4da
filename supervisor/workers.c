/*
 * workers.c — the supervisor's worker processes.
 *
 * Start: fork, point stdout/stderr at
 * G/workers-artifacts/<id>/<port>/worker.log.out/.err, exec
 *   gale worker --topology-id <id> --port <port> --supervisor-id <sid> -c ...
 * (the -c keys carry this supervisor's dirs, host and timing, so the
 * worker reads the same files; the command line names the topology and
 * port, so an operator finds workers in ps). The worker is in its own
 * process group, so a Ctrl-C at the supervisor's terminal does not kill
 * it: workers outlive a supervisor restart, by design.
 *
 * Watch: a child that exits is reaped (waitpid); an adopted worker (not
 * our child) is checked with /proc. A worker whose next heartbeat is
 * supervisor.worker.timeout.secs late (or with no first one within
 * supervisor.worker.start.timeout.secs of a start) is killed. Either way
 * it is started again at once, then after a backoff doubling from 1 s up
 * to 30 s while it keeps dying (reset once it heartbeats), and its restarts are counted and
 * reported to nimbus.
 *
 * Stop: SIGTERM (the worker drains and exits 0), SIGKILL after
 * supervisor.worker.shutdown.sleep.secs (3 s, Storm's default) if it is
 * still there.
 *
 * Adopt: after a restart, each L/workers/<id>-<port>/pid whose process is
 * alive and whose command line is `gale worker --topology-id <id> --port
 * <port>` is kept as it is (PID unchanged) until the assignment says
 * otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/fileio.h"
#include "common/log.h"
#include "supervisor/supervisor.h"

#define SV             "supervisor"
#define BACKOFF_MIN_NS 1000000000LL
#define BACKOFF_MAX_NS (30 * 1000000000LL)

void gale__sv_worker_path(const supervisor_t *sv, const sv_worker_t *w, const char *file, char *out,
                          size_t cap) {
    snprintf(out, cap, "%s/workers/%s-%d%s%s", sv->local, w->topology_id, w->port, file ? "/" : "",
             file ? file : "");
}

sv_worker_t *gale__sv_worker(supervisor_t *sv, const char *topology_id, int port, bool create) {
    for (size_t i = 0; i < sv->n_workers; i++)
        if (sv->workers[i].port == port && strcmp(sv->workers[i].topology_id, topology_id) == 0)
            return &sv->workers[i];
    if (!create) return NULL;
    sv_worker_t *g = realloc(sv->workers, (sv->n_workers + 1) * sizeof *g);
    if (!g) return NULL;
    sv->workers = g;
    sv_worker_t *w = &sv->workers[sv->n_workers++];
    memset(w, 0, sizeof *w);
    snprintf(w->topology_id, sizeof w->topology_id, "%s", topology_id);
    w->port = port;
    w->state = "starting";
    return w;
}

void gale__sv_workers_free(supervisor_t *sv) {
    for (size_t i = 0; i < sv->n_workers; i++) {
        free(sv->workers[i].execs);
        free(sv->workers[i].stats);
    }
    free(sv->workers);
    sv->workers = NULL;
    sv->n_workers = 0;
}

static void remove_worker(supervisor_t *sv, sv_worker_t *w) {
    free(w->execs);
    free(w->stats);
    size_t i = (size_t)(w - sv->workers);
    sv->workers[i] = sv->workers[--sv->n_workers];
}

/* Does /proc say pid is `gale worker` for this topology and port? */
static bool is_our_worker(pid_t pid, const char *topology_id, int port) {
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    bool worker = false, topo = false, prt = false;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    for (ssize_t i = 0; i < n;) {
        const char *a = buf + i;
        size_t len = strlen(a);
        const char *next = i + (ssize_t)len + 1 < n ? a + len + 1 : "";
        if (strcmp(a, "worker") == 0) worker = true;
        if (strcmp(a, "--topology-id") == 0 && strcmp(next, topology_id) == 0) topo = true;
        if (strcmp(a, "--port") == 0 && strcmp(next, portstr) == 0) prt = true;
        i += (ssize_t)len + 1;
    }
    return worker && topo && prt;
}

static bool alive(const sv_worker_t *w) {
    if (w->pid <= 0) return false;
    if (w->child) {
        int status;
        return waitpid(w->pid, &status, WNOHANG) == 0;
    }
    return kill(w->pid, 0) == 0 && is_our_worker(w->pid, w->topology_id, w->port);
}

void gale__sv_start_worker(supervisor_t *sv, sv_worker_t *w) {
    char logdir[4096], out[4200], errp[4200], err[512];
    snprintf(logdir, sizeof logdir, "%s/workers-artifacts/%s/%d", sv->logdir, w->topology_id,
             w->port);
    if (gale__mkdirs(logdir, err, sizeof err)) {
        GALE_ERROR(SV, 0, "%s:%d: %s", w->topology_id, w->port, err);
        return;
    }
    snprintf(out, sizeof out, "%s/worker.log.out", logdir);
    snprintf(errp, sizeof errp, "%s/worker.log.err", logdir);
    char port[16], kv[8][2300];
    snprintf(port, sizeof port, "%d", w->port);
    snprintf(kv[0], sizeof kv[0], "%s=%s", GALE_CONF_LOCAL_DIR, sv->local);
    snprintf(kv[1], sizeof kv[1], "%s=%s", GALE_CONF_LOG_DIR, sv->logdir);
    snprintf(kv[2], sizeof kv[2], "%s=%s", GALE_CONF_LOCAL_HOSTNAME, sv->host);
    snprintf(kv[3], sizeof kv[3], "%s=%lld", GALE_CONF_WORKER_HEARTBEAT_FREQUENCY_SECS,
             (long long)gale_conf_get_int(sv->conf, GALE_CONF_WORKER_HEARTBEAT_FREQUENCY_SECS, 1));
    snprintf(kv[4], sizeof kv[4], "%s=%lld", GALE_CONF_SUPERVISOR_WORKER_TIMEOUT_SECS,
             (long long)(sv->worker_timeout_ns / 1000000000));
    snprintf(kv[5], sizeof kv[5], "%s=%s", GALE_CONF_LOG_LEVEL,
             gale_conf_get_str(sv->conf, GALE_CONF_LOG_LEVEL, "info"));
    char *argv[] = {sv->self_exe,
                    "worker",
                    "--topology-id",
                    w->topology_id,
                    "--port",
                    port,
                    "--supervisor-id",
                    sv->id,
                    "-c",
                    kv[0],
                    "-c",
                    kv[1],
                    "-c",
                    kv[2],
                    "-c",
                    kv[3],
                    "-c",
                    kv[4],
                    "-c",
                    kv[5],
                    NULL};
    /* SIGHUP (re-read the assignment: sync.c) is blocked from before the
     * fork until the worker reads it from its signalfd: one sent right
     * after a start (a status change) then waits instead of killing it */
    sigset_t hup, old;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, &old);
    pid_t pid = fork();
    if (pid != 0) pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        GALE_ERROR(SV, 0, "%s:%d: fork: %s", w->topology_id, w->port, strerror(errno));
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int o = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int e = open(errp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (o >= 0) dup2(o, 1);
        if (e >= 0) dup2(e, 2);
        if (nul >= 0) dup2(nul, 0);
        sigprocmask(SIG_SETMASK, &hup, NULL); /* only SIGHUP, across exec */
        signal(SIGPIPE, SIG_DFL);
        execv(sv->self_exe, argv);
        dprintf(2, "gale supervisor: cannot exec %s: %s\n", sv->self_exe, strerror(errno));
        _exit(127);
    }
    w->pid = pid;
    w->child = true;
    w->started_ns = gale__now_ns();
    w->last_hb_ns = 0;
    w->stop_ns = 0;
    w->state = "starting";
    GALE_INFO(SV, 0, "started worker %s:%d as pid %d (restarts %llu)", w->topology_id, w->port,
              (int)pid, (unsigned long long)w->restarts);
}

void gale__sv_stop_worker(supervisor_t *sv, sv_worker_t *w, const char *why) {
    (void)sv;
    if (w->pid <= 0 || w->stop_ns) return;
    GALE_INFO(SV, 0, "stopping worker %s:%d (pid %d): %s", w->topology_id, w->port, (int)w->pid,
              why);
    kill(w->pid, SIGTERM);
    w->stop_ns = gale__now_ns();
}

void gale__sv_worker_hb(supervisor_t *sv, const gale__ctl_worker_heartbeat_t *h) {
    sv_worker_t *w = gale__sv_worker(sv, h->topology_id, (int)h->port, false);
    if (!w) return;
    if (w->pid > 0 && (uint64_t)w->pid != h->pid) return; /* an old process: not ours now */
    if (w->pid <= 0) {
        /* a worker this supervisor did not adopt (no pid file) says hello;
         * but a heartbeat still queued from one that just exited must not
         * bring its pid back (the exit would be counted, and logged, again) */
        if (h->pid == 0 || h->pid > (uint64_t)INT32_MAX || kill((pid_t)h->pid, 0) != 0 ||
            !is_our_worker((pid_t)h->pid, w->topology_id, w->port))
            return;
        w->pid = (pid_t)h->pid;
        w->child = false;
    }
    w->last_hb_ns = w->slot_hb_ns = gale__now_ns();
    w->state = "running";
    if (h->done && !w->done) sv->report_now = true; /* gale jar --wait is waiting for it */
    w->done = h->done;
    if (h->stats.ptr) { /* the newest replaces the last; kept when out of memory */
        uint8_t *copy = malloc(h->stats.len);
        if (copy) {
            memcpy(copy, h->stats.ptr, h->stats.len);
            free(w->stats);
            w->stats = copy;
            w->stats_len = h->stats.len;
        }
    }
    w->fails = 0; /* it lives: the next restart starts from the shortest backoff */
}

void gale__sv_adopt(supervisor_t *sv) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/workers", sv->local);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *dash = strrchr(e->d_name, '-');
        if (e->d_name[0] == '.' || !dash || dash == e->d_name) continue;
        int port = atoi(dash + 1);
        char topo[200];
        snprintf(topo, sizeof topo, "%.*s", (int)(dash - e->d_name), e->d_name);
        char path[4400], err[256];
        void *buf;
        size_t n;
        snprintf(path, sizeof path, "%s/%s/pid", dir, e->d_name);
        if (gale__file_read(path, 64, &buf, &n, err, sizeof err)) continue;
        pid_t pid = (pid_t)atoi(buf);
        free(buf);
        if (pid <= 0 || kill(pid, 0) != 0 || !is_our_worker(pid, topo, port)) continue;
        sv_worker_t *w = gale__sv_worker(sv, topo, port, true);
        if (!w) continue;
        w->pid = pid;
        w->child = false;
        w->started_ns = gale__now_ns();
        w->last_hb_ns = w->slot_hb_ns = gale__now_ns(); /* a full timeout to say hello */
        w->state = "running";
        w->assigned = true; /* until the first assignment says otherwise */
        GALE_INFO(SV, 0, "adopted running worker %s:%d (pid %d)", topo, port, (int)pid);
    }
    closedir(d);
}

/* The first restart is at once; then 1 s, 2 s, 4 s ... up to
 * BACKOFF_MAX_NS while a worker keeps dying. (A process started within
 * milliseconds of the old one's death is fine: its peers' credits are
 * counted per incarnation and sent again, worker/transfer.c.) */
static void schedule_restart(sv_worker_t *w, int64_t now) {
    int64_t back = w->fails ? BACKOFF_MIN_NS << (w->fails - 1 < 5 ? w->fails - 1 : 5) : 0;
    if (back > BACKOFF_MAX_NS) back = BACKOFF_MAX_NS;
    w->next_start_ns = now + back;
    w->restarts++;
    w->fails++;
}

/* Its next heartbeat, due a period after the last, is the timeout late.
 * Timing from the last one would count the period too: with both at 1 s
 * a healthy worker would be killed whenever a heartbeat came a little
 * late. */
bool gale__sv_worker_silent(const supervisor_t *sv, const sv_worker_t *w, int64_t now) {
    return w->last_hb_ns ? now - w->last_hb_ns > sv->worker_hb_ns + sv->worker_timeout_ns
                         : now - w->started_ns > sv->start_timeout_ns;
}

void gale__sv_monitor(supervisor_t *sv) {
    int64_t now = gale__now_ns();
    for (size_t i = 0; i < sv->n_workers;) {
        sv_worker_t *w = &sv->workers[i];
        if (w->pid > 0 && !alive(w)) {
            if (!w->stop_ns)
                GALE_WARN(SV, 0, "worker %s:%d (pid %d) exited: see %s/workers-artifacts/%s/%d/",
                          w->topology_id, w->port, (int)w->pid, sv->logdir, w->topology_id,
                          w->port);
            w->pid = 0;
            w->state = "exited";
            if (w->assigned && !w->stop_ns) schedule_restart(w, now);
            w->stop_ns = 0;
        }
        if (w->pid > 0 && w->stop_ns && now - w->stop_ns > sv->shutdown_ns) {
            GALE_WARN(SV, 0, "worker %s:%d (pid %d) still there after SIGTERM: SIGKILL",
                      w->topology_id, w->port, (int)w->pid);
            kill(w->pid, SIGKILL);
            w->stop_ns = now; /* and wait for it to go */
        }
        if (w->pid > 0 && !w->stop_ns && w->assigned) {
            if (gale__sv_worker_silent(sv, w, now)) {
                w->state = "timed_out";
                gale__sv_stop_worker(sv, w, "no heartbeat in time");
                kill(w->pid, SIGKILL); /* a silent worker is stuck: no drain */
                schedule_restart(w, now);
            }
        }
        if (!w->assigned) {
            if (w->pid > 0) {
                gale__sv_stop_worker(sv, w, "no longer assigned here");
            } else {
                char path[4400];
                gale__sv_worker_path(sv, w, "pid", path, sizeof path);
                unlink(path);
                gale__sv_worker_path(sv, w, "assignment", path, sizeof path);
                unlink(path);
                gale__sv_worker_path(sv, w, NULL, path, sizeof path);
                rmdir(path);
                remove_worker(sv, w);
                gale__sv_sweep_code(sv);
                continue;
            }
        } else if (w->pid <= 0 && now >= w->next_start_ns) {
            gale__sv_start_worker(sv, w);
        }
        i++;
    }
}
