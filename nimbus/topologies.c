/*
 * topologies.c — nimbus's topologies: the store layout, recovery after a
 * restart, `list`, and the life cycle with its timers.
 *
 * Store layout (keys of nimbus/store.h, under <gale.local.dir>/nimbus/):
 *   meta/counter                  next topology counter (text)
 *   meta/version                  the cluster's assignment version (text)
 *   topologies/<id>/topology      serialized topology (topology/serialize.c)
 *   topologies/<id>/conf          msgpack conf map of the submission
 *   topologies/<id>/code          the .so bytes
 *   topologies/<id>/resources     packed resources (cli/jar.c), or absent
 *   topologies/<id>/status        "key=value" lines: status, after, submit, timer, workers
 *   assignments/<id>              one assignment record (control.h), as supervisors get it
 * A submission writes status last, so a topology without one is a
 * submission cut by a crash: recovery removes its parts.
 *
 * Life cycle (Storm's): ACTIVE <-> INACTIVE (activate/deactivate: the
 * status travels in the assignment, workers pause their spouts); kill:
 * KILLED (spouts deactivated) for wait seconds, then the assignment and
 * topology are removed and supervisors stop the workers; rebalance:
 * REBALANCING for wait seconds, then everything is scheduled afresh with
 * the new worker count and executor counts, and the status returns to
 * what it was. Timers are wall-clock epochs in the status record, so a
 * restarted nimbus finishes a kill or a rebalance it had begun.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/codec.h"
#include "common/config.h"
#include "common/log.h"
#include "nimbus/nimbus.h"

#define NB "nimbus"

const char *const gale__nimbus_parts[PART__COUNT] = {"topology", "conf", "code", "resources"};

static int64_t wall(void) {
    return (int64_t)time(NULL);
}

/* Wall-clock milliseconds: kill and rebalance waits survive a restart. */
static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gale__nb_kill_left_secs(const nb_topo_t *t) {
    int64_t left = t->timer_ms - wall_ms();
    return left > 0 ? (left + 999) / 1000 : 0;
}

nb_topo_t *gale__nb_topo_find(nimbus_t *nb, const char *name_or_id) {
    for (size_t i = 0; i < nb->n_topos; i++)
        if (strcmp(nb->topos[i]->name, name_or_id) == 0 ||
            strcmp(nb->topos[i]->id, name_or_id) == 0)
            return nb->topos[i];
    return NULL;
}

static void free_places(nb_topo_t *t) {
    for (size_t i = 0; i < t->n_places; i++) {
        free((char *)t->places[i].supervisor);
        free((char *)t->places[i].host);
    }
    free(t->places);
    t->places = NULL;
    t->n_places = 0;
}

/* Ackers follow the submission's conf, not a rebalanced worker count:
 * workers compute the same number from the same conf (worker/runtime.c). */
static int ackers(const gale__topology_t *top, const gale_conf_t *conf) {
    int conf_workers =
        (int)gale_conf_get_int(conf, GALE_CONF_TOPOLOGY_WORKERS,
                               gale_conf_get_int(top->conf, GALE_CONF_TOPOLOGY_WORKERS, 1));
    return gale__topology_ackers(conf, conf_workers);
}

size_t gale__nb_exec_count(const gale__topology_t *top, const gale_conf_t *conf) {
    size_t n = (size_t)ackers(top, conf);
    for (size_t i = 0; i < top->n_components; i++) n += (size_t)top->components[i].parallelism;
    return n;
}

int gale__nb_topo_execs(nb_topo_t *t) {
    free(t->execs);
    t->execs = NULL;
    t->n_execs = 0;
    return gale__topology_executors(t->t, ackers(t->t, t->conf), &t->execs, &t->n_execs);
}

void gale__nb_topo_free(nb_topo_t *t) {
    if (!t) return;
    gale_conf_destroy(t->conf);
    gale__topology_destroy(t->t);
    free(t->execs);
    free_places(t);
    free(t);
}

nb_topo_t *gale__nb_topo_new(nimbus_t *nb, const char *id, gale__topology_t *top,
                             const gale_conf_t *conf, char *err, size_t errlen) {
    (void)nb;
    nb_topo_t *t = calloc(1, sizeof *t);
    if (!t) {
        gale__topology_destroy(top);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(t->id, sizeof t->id, "%s", id);
    snprintf(t->name, sizeof t->name, "%s", top->name);
    strcpy(t->status, "ACTIVE");
    t->t = top;
    gale__topology_assign_tasks(top);
    /* the submission's conf is the topology conf as gale jar sent it */
    t->workers =
        (int)gale_conf_get_int(conf, GALE_CONF_TOPOLOGY_WORKERS,
                               gale_conf_get_int(top->conf, GALE_CONF_TOPOLOGY_WORKERS, 1));
    t->message_timeout = gale_conf_get_int(
        conf, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS,
        gale_conf_get_int(top->conf, GALE_CONF_TOPOLOGY_MESSAGE_TIMEOUT_SECS, 30));
    t->conf = gale_conf_dup(conf);
    if (!t->conf || gale__nb_topo_execs(t)) {
        gale__nb_topo_free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->assigned_ns = gale__now_ns();
    return t;
}

static void put_u64(nimbus_t *nb, const char *key, uint64_t v) {
    char buf[32], err[256];
    snprintf(buf, sizeof buf, "%" PRIu64 "\n", v);
    if (gale__store_put(nb->store, key, buf, strlen(buf), err, sizeof err))
        GALE_ERROR(NB, 0, "store: %s", err);
}

static uint64_t get_u64(nimbus_t *nb, const char *key) {
    void *v;
    size_t n;
    char err[256];
    if (gale__store_get(nb->store, key, &v, &n, err, sizeof err)) return 0;
    uint64_t r = strtoull(v, NULL, 10);
    free(v);
    return r;
}

void gale__nb_bump_version(nimbus_t *nb) {
    put_u64(nb, "meta/version", ++nb->version);
    gale__nb_push_version(nb);
}

int gale__nb_topo_save_meta(nimbus_t *nb, nb_topo_t *t) {
    char key[300], buf[512], err[256];
    snprintf(key, sizeof key, "topologies/%s/status", t->id);
    snprintf(buf, sizeof buf,
             "status=%s\nafter=%s\nsubmit=%" PRId64 "\ntimer_ms=%" PRId64 "\nrb_workers=%" PRId64
             "\nworkers=%d\n",
             t->status, t->after, t->submit_epoch, t->timer_ms, t->rb_workers, t->workers);
    int rc = gale__store_put(nb->store, key, buf, strlen(buf), err, sizeof err);
    if (rc) GALE_ERROR(NB, 0, "store: %s", err);
    return rc;
}

int gale__nb_topo_save_assignment(nimbus_t *nb, nb_topo_t *t) {
    gale__ctl_executor_slot_t *slots = calloc(t->n_places ? t->n_places : 1, sizeof *slots);
    if (!slots) return GALE_ENOMEM;
    for (size_t i = 0; i < t->n_places; i++) {
        const gale__sched_place_t *p = &t->places[i];
        slots[i] = (gale__ctl_executor_slot_t){
            (uint64_t)p->start, (uint64_t)p->end, p->supervisor, p->host,
            (uint64_t)p->port,  GALE_CTL_UNSET,   NULL};
    }
    gale__ctl_topology_assignment_t a = {
        t->id, t->status, t->version, {slots, (uint32_t)t->n_places}};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    char key[300], err[512];
    snprintf(key, sizeof key, "assignments/%s", t->id);
    int rc = gale__ctl_assignment_encode(&sb, &a, err, sizeof err);
    if (!rc) rc = gale__store_put(nb->store, key, sb.data, sb.size, err, sizeof err);
    if (rc) GALE_ERROR(NB, 0, "store: %s", err);
    msgpack_sbuffer_destroy(&sb);
    free(slots);
    return rc;
}

static void parse_meta(nb_topo_t *t, char *text) {
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(line, "status") == 0)
            snprintf(t->status, sizeof t->status, "%s", v);
        else if (strcmp(line, "after") == 0)
            snprintf(t->after, sizeof t->after, "%s", v);
        else if (strcmp(line, "submit") == 0)
            t->submit_epoch = strtoll(v, NULL, 10);
        else if (strcmp(line, "timer_ms") == 0)
            t->timer_ms = strtoll(v, NULL, 10);
        else if (strcmp(line, "rb_workers") == 0)
            t->rb_workers = strtoll(v, NULL, 10);
        else if (strcmp(line, "workers") == 0 && atoi(v) > 0)
            t->workers = atoi(v);
    }
    if (strcmp(t->status, "ACTIVE") && strcmp(t->status, "INACTIVE") &&
        strcmp(t->status, "KILLED") && strcmp(t->status, "REBALANCING"))
        strcpy(t->status, "ACTIVE");
}

static void remove_topology_keys(nimbus_t *nb, const char *id) {
    char key[300], err[256];
    for (int p = 0; p < PART__COUNT; p++) {
        snprintf(key, sizeof key, "topologies/%s/%s", id, gale__nimbus_parts[p]);
        gale__store_delete(nb->store, key, err, sizeof err);
    }
    snprintf(key, sizeof key, "topologies/%s/status", id);
    gale__store_delete(nb->store, key, err, sizeof err);
    snprintf(key, sizeof key, "assignments/%s", id);
    gale__store_delete(nb->store, key, err, sizeof err);
}

/* Sums of every part, for code_fetch (computed once, at load). */
static int load_sums(nimbus_t *nb, nb_topo_t *t, char *err, size_t errlen) {
    for (int p = 0; p < PART__COUNT; p++) {
        char key[300];
        void *v;
        size_t n;
        snprintf(key, sizeof key, "topologies/%s/%s", t->id, gale__nimbus_parts[p]);
        int rc = gale__store_get(nb->store, key, &v, &n, err, errlen);
        if (rc == GALE_ENOENT && p == PART_RESOURCES) {
            v = NULL;
            n = 0;
        } else if (rc) {
            return rc;
        }
        t->size[p] = n;
        gale__checksum(v ? v : "", n, t->sum[p]);
        free(v);
    }
    return 0;
}

static void load_assignment(nimbus_t *nb, nb_topo_t *t) {
    char key[300], err[512];
    void *v;
    size_t n;
    snprintf(key, sizeof key, "assignments/%s", t->id);
    if (gale__store_get(nb->store, key, &v, &n, err, sizeof err)) return;
    gale__ctl_assignment_file_t f;
    if (gale__ctl_assignment_decode(v, n, &f, err, sizeof err) == 0) {
        t->version = f.a.version;
        t->places = calloc(f.a.executors.n ? f.a.executors.n : 1, sizeof *t->places);
        for (uint32_t i = 0; t->places && i < f.a.executors.n; i++) {
            const gale__ctl_executor_slot_t *s = &f.a.executors.items[i];
            t->places[i] =
                (gale__sched_place_t){(int32_t)s->start, (int32_t)s->end, strdup(s->supervisor),
                                      strdup(s->host), (int)s->port};
            t->n_places++;
        }
    } else {
        GALE_WARN(NB, 0, "%s: stored assignment unreadable (%s): scheduling again", t->id, err);
    }
    gale__ctl_assignment_file_free(&f);
    free(v);
}

static int load_one(nimbus_t *nb, const char *id, char *err, size_t errlen) {
    char key[300];
    void *meta = NULL, *tb = NULL, *cb = NULL;
    size_t mn, tn, cn;
    gale_conf_t *conf = gale_conf_new();
    gale__topology_t *top = NULL;
    snprintf(key, sizeof key, "topologies/%s/status", id);
    int rc = gale__store_get(nb->store, key, &meta, &mn, err, errlen);
    if (rc == GALE_ENOENT) {
        GALE_WARN(NB, 0, "%s: a submission cut short (no status): removing its parts", id);
        remove_topology_keys(nb, id);
        gale_conf_destroy(conf);
        return 0;
    }
    snprintf(key, sizeof key, "topologies/%s/topology", id);
    if (!rc) rc = gale__store_get(nb->store, key, &tb, &tn, err, errlen);
    snprintf(key, sizeof key, "topologies/%s/conf", id);
    if (!rc) rc = gale__store_get(nb->store, key, &cb, &cn, err, errlen);
    if (!rc) rc = gale__topology_unpack(tb, tn, &top, err, errlen);
    if (!rc) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        rc = gale__msgpack_unpack_whole(cb, cn, &u, "conf", err, errlen);
        if (!rc && (!conf || gale__conf_from_msgpack(conf, &u.data))) rc = GALE_EPROTO;
        msgpack_unpacked_destroy(&u);
    }
    nb_topo_t *t = NULL;
    if (!rc) {
        t = gale__nb_topo_new(nb, id, top, conf, err, errlen);
        top = NULL;
        if (!t) rc = GALE_ENOMEM;
    }
    if (!rc) {
        parse_meta(t, meta);
        rc = gale__nb_topo_execs(t); /* with the worker count of the last rebalance */
        if (!rc) rc = load_sums(nb, t, err, errlen);
    }
    if (!rc) {
        load_assignment(nb, t);
        nb_topo_t **grown = realloc(nb->topos, (nb->n_topos + 1) * sizeof *grown);
        if (!grown)
            rc = GALE_ENOMEM;
        else {
            nb->topos = grown;
            nb->topos[nb->n_topos++] = t;
            t = NULL;
        }
    }
    gale__nb_topo_free(t);
    gale__topology_destroy(top);
    gale_conf_destroy(conf);
    free(meta);
    free(tb);
    free(cb);
    return rc;
}

int gale__nb_recover(nimbus_t *nb, char *err, size_t errlen) {
    nb->counter = get_u64(nb, "meta/counter");
    nb->version = get_u64(nb, "meta/version");
    char **ids = NULL;
    size_t n = 0;
    int rc = gale__store_list(nb->store, "topologies", &ids, &n, err, errlen);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        char why[512];
        if (load_one(nb, ids[i], why, sizeof why))
            GALE_ERROR(NB, 0, "topology %s cannot be recovered: %s (its files stay in the store)",
                       ids[i], why);
        else if (gale__nb_topo_find(nb, ids[i]))
            GALE_INFO(NB, 0, "recovered %s (%s)", ids[i], gale__nb_topo_find(nb, ids[i])->status);
    }
    gale__store_list_free(ids, n);
    nb->dirty = true;
    return 0;
}

void gale__nb_topos_free(nimbus_t *nb) {
    for (size_t i = 0; i < nb->n_topos; i++) gale__nb_topo_free(nb->topos[i]);
    for (size_t i = 0; i < nb->n_gone; i++) gale__nb_topo_free(nb->gone[i]);
    nb->n_gone = 0;
    free(nb->topos);
    nb->topos = NULL;
    nb->n_topos = 0;
}

static size_t distinct_slots(const nb_topo_t *t) {
    size_t n = 0;
    for (size_t i = 0; i < t->n_places; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = t->places[j].port == t->places[i].port &&
                   strcmp(t->places[j].supervisor, t->places[i].supervisor) == 0;
        n += !seen;
    }
    return n;
}

void gale__nb_list(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    const char *only = m->u.list.name;
    gale__ctl_topology_summary_t *items = calloc(nb->n_topos ? nb->n_topos : 1, sizeof *items);
    if (!items) return gale__nb_reply_err(nb, p, m->req, "nimbus is out of memory");
    uint32_t n = 0;
    int64_t now = wall();
    for (size_t i = 0; i < nb->n_topos; i++) {
        nb_topo_t *t = nb->topos[i];
        if (only && strcmp(only, t->name) && strcmp(only, t->id)) continue;
        items[n++] = (gale__ctl_topology_summary_t){
            t->name,
            t->id,
            t->status,
            (uint64_t)(now > t->submit_epoch ? now - t->submit_epoch : 0),
            distinct_slots(t),
            t->n_execs,
            t->n_execs ? (uint64_t)t->execs[t->n_execs - 1].end : 0,
            gale__nb_topo_done(nb, t),
            gale__nb_topo_restarts(nb, t)};
    }
    if (only && n == 0) {
        free(items);
        return gale__nb_reply_err(nb, p, m->req, "no topology named '%s' is running", only);
    }
    gale__ctl_list_reply_t r = {true, NULL, {items, n}};
    char err[256];
    if (gale__ctl_server_send(nb->router, p, GALE_CTL_LIST_REPLY, m->req, &r, err, sizeof err)) {
        /* answered all the same: silence reads as "cannot reach nimbus" */
        GALE_WARN(NB, 0, "list: %s", err);
        gale__nb_reply_err(nb, p, m->req, "nimbus cannot send the list: %s", err);
    }
    free(items);
}

/* A status change travels to the workers in the assignment. */
static void set_status(nimbus_t *nb, nb_topo_t *t, const char *status) {
    snprintf(t->status, sizeof t->status, "%s", status);
    t->version++;
    gale__nb_topo_save_meta(nb, t);
    gale__nb_topo_save_assignment(nb, t);
    gale__nb_bump_version(nb);
}

/* -e COMPONENT=N: a new executor count for a component (at most its
 * tasks, which are fixed for the topology's life, as in Storm). */
static int apply_executor_counts(nimbus_t *nb, nb_topo_t *t, const gale__ctl_rebalance_t *r,
                                 char *why, size_t cap) {
    for (uint32_t i = 0; i < r->executors.n; i++) {
        const gale__ctl_component_count_t *cc = &r->executors.items[i];
        const gale__component_t *c = gale__topology_component(t->t, cc->component);
        if (!c) {
            snprintf(why, cap, "topology '%s' has no component '%s'", t->name, cc->component);
            return GALE_ENOENT;
        }
        if (cc->executors > (uint64_t)c->tasks) {
            snprintf(why, cap,
                     "component '%s' has %d tasks: it cannot run %llu executors (tasks are "
                     "fixed at submit; give at most %d)",
                     c->id, c->tasks, (unsigned long long)cc->executors, c->tasks);
            return GALE_ERANGE;
        }
    }
    if (!r->executors.n) return 0;
    /* the new total, counted before anything changes (a later -e for the
     * same component wins, as when they are applied) */
    size_t total = gale__nb_exec_count(t->t, t->conf);
    for (size_t k = 0; k < t->t->n_components; k++) {
        const gale__component_t *c = &t->t->components[k];
        const gale__ctl_component_count_t *last = NULL;
        for (uint32_t i = 0; i < r->executors.n; i++)
            if (strcmp(r->executors.items[i].component, c->id) == 0) last = &r->executors.items[i];
        if (last) total += (size_t)last->executors - (size_t)c->parallelism;
    }
    if (total > GALE_NB_MAX_EXECUTORS) {
        snprintf(why, cap,
                 "topology '%s' would run %zu executors: a topology runs at most %d (give "
                 "smaller -e counts)",
                 t->name, total, GALE_NB_MAX_EXECUTORS);
        return GALE_ERANGE;
    }
    for (uint32_t i = 0; i < r->executors.n; i++) {
        gale__component_t *c =
            (gale__component_t *)gale__topology_component(t->t, r->executors.items[i].component);
        c->parallelism = (int)r->executors.items[i].executors;
    }
    /* the stored topology is what workers run: store the new counts */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char key[300], err[256];
    snprintf(key, sizeof key, "topologies/%s/topology", t->id);
    int rc = gale__topology_pack(&pk, t->t);
    if (!rc) rc = gale__store_put(nb->store, key, sb.data, sb.size, err, sizeof err);
    if (!rc) {
        t->size[PART_TOPOLOGY] = sb.size;
        gale__checksum(sb.data, sb.size, t->sum[PART_TOPOLOGY]);
    }
    msgpack_sbuffer_destroy(&sb);
    if (!rc) rc = gale__nb_topo_execs(t); /* placed when the rebalance ends */
    if (rc) snprintf(why, cap, "cannot store the new executor counts");
    return rc;
}

void gale__nb_lifecycle(nimbus_t *nb, const gale__ctl_peer_t *p, const gale__ctl_msg_t *m) {
    const char *name = m->u.kill.name; /* every life-cycle request starts with name */
    if (m->type == GALE_CTL_ACTIVATE) name = m->u.activate.name;
    if (m->type == GALE_CTL_DEACTIVATE) name = m->u.deactivate.name;
    if (m->type == GALE_CTL_REBALANCE) name = m->u.rebalance.name;
    nb_topo_t *t = gale__nb_topo_find(nb, name);
    if (!t) return gale__nb_reply_err(nb, p, m->req, "no topology named '%s' is running", name);
    if (strcmp(t->status, "KILLED") == 0)
        return gale__nb_reply_err(nb, p, m->req, "topology '%s' is being killed", t->name);
    char why[512];
    switch (m->type) {
        case GALE_CTL_ACTIVATE:
        case GALE_CTL_DEACTIVATE: {
            bool on = m->type == GALE_CTL_ACTIVATE;
            if (strcmp(t->status, "REBALANCING") == 0) {
                /* remembered for when the rebalance ends */
                strcpy(t->after, on ? "ACTIVE" : "INACTIVE");
                gale__nb_topo_save_meta(nb, t);
            } else if (strcmp(t->status, on ? "ACTIVE" : "INACTIVE") != 0) {
                set_status(nb, t, on ? "ACTIVE" : "INACTIVE");
            }
            GALE_INFO(NB, 0, "%s: %s", t->id, on ? "activated" : "deactivated");
            return gale__nb_reply_ok(nb, p, m->req, t->id);
        }
        case GALE_CTL_KILL: {
            uint64_t w = m->u.kill.wait_secs;
            if (w == GALE_CTL_UNSET) w = (uint64_t)t->message_timeout;
            /* logged before the wait starts and the status is saved (an
             * fsync): the line's time is never later than the wait's start */
            GALE_INFO(NB, 0, "%s: killed; removing it in %llu s", t->id, (unsigned long long)w);
            t->timer_ms = wall_ms() + (int64_t)w * 1000;
            set_status(nb, t, "KILLED");
            return gale__nb_reply_wait(nb, p, m->req, t->id, w);
        }
        case GALE_CTL_REBALANCE: {
            const gale__ctl_rebalance_t *r = &m->u.rebalance;
            if (strcmp(t->status, "REBALANCING") == 0)
                return gale__nb_reply_err(nb, p, m->req, "topology '%s' is already rebalancing",
                                          t->name);
            size_t slots = gale__nb_live_slots(nb);
            if (r->workers != GALE_CTL_UNSET && r->workers > slots)
                return gale__nb_reply_err(nb, p, m->req,
                                          "cannot rebalance '%s' onto %llu workers: the cluster "
                                          "has %zu worker slots; ask for fewer or start more "
                                          "supervisors",
                                          t->name, (unsigned long long)r->workers, slots);
            if (apply_executor_counts(nb, t, r, why, sizeof why))
                return gale__nb_reply_err(nb, p, m->req, "%s", why);
            uint64_t w =
                r->wait_secs == GALE_CTL_UNSET ? (uint64_t)t->message_timeout : r->wait_secs;
            snprintf(t->after, sizeof t->after, "%s", t->status);
            t->rb_workers = r->workers == GALE_CTL_UNSET ? 0 : (int64_t)r->workers;
            t->timer_ms = wall_ms() + (int64_t)w * 1000;
            set_status(nb, t, "REBALANCING");
            GALE_INFO(NB, 0, "%s: rebalancing in %llu s", t->id, (unsigned long long)w);
            return gale__nb_reply_wait(nb, p, m->req, t->id, w);
        }
        default:
            return gale__nb_reply_err(nb, p, m->req, "not a life-cycle request");
    }
}

/* t leaves the running set: keep its record (and where its workers ran)
 * among the last GALE_NB_GONE_MAX removed, for `gale logs`. */
static void keep_gone(nimbus_t *nb, nb_topo_t *t) {
    if (nb->n_gone == GALE_NB_GONE_MAX) {
        gale__nb_topo_free(nb->gone[0]);
        memmove(nb->gone, nb->gone + 1, (GALE_NB_GONE_MAX - 1) * sizeof nb->gone[0]);
        nb->n_gone--;
    }
    nb->gone[nb->n_gone++] = t;
}

void gale__nb_timers(nimbus_t *nb) {
    int64_t now = wall_ms();
    for (size_t i = 0; i < nb->n_topos;) {
        nb_topo_t *t = nb->topos[i];
        if (strcmp(t->status, "KILLED") == 0 && now >= t->timer_ms) {
            GALE_INFO(NB, 0, "%s: removed", t->id);
            remove_topology_keys(nb, t->id);
            keep_gone(nb, t);
            nb->topos[i] = nb->topos[--nb->n_topos];
            gale__nb_bump_version(nb);
            continue;
        }
        if (strcmp(t->status, "REBALANCING") == 0 && now >= t->timer_ms) {
            if (t->rb_workers > 0) t->workers = (int)t->rb_workers;
            t->rb_workers = 0;
            gale__nb_topo_execs(t); /* -e counts took effect in the stored topology */
            snprintf(t->status, sizeof t->status, "%s", t->after[0] ? t->after : "ACTIVE");
            t->after[0] = '\0';
            gale__nb_schedule(nb, t, true);
            gale__nb_topo_save_meta(nb, t);
            GALE_INFO(NB, 0, "%s: rebalanced onto %zu worker(s), %s", t->id, distinct_slots(t),
                      t->status);
        }
        i++;
    }
}
