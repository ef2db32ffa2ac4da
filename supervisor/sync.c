/*
 * sync.c — the supervisor and nimbus: a heartbeat every
 * supervisor.heartbeat.frequency.secs with its slots and its workers'
 * state; when the version in the reply differs from the one it holds,
 * assignment_fetch, then for every slot of its own: the topology's code
 * (fetched once into L/stormdist/<id>/, each part checked against
 * nimbus's BLAKE2b sum; a download goes to a temp dir renamed into
 * place only when whole), the worker's assignment file, and a start,
 * a SIGHUP (peers moved, or the topology's status changed) or a restart
 * (its own executors changed). Workers of slots no longer assigned are
 * stopped (workers.c).
 *
 * The status travels this way too (nimbus bumps the topology's
 * assignment version on every change): nimbus -> assignment_reply ->
 * the rewritten file -> SIGHUP; the worker re-reads the file and runs its
 * spouts only while the status is ACTIVE (worker_main.c). No field of
 * the worker heartbeat's reply is needed, and a worker (re)started later
 * reads the status with the rest of its assignment.
 *
 * The held version moves only when every step succeeded, so a failed
 * fetch is retried on the next heartbeat.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/assignment.h"
#include "common/checksum.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/resources.h"
#include "supervisor/supervisor.h"

#define SV "supervisor"
/* Short: while a call waits, heartbeats to nimbus do not go (worker
 * heartbeats are still answered: worker_link.c), and a request lost with
 * a nimbus that died is simply made again at the next heartbeat. */
#define NIMBUS_WAIT_MS 1500
/* A chunk of code (up to GALE_CTL_CHUNK_MAX) is given longer, but not so
 * long that a nimbus dying mid-download silences this supervisor for
 * more than a couple of heartbeat periods: a restarted nimbus waits only
 * twice nimbus.supervisor.timeout.secs for its first heartbeat before it
 * moves its work (nimbus/liveness.c). A 10 s wait here once did just
 * that in tests/it/0029. 3 s per MiB is ~2.8 Mbit/s at the least. */
#define CHUNK_WAIT_MS 3000
/* Bytes of workers' stats one supervisor heartbeat carries at most; the
 * workers past it go without stats this time (their next heartbeat may fit). */
#define STATS_BUDGET (4u << 20)

static const char *const part_files[] = {"topology", "conf", "code.so", "resources"};
static const char *const part_names[] = {"topology", "conf", "code", "resources"};

/* A long download (a big part on a slow link) must not silence this
 * supervisor, or nimbus takes it for dead after
 * nimbus.supervisor.timeout.secs and moves its work. Between chunks the
 * heartbeat that falls due goes, with the workers' heartbeats answered
 * meanwhile (worker_link.c) applied first and the workers held before
 * this fetch reported as still assigned. */
static void heartbeat_if_due(supervisor_t *sv) {
    if (gale__now_ns() - sv->last_hb_ns < sv->hb_ns) return;
    if (sv->link) gale__sv_link_apply(sv->link, sv);
    gale__sv_heartbeat(sv);
}

static int fetch_part(supervisor_t *sv, const char *id, int part, const char *dir) {
    uint64_t off = 0, size = 0;
    uint8_t want[GALE_CHECKSUM_LEN];
    gale__checksum_t sum;
    gale__checksum_init(&sum);
    uint8_t *buf = NULL;
    int rc = 0;
    do {
        gale__ctl_code_fetch_t f = {id, part_names[part], off, GALE_CTL_CHUNK_MAX};
        gale__ctl_msg_t r;
        char err[1024];
        rc = gale__ctl_call(&sv->nimbus, GALE_CTL_CODE_FETCH, &f, GALE_CTL_CODE_REPLY,
                            CHUNK_WAIT_MS, &r, err, sizeof err);
        if (!rc && r.type != GALE_CTL_CODE_REPLY) {
            GALE_ERROR(SV, 0, "code_fetch %s/%s: %s", id, part_names[part],
                       r.u.reply.error ? r.u.reply.error : "refused");
            rc = GALE_EPROTO;
        } else if (rc) {
            GALE_ERROR(SV, 0, "code_fetch %s/%s: %s", id, part_names[part], err);
        }
        if (!rc) {
            const gale__ctl_code_reply_t *c = &r.u.code_reply;
            if (off == 0) {
                size = c->size;
                memcpy(want, c->sum.ptr, GALE_CHECKSUM_LEN);
                buf = malloc(size ? size : 1);
                if (!buf) rc = GALE_ENOMEM;
            }
            if (!rc &&
                (c->size != size || off + c->data.len > size || (c->data.len == 0 && off < size))) {
                GALE_ERROR(SV, 0, "code_fetch %s/%s: nimbus sent an inconsistent chunk", id,
                           part_names[part]);
                rc = GALE_EPROTO;
            }
            if (!rc) {
                memcpy(buf + off, c->data.ptr, c->data.len);
                gale__checksum_update(&sum, c->data.ptr, c->data.len);
                off += c->data.len;
            }
        }
        gale__ctl_msg_destroy(&r);
        if (!rc) heartbeat_if_due(sv);
    } while (!rc && off < size);
    if (!rc) {
        uint8_t got[GALE_CHECKSUM_LEN];
        gale__checksum_final(&sum, got);
        if (memcmp(got, want, GALE_CHECKSUM_LEN) != 0) {
            GALE_ERROR(SV, 0, "%s/%s: the BLAKE2b sum does not match nimbus's: not used", id,
                       part_names[part]);
            rc = GALE_EPROTO;
        }
    }
    char path[4400], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, part_files[part]);
    if (!rc && part == 3) {
        rc = size ? gale__resources_unpack(buf, size, path, err, sizeof err)
                  : gale__mkdirs(path, err, sizeof err);
        if (rc) GALE_ERROR(SV, 0, "%s: resources: %s", id, err);
    } else if (!rc) {
        rc = gale__file_write_atomic(path, buf, size, err, sizeof err);
        if (rc) GALE_ERROR(SV, 0, "%s", err);
    }
    free(buf);
    return rc;
}

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char sub[4400];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* The code of topologies no worker record here names any more (killed,
 * or moved to other supervisors) is removed, as Storm's supervisor does:
 * otherwise every submission's .so and resources stay on disk forever.
 * A record lasts until its worker has exited, so no running worker
 * loses its files; a topology assigned here again is fetched again. */
void gale__sv_sweep_code(supervisor_t *sv) {
    char dir[2100];
    snprintf(dir, sizeof dir, "%s/stormdist", sv->local);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        bool used = false;
        for (size_t i = 0; i < sv->n_workers && !used; i++)
            used = strcmp(sv->workers[i].topology_id, e->d_name) == 0;
        if (used) continue;
        char sub[4400];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        remove_tree(sub);
        GALE_INFO(SV, 0, "removed the code of %s: no worker of it is left here", e->d_name);
    }
    closedir(d);
}

/* A rebalance with -e changes the stored topology (executor counts):
 * when nimbus's sum differs from the local copy's, fetch it again. */
static int refresh_topology(supervisor_t *sv, const char *id, const char *dir) {
    gale__ctl_code_fetch_t f = {id, "topology", 0, 1};
    gale__ctl_msg_t r;
    char err[1024], path[4400];
    int rc = gale__ctl_call(&sv->nimbus, GALE_CTL_CODE_FETCH, &f, GALE_CTL_CODE_REPLY,
                            NIMBUS_WAIT_MS, &r, err, sizeof err);
    if (!rc && r.type != GALE_CTL_CODE_REPLY) {
        snprintf(err, sizeof err, "%s", r.u.reply.error ? r.u.reply.error : "refused");
        gale__ctl_msg_destroy(&r);
        rc = GALE_EPROTO;
    }
    if (rc) {
        /* the assignment is applied again at the next heartbeat */
        GALE_WARN(SV, 0, "%s: cannot check the topology against nimbus's: %s (trying again)", id,
                  err);
        return rc;
    }
    uint8_t want[GALE_CHECKSUM_LEN], have[GALE_CHECKSUM_LEN];
    memcpy(want, r.u.code_reply.sum.ptr, GALE_CHECKSUM_LEN);
    gale__ctl_msg_destroy(&r);
    void *buf;
    size_t n;
    if (gale__pathf(path, sizeof path, err, sizeof err, "%s/topology", dir) == 0 &&
        gale__file_read(path, GALE_CTL_MAX_TOPOLOGY, &buf, &n, err, sizeof err) == 0) {
        gale__checksum(buf, n, have);
        free(buf);
        if (memcmp(want, have, GALE_CHECKSUM_LEN) == 0) return 0;
    }
    GALE_INFO(SV, 0, "%s: the topology changed (rebalance): fetching it again", id);
    return fetch_part(sv, id, 0, dir);
}

/* L/stormdist/<id>/ complete, fetching it when missing. */
static int ensure_code(supervisor_t *sv, const char *id) {
    char dir[4400], tmp[4500];
    snprintf(dir, sizeof dir, "%s/stormdist/%s", sv->local, id);
    struct stat st;
    if (stat(dir, &st) == 0) return refresh_topology(sv, id, dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", dir);
    remove_tree(tmp);
    char err[512];
    int rc = gale__mkdirs(tmp, err, sizeof err);
    for (int p = 0; !rc && p < 4; p++) rc = fetch_part(sv, id, p, tmp);
    if (!rc && rename(tmp, dir) != 0) rc = GALE_EIO;
    if (rc)
        remove_tree(tmp);
    else
        GALE_INFO(SV, 0, "fetched and verified the code of %s", id);
    return rc;
}

static bool same_execs(const sv_worker_t *w, const sv_range_t *r, size_t n) {
    if (w->n_execs != n) return false;
    for (size_t i = 0; i < n; i++)
        if (w->execs[i].start != r[i].start || w->execs[i].end != r[i].end) return false;
    return true;
}

/* A topology id names directories here: only what nimbus makes of a
 * valid name (<name>-<counter>-<epoch>, [A-Za-z0-9._-]) is taken. */
static bool id_ok(const char *id) {
    if (!*id || id[0] == '.') return false;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return false;
    return true;
}

/* Apply one topology's assignment to the slots it has here. */
static int apply(supervisor_t *sv, const gale__ctl_topology_assignment_t *a) {
    int rc = 0;
    if (!id_ok(a->id)) {
        GALE_ERROR(SV, 0, "nimbus sent topology id '%.64s', not a valid id: ignored", a->id);
        return GALE_EPROTO;
    }
    for (uint32_t i = 0; i < a->executors.n; i++) {
        const gale__ctl_executor_slot_t *e = &a->executors.items[i];
        if (strcmp(e->supervisor, sv->id) != 0) continue;
        sv_worker_t *w = gale__sv_worker(sv, a->id, (int)e->port, false);
        if (w && w->assigned) continue; /* done for this port in this pass */
        if (ensure_code(sv, a->id)) return GALE_EIO;
        /* its own executors, in assignment order */
        sv_range_t *mine = calloc(a->executors.n, sizeof *mine);
        size_t n = 0;
        if (!mine) return GALE_ENOMEM;
        for (uint32_t k = 0; k < a->executors.n; k++)
            if (a->executors.items[k].port == e->port &&
                strcmp(a->executors.items[k].supervisor, sv->id) == 0)
                mine[n++] = (sv_range_t){a->executors.items[k].start, a->executors.items[k].end};
        w = gale__sv_worker(sv, a->id, (int)e->port, true);
        if (!w) {
            free(mine);
            return GALE_ENOMEM;
        }
        char path[4400], err[512];
        gale__sv_worker_path(sv, w, NULL, path, sizeof path);
        int wrc = gale__mkdirs(path, err, sizeof err);
        gale__sv_worker_path(sv, w, "assignment", path, sizeof path);
        if (wrc || gale__assignment_write(path, a, err, sizeof err)) {
            GALE_ERROR(SV, 0, "%s", err);
            free(mine);
            rc = GALE_EIO;
            continue;
        }
        bool changed = !same_execs(w, mine, n);
        bool had = w->execs != NULL;
        free(w->execs);
        w->execs = mine;
        w->n_execs = n;
        w->assigned = true;
        if (w->pid > 0 && had && changed) {
            /* its own executors changed: restart it (Storm does the same) */
            gale__sv_stop_worker(sv, w, "its executors changed");
        } else if (w->pid > 0 && w->version != a->version) {
            kill(w->pid, SIGHUP); /* peers moved or the status changed: re-read the file */
        }
        w->version = a->version;
    }
    return rc;
}

static void fetch_assignments(supervisor_t *sv, uint64_t version) {
    gale__ctl_assignment_fetch_t f = {sv->id, NULL};
    gale__ctl_msg_t r;
    char err[1024];
    int rc = gale__ctl_call(&sv->nimbus, GALE_CTL_ASSIGNMENT_FETCH, &f, GALE_CTL_ASSIGNMENT_REPLY,
                            NIMBUS_WAIT_MS, &r, err, sizeof err);
    if (rc || r.type != GALE_CTL_ASSIGNMENT_REPLY) {
        GALE_WARN(SV, 0, "assignment_fetch: %s",
                  rc ? err : (r.u.reply.error ? r.u.reply.error : "refused"));
        if (!rc) gale__ctl_msg_destroy(&r);
        return;
    }
    /* what stays assigned is marked again below */
    for (size_t i = 0; i < sv->n_workers; i++) {
        sv->workers[i].held = sv->workers[i].assigned;
        sv->workers[i].assigned = false;
    }
    int bad = 0;
    sv->fetching = true; /* a heartbeat between code chunks fetches nothing */
    for (uint32_t t = 0; t < r.u.assignment_reply.topologies.n; t++)
        bad |= apply(sv, &r.u.assignment_reply.topologies.items[t]);
    sv->fetching = false;
    if (bad) {
        /* keep what ran: nothing is stopped on a partial view */
        for (size_t i = 0; i < sv->n_workers; i++) sv->workers[i].assigned |= sv->workers[i].held;
    } else {
        sv->version = version;
        GALE_INFO(SV, 0, "assignments at version %llu: %zu worker(s) here",
                  (unsigned long long)version, sv->n_workers);
        gale__sv_sweep_code(sv); /* also what a restart left of topologies killed meanwhile */
    }
    gale__ctl_msg_destroy(&r);
}

bool gale__sv_pushed(supervisor_t *sv) {
    gale__ctl_msg_t m;
    if (!gale__ctl_client_pushed(&sv->nimbus, &m)) return false;
    bool ok = m.type == GALE_CTL_HEARTBEAT_REPLY && m.u.heartbeat_reply.ok;
    uint64_t v = ok ? m.u.heartbeat_reply.assignment_version : sv->version;
    gale__ctl_msg_destroy(&m);
    if (v == sv->version) return false;
    fetch_assignments(sv, v);
    return true;
}

void gale__sv_heartbeat(supervisor_t *sv) {
    uint64_t ports[1024];
    for (size_t i = 0; i < sv->n_ports; i++) ports[i] = (uint64_t)sv->ports[i];
    gale__ctl_worker_state_t *ws = calloc(sv->n_workers ? sv->n_workers : 1, sizeof *ws);
    if (!ws) return;
    int64_t now = gale__now_ns();
    sv->last_hb_ns = now;
    uint32_t n = 0;
    size_t stats_bytes = 0; /* the body stays well under GALE_CTL_MAX_BODY */
    for (size_t i = 0; i < sv->n_workers; i++) {
        const sv_worker_t *w = &sv->workers[i];
        if (!w->assigned && !(sv->fetching && w->held)) continue;
        bool with_stats = w->stats && stats_bytes + w->stats_len <= STATS_BUDGET;
        if (with_stats) stats_bytes += w->stats_len;
        ws[n++] = (gale__ctl_worker_state_t){
            w->topology_id,
            (uint64_t)w->port,
            w->pid > 0 ? (uint64_t)w->pid : 1,
            w->state,
            w->slot_hb_ns ? (uint64_t)((now - w->slot_hb_ns) / 1000000) : GALE_CTL_UNSET,
            w->restarts,
            w->done,
            {with_stats ? w->stats : NULL, with_stats ? w->stats_len : 0}};
    }
    gale__ctl_supervisor_heartbeat_t h = {sv->id,
                                          sv->host,
                                          {ports, (uint32_t)sv->n_ports},
                                          sv->logviewer_port,
                                          (uint64_t)((now - sv->start_ns) / 1000000000),
                                          sv->version,
                                          {ws, n}};
    gale__ctl_msg_t r;
    char err[1024];
    int rc = gale__ctl_call(&sv->nimbus, GALE_CTL_SUPERVISOR_HEARTBEAT, &h,
                            GALE_CTL_HEARTBEAT_REPLY, NIMBUS_WAIT_MS, &r, err, sizeof err);
    free(ws);
    if (rc) {
        static int64_t last_warn;
        if (now - last_warn > 10000000000LL) { /* nimbus down: say so every 10 s */
            GALE_WARN(SV, 0, "no heartbeat reply from nimbus at %s: %s (workers keep running)",
                      sv->nimbus_desc, err);
            last_warn = now;
        }
        return;
    }
    if (r.type == GALE_CTL_HEARTBEAT_REPLY && r.u.heartbeat_reply.ok) {
        uint64_t v = r.u.heartbeat_reply.assignment_version;
        gale__ctl_msg_destroy(&r);
        if (v != sv->version && !sv->fetching) fetch_assignments(sv, v);
        return;
    }
    GALE_WARN(SV, 0, "nimbus refused the heartbeat: %s",
              r.type == GALE_CTL_REPLY && r.u.reply.error ? r.u.reply.error : "?");
    gale__ctl_msg_destroy(&r);
}
