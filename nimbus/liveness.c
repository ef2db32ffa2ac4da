/*
 * liveness.c — supervisors and their workers as nimbus sees them, and
 * the scheduling that follows (nimbus/scheduler.c does the placing).
 *
 * Supervisors are known only from their heartbeats (nothing about them
 * is stored): a restarted nimbus waits nimbus.supervisor.timeout.secs
 * from its start before it treats a supervisor it has not heard from as
 * dead, so that it moves nothing still running (DESIGN §3).
 *
 * A slot of an assignment is alive while its supervisor heartbeats
 * within nimbus.supervisor.timeout.secs and the supervisor reports its
 * worker with a heartbeat younger than nimbus.task.timeout.secs — or,
 * for a worker not heard from yet, while the assignment is younger than
 * nimbus.task.launch.secs. Dead slots are left out of `keep`, so the
 * scheduler places their executors again (elsewhere when it can).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "nimbus/nimbus.h"

#define NB "nimbus"

const nb_supervisor_t *gale__nb_sup_find(const nimbus_t *nb, const char *id) {
    for (size_t i = 0; i < nb->n_sups; i++)
        if (strcmp(nb->sups[i].id, id) == 0) return &nb->sups[i];
    return NULL;
}

static bool sup_alive(const nimbus_t *nb, const nb_supervisor_t *s, int64_t now) {
    return now - s->last_ns <= nb->sup_timeout_ns;
}

/* Just restarted: a supervisor that has not heartbeated yet is not known
 * to be dead. Twice its timeout: a supervisor's first heartbeat to the new
 * process can come a whole timeout late (its call to the dead nimbus
 * times out, then it waits its period), and with the timeout at a few
 * seconds one wait moved work that was running fine. */
static bool just_restarted(const nimbus_t *nb, int64_t now) {
    return now - nb->start_ns <= 2 * nb->sup_timeout_ns;
}

void gale__nb_push_version(nimbus_t *nb) {
    int64_t now = gale__now_ns();
    gale__ctl_heartbeat_reply_t r = {true, NULL, nb->version};
    char err[256];
    for (size_t i = 0; i < nb->n_sups; i++)
        if (sup_alive(nb, &nb->sups[i], now) &&
            gale__ctl_server_send(nb->router, &nb->sups[i].peer, GALE_CTL_HEARTBEAT_REPLY,
                                  GALE_CTL_PUSH_REQ, &r, err, sizeof err))
            GALE_DEBUG(NB, 0, "push to supervisor %s: %s", nb->sups[i].id, err);
}

size_t gale__nb_live_slots(const nimbus_t *nb) {
    int64_t now = gale__now_ns();
    size_t n = 0;
    for (size_t i = 0; i < nb->n_sups; i++)
        if (sup_alive(nb, &nb->sups[i], now)) n += nb->sups[i].n_ports;
    return n;
}

void gale__nb_sups_free(nimbus_t *nb) {
    for (size_t i = 0; i < nb->n_sups; i++) free(nb->sups[i].workers);
    free(nb->sups);
    nb->sups = NULL;
    nb->n_sups = 0;
}

void gale__nb_supervisor_heartbeat(nimbus_t *nb, const gale__ctl_peer_t *p,
                                   const gale__ctl_msg_t *m) {
    const gale__ctl_supervisor_heartbeat_t *h = &m->u.supervisor_heartbeat;
    nb_supervisor_t *s = (nb_supervisor_t *)gale__nb_sup_find(nb, h->id);
    if (!s) {
        nb_supervisor_t *grown = realloc(nb->sups, (nb->n_sups + 1) * sizeof *grown);
        if (!grown) return gale__nb_reply_err(nb, p, m->req, "nimbus is out of memory");
        nb->sups = grown;
        s = &nb->sups[nb->n_sups++];
        memset(s, 0, sizeof *s);
        snprintf(s->id, sizeof s->id, "%s", h->id);
        GALE_INFO(NB, 0, "supervisor %s joined from %s with %u slot(s)", h->id, h->host,
                  h->ports.n);
        nb->dirty = true;
    } else if (!sup_alive(nb, s, gale__now_ns())) {
        GALE_INFO(NB, 0, "supervisor %s is back", h->id);
        nb->dirty = true;
    }
    if (strcmp(s->host, h->host) != 0 || s->n_ports != h->ports.n) nb->dirty = true;
    snprintf(s->host, sizeof s->host, "%s", h->host);
    s->n_ports = h->ports.n < 1024 ? h->ports.n : 1024;
    for (size_t i = 0; i < s->n_ports; i++) s->ports[i] = (int)h->ports.items[i];
    s->logviewer_port = h->logviewer_port;
    s->uptime_secs = h->uptime_secs;
    s->last_ns = gale__now_ns();
    s->peer = *p;
    free(s->workers);
    s->workers = calloc(h->workers.n ? h->workers.n : 1, sizeof *s->workers);
    s->n_workers = s->workers ? h->workers.n : 0;
    for (size_t i = 0; i < s->n_workers; i++) {
        const gale__ctl_worker_state_t *w = &h->workers.items[i];
        snprintf(s->workers[i].topology_id, sizeof s->workers[i].topology_id, "%s", w->topology_id);
        s->workers[i].port = (int)w->port;
        s->workers[i].hb_age_ms = w->hb_age_ms;
        snprintf(s->workers[i].state, sizeof s->workers[i].state, "%s", w->state);
        s->workers[i].done = w->done;
        s->workers[i].restarts = w->restarts;
        if (w->stats.ptr)
            gale__nb_stats_ingest(nb, s, w->topology_id, (int)w->port, w->stats.ptr, w->stats.len);
    }
    gale__ctl_heartbeat_reply_t r = {true, NULL, nb->version};
    char err[256];
    if (gale__ctl_server_send(nb->router, p, GALE_CTL_HEARTBEAT_REPLY, m->req, &r, err, sizeof err))
        GALE_WARN(NB, 0, "heartbeat reply: %s", err);
}

static const nb_worker_t *reported(const nb_supervisor_t *s, const char *topo, int port) {
    for (size_t i = 0; i < s->n_workers; i++)
        if (s->workers[i].port == port && strcmp(s->workers[i].topology_id, topo) == 0)
            return &s->workers[i];
    return NULL;
}

/* Is the worker (t, supervisor, port) alive, as far as nimbus knows? */
static bool slot_alive(const nimbus_t *nb, const nb_topo_t *t, const gale__sched_place_t *p,
                       int64_t now, const char **why) {
    const nb_supervisor_t *s = gale__nb_sup_find(nb, p->supervisor);
    bool grace = just_restarted(nb, now);
    if (!s) {
        *why = "its supervisor is not heartbeating";
        return grace;
    }
    if (!sup_alive(nb, s, now)) {
        *why = "its supervisor stopped heartbeating";
        return false;
    }
    const nb_worker_t *w = reported(s, t->id, p->port);
    if (w && w->hb_age_ms != GALE_CTL_UNSET) {
        *why = "the worker stopped heartbeating";
        return (int64_t)w->hb_age_ms * 1000000 <= nb->task_timeout_ns;
    }
    *why = "the worker never started";
    return now - t->assigned_ns <= nb->launch_ns || grace;
}

static void set_places(nb_topo_t *t, const gale__sched_result_t *r) {
    for (size_t i = 0; i < t->n_places; i++) {
        free((char *)t->places[i].supervisor);
        free((char *)t->places[i].host);
    }
    free(t->places);
    t->places = calloc(r->n_places ? r->n_places : 1, sizeof *t->places);
    t->n_places = 0;
    for (size_t i = 0; t->places && i < r->n_places; i++) {
        t->places[i] = r->places[i];
        t->places[i].supervisor = strdup(r->places[i].supervisor);
        t->places[i].host = strdup(r->places[i].host);
        t->n_places++;
    }
}

void gale__nb_schedule(nimbus_t *nb, nb_topo_t *t, bool fresh) {
    int64_t now = gale__now_ns();
    /* just restarted: a slot whose supervisor has not heartbeated yet is
     * not known to be dead; leave the topology as it is until it is */
    if (!fresh && just_restarted(nb, now))
        for (size_t i = 0; i < t->n_places; i++) {
            const nb_supervisor_t *s = gale__nb_sup_find(nb, t->places[i].supervisor);
            if (!s || !sup_alive(nb, s, now)) return;
        }
    /* free slots: live supervisors' ports not used by other topologies */
    gale__sched_supervisor_t *sups = calloc(nb->n_sups ? nb->n_sups : 1, sizeof *sups);
    int(*ports)[1024] = calloc(nb->n_sups ? nb->n_sups : 1, sizeof *ports);
    gale__sched_place_t *keep = calloc(t->n_places ? t->n_places : 1, sizeof *keep);
    gale__sched_executor_t *ex = calloc(t->n_execs ? t->n_execs : 1, sizeof *ex);
    size_t ns = 0, nk = 0;
    if (!sups || !ports || !keep || !ex) goto out;
    for (size_t i = 0; i < nb->n_sups; i++) {
        const nb_supervisor_t *s = &nb->sups[i];
        if (!sup_alive(nb, s, now)) continue;
        size_t np = 0;
        for (size_t k = 0; k < s->n_ports; k++) {
            bool used = false;
            for (size_t o = 0; o < nb->n_topos && !used; o++) {
                const nb_topo_t *ot = nb->topos[o];
                if (ot == t) continue;
                for (size_t q = 0; q < ot->n_places && !used; q++)
                    used = ot->places[q].port == s->ports[k] &&
                           strcmp(ot->places[q].supervisor, s->id) == 0;
            }
            /* a slot where this topology's worker is dead is not offered
             * to it again at once: its work moves elsewhere when it can */
            for (size_t q = 0; q < t->n_places && !used && !fresh; q++) {
                const char *why;
                used = t->places[q].port == s->ports[k] &&
                       strcmp(t->places[q].supervisor, s->id) == 0 &&
                       !slot_alive(nb, t, &t->places[q], now, &why);
            }
            if (!used) ports[ns][np++] = s->ports[k];
        }
        sups[ns] = (gale__sched_supervisor_t){s->id, s->host, ports[ns], np};
        ns++;
    }
    for (size_t i = 0; !fresh && i < t->n_places; i++) {
        const char *why;
        if (slot_alive(nb, t, &t->places[i], now, &why)) {
            keep[nk++] = t->places[i];
            continue;
        }
        /* places are in executor order, a slot's spread among them: one
         * line per slot, at its first place */
        bool seen = false;
        for (size_t q = 0; q < i && !seen; q++)
            seen = t->places[q].port == t->places[i].port &&
                   strcmp(t->places[q].supervisor, t->places[i].supervisor) == 0;
        if (!seen)
            GALE_WARN(NB, 0, "%s: moving the executors of %s:%d: %s", t->id,
                      t->places[i].supervisor, t->places[i].port, why);
    }
    for (size_t i = 0; i < t->n_execs; i++)
        ex[i] = (gale__sched_executor_t){t->execs[i].start, t->execs[i].end};
    gale__sched_input_t in = {ex, t->n_execs, t->workers, sups, ns, keep, nk, t->version};
    gale__sched_result_t r;
    char err[256];
    int rc = gale__schedule(&in, &r, err, sizeof err);
    if (rc == GALE_ENOENT) {
        /* no slot at all: the topology waits, without an assignment */
        if (t->n_places || fresh) {
            GALE_WARN(NB, 0, "%s: %s", t->id, err);
            set_places(t, &(gale__sched_result_t){0});
            t->version++;
            t->assigned_ns = now;
            gale__nb_topo_save_assignment(nb, t);
            gale__nb_bump_version(nb);
        }
        goto out;
    }
    if (rc) {
        GALE_ERROR(NB, 0, "%s: cannot schedule: %s", t->id, err);
        goto out;
    }
    bool differs = r.changed || r.n_places != t->n_places;
    if (differs || fresh) {
        set_places(t, &r);
        t->version = r.version > t->version ? r.version : t->version + 1;
        t->assigned_ns = now;
        gale__nb_topo_save_assignment(nb, t);
        gale__nb_bump_version(nb);
        GALE_INFO(NB, 0, "%s: assigned %zu executor(s) to %d worker(s)%s%s (version %llu)", t->id,
                  r.n_places, r.workers, r.note[0] ? ": " : "", r.note,
                  (unsigned long long)t->version);
    }
    gale__sched_result_free(&r);
out:
    free(sups);
    free(ports);
    free(keep);
    free(ex);
}

void gale__nb_monitor(nimbus_t *nb) {
    int64_t now = gale__now_ns();
    for (size_t i = 0; i < nb->n_sups; i++) {
        nb_supervisor_t *s = &nb->sups[i];
        if (s->last_ns && !sup_alive(nb, s, now)) {
            GALE_WARN(NB, 0,
                      "supervisor %s (%s) has not heartbeated for %lld s: its slots are lost",
                      s->id, s->host, (long long)((now - s->last_ns) / 1000000000));
            s->last_ns = 0; /* reported once; stays dead until it heartbeats */
        }
    }
    for (size_t i = 0; i < nb->n_topos; i++) {
        nb_topo_t *t = nb->topos[i];
        if (strcmp(t->status, "KILLED") == 0 || strcmp(t->status, "REBALANCING") == 0) continue;
        gale__nb_schedule(nb, t, false);
    }
    nb->dirty = false;
}

uint64_t gale__nb_topo_restarts(const nimbus_t *nb, const nb_topo_t *t) {
    uint64_t n = 0;
    for (size_t i = 0; i < nb->n_sups; i++)
        for (size_t k = 0; k < nb->sups[i].n_workers; k++)
            if (strcmp(nb->sups[i].workers[k].topology_id, t->id) == 0)
                n += nb->sups[i].workers[k].restarts;
    return n;
}

bool gale__nb_topo_done(const nimbus_t *nb, const nb_topo_t *t) {
    bool any = false;
    for (size_t i = 0; i < t->n_places; i++) {
        const gale__sched_place_t *p = &t->places[i];
        const gale__component_t *c = gale__topology_task_component(t->t, p->start);
        if (!c || !c->is_spout) continue;
        const nb_supervisor_t *s = gale__nb_sup_find(nb, p->supervisor);
        const nb_worker_t *w = s ? reported(s, t->id, p->port) : NULL;
        if (!w || !w->done) return false;
        any = true;
    }
    return any;
}
